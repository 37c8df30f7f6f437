"""Input-pipeline throughput beside what a training step consumes (`make bench`).

For each budget (batch x patch, with the architecture that trains at it: the paper's
DeblurNet at 16 x 256², the CPU recipe's at its patches): samples/s the tf.data pipeline
delivers with the blur preset (motion swept through every frame of the stack), and the
samples/s one training step consumes on this machine. The pipeline should deliver at
least 3x the demand so that training never waits for data.

The pipeline is measured on each of --cores (its threads pinned to that many cores, with
tf.data's and OpenCV's thread pools that size) and each of --reuses (train_deblur.py's
--blur_reuse), the rounds interleaved so that a busy machine slows every setting alike;
CPU s/sample (the process's CPU time over the samples) is the figure least moved by other work. `--nostep` skips the
training step. docs/data.md ("Speed of the blur synthesis") gives the command and numbers.
"""
import dataclasses
import os
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
flags.DEFINE_bool("step", True, "Also time the training step (--nostep: the pipeline only).")
flags.DEFINE_list("cores", ["2"], "Core counts to measure the pipeline on (each at most this machine's).")
flags.DEFINE_list("reuses", ["1"], "Values of train_deblur.py's --blur_reuse to measure (samples each swept frame "
                  "serves: data/pipeline.py PipelineConfig.blur_reuse).")
flags.register_validator("reuses", lambda v: all(r.isdigit() and int(r) >= 1 for r in v),
                         "--reuses must be whole numbers >= 1")
flags.DEFINE_integer("rounds", 1, "Rounds over every (cores, reuses), interleaved.")
FLAGS = flags.FLAGS
ALLOWED = sorted(os.sched_getaffinity(0))   # the cores this process was given


def pin(cores):
    """Every thread of this process (and those it starts later) on the first `cores` cores."""
    if not 1 <= cores <= len(ALLOWED):
        raise ValueError(f"--cores={cores}: this process may use 1 to {len(ALLOWED)} cores")
    for tid in os.listdir("/proc/self/task"):
        try:
            os.sched_setaffinity(int(tid), ALLOWED[:cores])
        except OSError:   # a thread that ended meanwhile
            pass


def pipeline_rate(batch, patch, cores, reuse):
    """-> samples/s, CPU s per sample, mean PSNR (dB) of the blurry centre frame against the sharp one."""
    import cv2
    import numpy as np
    from deblur3d.data import pipeline
    pin(cores)
    cv2.setNumThreads(cores)
    config = pipeline.PipelineConfig(cache_dir=FLAGS.cache_dir, split=FLAGS.split, batch_size=batch,
                                     patch_size=patch, blur=data_flags.blur_config(),
                                     **({"blur_reuse": reuse} if reuse > 1 else {}))   # runs on older versions too
    options = tf.data.Options()
    options.threading.private_threadpool_size = cores
    batches = iter(pipeline.training_dataset(config).with_options(options))
    for _ in range(FLAGS.warmup):
        next(batches)
    start, cpu, psnrs = time.perf_counter(), time.process_time(), []
    for _ in range(FLAGS.batches):
        b = next(batches)
        error = np.mean((b["blurry"].numpy()[..., 6:9] - b["sharp"].numpy()) ** 2, axis=(1, 2, 3))
        psnrs += list(10 * np.log10(1.0 / np.maximum(error, 1e-10)))
    samples = FLAGS.batches * batch
    return samples / (time.perf_counter() - start), (time.process_time() - cpu) / samples, float(np.mean(psnrs))


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
    settings = [(int(c), int(r)) for c in FLAGS.cores for r in FLAGS.reuses]
    for budget in FLAGS.budgets:
        size, _, recipe = budget.partition(":")
        batch, patch = (int(v) for v in size.split("x"))
        delivered = {}
        try:
            for _ in range(FLAGS.rounds):
                for cores, reuse in settings:
                    rate, cpu, psnr = pipeline_rate(batch, patch, cores, reuse)
                    delivered.setdefault((cores, reuse), []).append(rate)
                    print(f"batch {batch} x {patch}², {cores} core(s), blur_reuse {reuse}: pipeline {rate:7.1f} "
                          f"samples/s, {cpu:.3f} CPU s/sample, centre frame {psnr:5.2f} dB", flush=True)
        except FileNotFoundError as err:
            print(f"bench_data: skipped ({err})")
            return
        finally:
            pin(len(ALLOWED))
        if FLAGS.step:
            import numpy as np
            consumed = step_rate(batch, patch, recipe or "paper")
            best = max(np.median(v) for v in delivered.values())
            print(f"batch {batch} x {patch}², {recipe} recipe: pipeline {best:7.1f} samples/s (best median), "
                  f"training step consumes {consumed:6.2f} samples/s: {best / consumed:6.1f}x the demand")


if __name__ == "__main__":
    cli.run(main)
