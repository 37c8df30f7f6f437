"""Learning speed: val gain over the blurry input against wall-clock minutes of training.

Trains one configuration (every flag of train_deblur.py) for --minutes of training time on
this machine and scores it every --eval_minutes on fixed frames it never trains on: our val
runs with the configured blur (every --every-th frame, the same motion each time) and the
authors' vd001 pairs with their own blur. Scoring time is not counted. Not part of
`make bench`: it takes as long as you give it. Prints a table, writes <out>/curve.json and
<out>/deblur.weights.npz (scored by `make eval ARGS=--checkpoints=name=<file>`).

    python experiments/bench_learning.py --minutes=30 --out=runs/learn/cpu --priors=none \\
        --nouse_render --nouse_identity --residual --zero_out --res_scale=0.2 --kernel=3 \\
        --content=charbonnier --schedule=cosine --learning_rate=3e-4 --warmup_steps=100 \\
        --patch_size=64 --batch_size=16 --steps=2000
"""
import json
import time
from pathlib import Path

import numpy as np
from absl import flags

import cli  # first: it imports TensorFlow quietly (deblur3d/__init__.py)
import shared_flags
from shared_flags import Own
import tensorflow as tf
import train_deblur

shared_flags.define("every")
flags.adopt_module_key_flags(train_deblur)
flags.DEFINE_float("minutes", 30, "Training time budget in minutes (scoring excluded).")
flags.DEFINE_float("eval_minutes", 5, "Score every this many training minutes.")
shared_flags.define(out=Own("runs/learn/bench", "Folder for curve.json and the final weights."))
FLAGS = flags.FLAGS


def scoring_frames(config):
    """[(source, blurry (1,H,W,15), sharp (H,W,3), render or None, identity or None)]"""
    from deblur3d.data.pipeline import PipelineConfig, evaluation_dataset
    from deblur3d.deblur.task import precomputed_priors
    priors_dir = config.priors_dir if config.needs_priors and config.priors == "precomputed" else None
    frames = []
    pipeline = PipelineConfig(cache_dir=config.cache_dir, split="val", blur=config.blur, priors_dir=priors_dir)
    for source, dataset in (("val", evaluation_dataset(pipeline, every=FLAGS.every, stored_blur=False)),
                            ("vd001", evaluation_dataset(pipeline, stored_blur=True))):   # every authors' frame
        for s in dataset:
            render, identity = precomputed_priors(s)
            frames.append((source, s["blurry"].numpy(), s["sharp"][0].numpy(),
                           None if render is None else render.numpy(), None if identity is None else identity.numpy()))
    return frames


def gains(deblurrer, frames):
    """Mean PSNR gain (dB) of the output over the blurry centre frame, per source."""
    from deblur3d.eval import metrics
    out = {}
    for source, blurry, sharp, render, identity in frames:
        result = deblurrer(blurry, render if deblurrer.needs_render else None,
                           identity if deblurrer.needs_identity else None)[0].numpy()
        gain = metrics.psnr(result, sharp) - metrics.psnr(blurry[0, ..., 6:9], sharp)
        out.setdefault(source, []).append(gain)
    return {k: (float(np.mean(v)), float(np.mean(np.array(v) > 0))) for k, v in out.items()}


def main(_):

    from deblur3d.deblur import training
    from deblur3d.deblur.inference import Deblurrer
    from deblur3d.train import loop
    from deblur3d.train.step import make_train_step
    config = train_deblur.config_from_flags()
    tf.keras.utils.set_random_seed(config.train.seed)
    batches = iter(training.training_data(config))
    net, task = training.make_task(config)
    optimizer = config.train.optimizer()
    first = next(batches)
    loop.build(task, optimizer, first)
    step = make_train_step(task, optimizer, jit_compile=config.train.jit_compile)
    frames = scoring_frames(config)
    deblurrer = Deblurrer(net)
    out = Path(FLAGS.out)
    out.mkdir(parents=True, exist_ok=True)
    curve, trained, steps, next_eval, losses = [], 0.0, 0, 0.0, {}
    print(f"{'minutes':>8} {'steps':>6} {'loss':>9} | val gain dB (share better) | vd001 gain dB (share better)")
    while True:
        if trained >= next_eval * 60 or trained >= FLAGS.minutes * 60:
            g = gains(deblurrer, frames)
            row = dict(minutes=trained / 60, steps=steps, **{f"{k}_gain": v[0] for k, v in g.items()},
                       **{f"{k}_better": v[1] for k, v in g.items()})
            curve.append(row)
            print(f"{trained / 60:8.1f} {steps:6d} {float(losses['total']) if steps else float('nan'):9.4g} | "
                  f"{g['val'][0]:+8.3f} ({g['val'][1]:.0%})          | {g.get('vd001', (np.nan, 0))[0]:+8.3f} "
                  f"({g.get('vd001', (np.nan, 0))[1]:.0%})", flush=True)
            (out / "curve.json").write_text(json.dumps(dict(config=repr(config), curve=curve), indent=1))
            next_eval += FLAGS.eval_minutes
            if trained >= FLAGS.minutes * 60 or steps >= config.train.steps:
                break
        start = time.perf_counter()
        losses = step(next(batches))
        float(losses["total"])
        trained += time.perf_counter() - start
        steps += 1
        if steps >= config.train.steps:
            next_eval = 0
    training.export_weights(net, config, out / "deblur.weights.npz", steps=steps, minutes=trained / 60)
    print(f"wrote {out / 'curve.json'} and {out / 'deblur.weights.npz'}")


if __name__ == "__main__":
    cli.run(main)
