"""Runs a few training steps of a small DeblurNet under a strategy; prints a JSON summary.

Used by test_train_distribute.py in subprocesses: logical CPU devices and TF_CONFIG
must be set before TensorFlow starts.
"""
import json
import sys

import numpy as np


def main(strategy_name, cpus, steps, run_dir):
    from deblur3d.train import strategies
    if cpus > 1:
        strategies.split_cpu(cpus)
    import tensorflow as tf

    from deblur3d.deblur.model import DeblurNet
    from deblur3d.deblur.task import DeblurTask
    from deblur3d.train import loop, schedules
    from deblur3d.train.config import TrainSchedule

    strategy = strategies.make_strategy(strategy_name)
    rng = np.random.default_rng(0)
    sharp = rng.uniform(size=(4, 40, 40, 3)).astype(np.float32)
    batch = {"blurry": np.concatenate([sharp] * 5, -1) * 0.9, "sharp": sharp,
             "render": sharp * 0.5, "coeffs": rng.normal(size=(4, 239)).astype(np.float32)}
    dataset = tf.data.Dataset.from_tensors(batch).repeat()
    with strategy.scope():
        tf.keras.utils.set_random_seed(0)
        task = DeblurTask(DeblurNet(widths=(8, 16, 16), blocks=1))
        optimizer = schedules.adam(schedules.learning_rate("paper", initial=1e-3))
        # Variables are made on first use: inside the scope, so they are mirrored.
        first_loss = float(task.losses({k: tf.constant(v) for k, v in batch.items()})["total"])
    losses = loop.train(task, optimizer, dataset, {"net": task.net},
                        TrainSchedule(steps=steps, checkpoint_every=steps).loop_config(run_dir),
                        strategy=strategy, log=lambda *_: None)
    print(json.dumps({"replicas": strategy.num_replicas_in_sync, "first_loss": first_loss,
                      "loss": losses["total"], "steps": int(optimizer.iterations.numpy()),
                      "weights": float(sum(np.abs(w.numpy()).sum() for w in task.net.weights))}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
