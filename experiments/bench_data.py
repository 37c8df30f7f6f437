"""Input-pipeline throughput beside what a training step consumes (`make bench`).

For each budget (batch x patch, with the architecture that trains at it: the paper's
DeblurNet at 16 x 256², the CPU recipe's at its patches): samples/s the tf.data pipeline
delivers with the blur preset (motion swept through every frame of the stack), and the
samples/s one training step consumes on this machine. The pipeline should deliver at
least 3x the demand so that training never waits for data.
"""
import dataclasses
import time

from absl import flags

import cli  # first: it imports TensorFlow quietly (deblur3d/__init__.py)
import tensorflow as tf
import data_flags
import shared_flags
from shared_flags import Own

flags.adopt_module_key_flags(data_flags)
shared_flags.define("cache_dir")
shared_flags.define(split="train")
shared_flags.define(budgets=Own(["16x256:paper", "8x128:cpu", "16x64:cpu"],
                                "batch x patch : recipe (paper or cpu) to measure."))
shared_flags.define(batches=Own(20, "Batches timed after the warm-up."))
flags.DEFINE_integer("warmup", 3, "Batches read before timing (graph tracing, page cache).")
shared_flags.define(steps=Own(3, "Training steps timed after a warm-up step (a paper-size step takes a minute)."))
FLAGS = flags.FLAGS



def pipeline_rate(batch, patch):
    from deblur3d.data import pipeline
    config = pipeline.PipelineConfig(cache_dir=FLAGS.cache_dir, split=FLAGS.split, batch_size=batch,
                                     patch_size=patch, blur=data_flags.blur_config())
    batches = iter(pipeline.training_dataset(config))
    for _ in range(FLAGS.warmup):
        next(batches)
    start = time.perf_counter()
    for _ in range(FLAGS.batches):
        next(batches)
    return FLAGS.batches * batch / (time.perf_counter() - start)


def step_rate(batch, patch, recipe):
    import numpy as np

    from deblur3d.deblur import archs
    from deblur3d.deblur.task import DeblurTask
    from deblur3d.deblur.training import CPU_RECIPE
    from deblur3d.train import loop, schedules
    from deblur3d.train.step import make_train_step
    rng = np.random.default_rng(0)
    data = {"blurry": tf.constant(rng.uniform(size=(batch, patch, patch, 15)), tf.float32),
            "sharp": tf.constant(rng.uniform(size=(batch, patch, patch, 3)), tf.float32)}
    # The recipe's architecture and precision, without priors (the render changes the cost by a few percent).
    names = {f.name for f in dataclasses.fields(archs.Arch)}
    sizes = {k: v for k, v in CPU_RECIPE.items() if k in names} if recipe == "cpu" else {}
    precision = CPU_RECIPE["precision"] if recipe == "cpu" else "float32"
    task = DeblurTask(archs.build(archs.Arch(use_render=False, use_identity=False, **sizes), precision))
    optimizer = schedules.adam(schedules.learning_rate())
    loop.build(task, optimizer, data)
    step = make_train_step(task, optimizer)
    step(data)
    start = time.perf_counter()
    for _ in range(FLAGS.steps):
        float(step(data)["total"])
    return FLAGS.steps * batch / (time.perf_counter() - start)


def main(argv):
    del argv
    print(f"blur: {FLAGS.blur} {' '.join(FLAGS.blur_set)}")
    for budget in FLAGS.budgets:
        size, _, recipe = budget.partition(":")
        batch, patch = (int(v) for v in size.split("x"))
        try:
            delivered = pipeline_rate(batch, patch)
        except FileNotFoundError as err:
            print(f"bench_data: skipped ({err})")
            return
        consumed = step_rate(batch, patch, recipe or "paper")
        print(f"batch {batch} x {patch}², {recipe} recipe: pipeline {delivered:7.1f} samples/s, training step "
              f"consumes {consumed:6.2f} samples/s: {delivered / consumed:6.1f}x the demand")


if __name__ == "__main__":
    cli.run(main)
