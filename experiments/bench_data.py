"""Input-pipeline throughput (`make bench`): training samples/s at batch 16, 256x256 patches.

Compare with the training step's consumption: one step of the paper's configuration takes about
a minute on 2 CPU cores (reproduction notes §9), i.e. well under one sample/s.
"""
import time

from absl import app, flags

from deblur3d.data import cache, pipeline

flags.DEFINE_string("cache_dir", cache.BuildConfig.out, "Data cache built by `make data`.")
flags.DEFINE_string("split", "train", "Split to read.")
flags.DEFINE_integer("batch_size", 16, "Samples per batch.")
flags.DEFINE_integer("patch_size", 256, "Training patch side.")
flags.DEFINE_integer("batches", 40, "Batches timed after the warm-up.")
flags.DEFINE_integer("warmup", 5, "Batches read before timing (graph tracing, page cache).")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    config = pipeline.PipelineConfig(cache_dir=FLAGS.cache_dir, split=FLAGS.split,
                                     batch_size=FLAGS.batch_size, patch_size=FLAGS.patch_size)
    try:
        batches = iter(pipeline.training_dataset(config))
    except FileNotFoundError as err:
        print(f"bench_data: skipped ({err})")
        return
    for _ in range(FLAGS.warmup):
        next(batches)
    start = time.perf_counter()
    for _ in range(FLAGS.batches):
        next(batches)
    seconds = time.perf_counter() - start
    rate = FLAGS.batches * FLAGS.batch_size / seconds
    print(f"input pipeline ({FLAGS.split}, batch {FLAGS.batch_size}, {FLAGS.patch_size}x{FLAGS.patch_size}, "
          f"5-frame stacks): {rate:.0f} samples/s, {1000 * seconds / FLAGS.batches:.0f} ms/batch")


if __name__ == "__main__":
    app.run(main)
