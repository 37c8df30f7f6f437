"""Deblurring speed: training steps/s (paper budget and the CPU reference budget), the
forward time of one 360×450 frame, and the share of an online-priors step spent on priors.
With --xla, also the CPU recipe's step (8 × 128²) with and without XLA, in both precisions;
with --first_widths, the committed 4-block network's step at other first-stage widths.

    python experiments/bench_train.py [--repeats=1] [--xla --repeats=15] [--first_widths=32,45,48 --repeats=5]
"""
import dataclasses
import time

from absl import flags

import cli  # first: it imports TensorFlow quietly (deblur3d/__init__.py)
import shared_flags
from shared_flags import Own
import tensorflow as tf

shared_flags.define(repeats=Own(1, "Timed calls after one warm-up call (a paper-size step takes about a minute)."))
shared_flags.define(budgets=Own(["16x256", "8x64"], "batch x patch pairs to time a training step at."))
shared_flags.define(recon_weights="")
flags.DEFINE_bool("xla", False, "Also time the CPU recipe's step with and without XLA (jit_compile).")
flags.DEFINE_list("first_widths", [], "Also time the CPU recipe's step with 4 blocks (the committed deblur_full) "
                  "at these widths of the first, full-resolution stage (the render adds 3 channels to each).")
FLAGS = flags.FLAGS


def timed(fn, repeats):
    fn()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats


def synthetic_batch(batch, patch):
    import numpy as np
    rng = np.random.default_rng(0)
    points = np.array([[100, 110], [156, 110], [128, 140], [106, 170], [150, 170]], np.float32) * patch / 256
    return {"blurry": tf.constant(rng.uniform(size=(batch, patch, patch, 15)), tf.float32),
            "sharp": tf.constant(rng.uniform(size=(batch, patch, patch, 3)), tf.float32),
            "render": tf.zeros([batch, patch, patch, 3]), "coeffs": tf.zeros([batch, 239]),
            "points5": tf.constant(np.tile(points, (batch, 1, 1)))}


def main(_):

    from deblur3d.deblur.model import DeblurNet
    from deblur3d.deblur.task import DeblurTask
    from deblur3d.priors.online import build_online_priors
    from deblur3d.priors.settings import PriorsSettings
    from deblur3d.train import loop, schedules
    from deblur3d.train.step import make_train_step

    def step_time(task, batch, jit_compile=False):
        optimizer = schedules.adam(schedules.learning_rate())
        loop.build(task, optimizer, batch)
        step = make_train_step(task, optimizer, jit_compile=jit_compile)
        if jit_compile:
            step(batch)   # a second warm-up call: XLA compiles on the first ones
        return timed(lambda: step(batch), FLAGS.repeats)

    if FLAGS.xla:
        xla_table(step_time)
    if FLAGS.first_widths:
        width_table(step_time, [int(w) for w in FLAGS.first_widths])

    print("deblurring branch (full model: render + identity), CPU:")
    for budget in FLAGS.budgets:
        batch_size, patch = (int(v) for v in budget.split("x"))
        seconds = step_time(DeblurTask(DeblurNet()), synthetic_batch(batch_size, patch))
        print(f"  training step, batch {batch_size} x {patch}²: {seconds:7.2f} s = {1 / seconds:6.3f} steps/s")

    net = DeblurNet()
    frame = tf.zeros([1, 360, 452, 15])  # 450 padded to a multiple of 4
    forward = tf.function(lambda: net(frame, tf.zeros([1, 360, 452, 3]), tf.zeros([1, 80])))
    print(f"  forward, one 360x450 frame: {timed(forward, FLAGS.repeats):.2f} s")

    online = build_online_priors(PriorsSettings(recon_weights=FLAGS.recon_weights or None))
    batch = synthetic_batch(8, 64)
    priors_only = tf.function(lambda: online(batch))
    prior_seconds = timed(priors_only, FLAGS.repeats)
    total = step_time(DeblurTask(DeblurNet(), priors=online), batch)
    print(f"  online priors, batch 8 x 64²: step {total:.2f} s, of which ReconNet + render {prior_seconds:.2f} s "
          f"({100 * prior_seconds / total:.0f}%)")


def cpu_recipe_arch(**changes):
    from deblur3d.deblur import archs
    from deblur3d.deblur.training import CPU_RECIPE
    fields = {f.name for f in dataclasses.fields(archs.Arch)}
    return archs.Arch(**{**{k: v for k, v in CPU_RECIPE.items() if k in fields}, **changes})


def width_table(step_time, first_widths):
    """Full resolution holds most of the cost, and oneDNN's speed depends on channel counts,
    not only on their number: a wider first stage can cost almost nothing
    (docs/results.md#a-wider-first-stage-deblur_full-42500-steps)."""
    from deblur3d.deblur import archs
    from deblur3d.deblur.task import DeblurTask
    from deblur3d.deblur.training import CPU_RECIPE
    print("CPU recipe step, full model, 4 blocks, bfloat16, batch 8 x 128², by first-stage width:")
    for width in first_widths:
        arch = cpu_recipe_arch(blocks=4, widths=(width, 64, 128))
        task = DeblurTask(archs.build(arch, CPU_RECIPE["precision"]), content=CPU_RECIPE["content"])
        seconds = step_time(task, synthetic_batch(8, 128))
        print(f"  {width:3d} (+3 render = {width + 3:3d} channels): {seconds:6.3f} s/step")


def xla_table(step_time):
    """The CPU recipe's full model at 8 × 128²: XLA against TensorFlow's own kernels."""
    from deblur3d.deblur import archs
    from deblur3d.deblur.task import DeblurTask
    from deblur3d.deblur.training import CPU_RECIPE
    arch = cpu_recipe_arch()
    print("CPU recipe step, full model, batch 8 x 128²:")
    for precision in ("mixed_bfloat16", "float32"):
        for jit_compile in (False, True):
            task = DeblurTask(archs.build(arch, precision), content=CPU_RECIPE["content"])
            seconds = step_time(task, synthetic_batch(8, 128), jit_compile)
            print(f"  {precision:15s} {'XLA' if jit_compile else 'no XLA':6s}: {seconds:6.3f} s/step")


if __name__ == "__main__":
    cli.run(main)
