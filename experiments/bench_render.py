"""Renderer throughput: renders per second at batch 16, 224×224, forward and forward+backward.

    python experiments/bench_render.py [--face_model=ict] [--batch=16] [--repeats=5]
"""
import os
import platform
import time

from absl import flags

import cli  # first: it imports TensorFlow quietly (deblur3d/__init__.py)
import tensorflow as tf
import shared_flags
from shared_flags import Own

shared_flags.define("data_dir")
shared_flags.define("face_model", "model_path")
flags.DEFINE_integer("batch", 16, "Renders per call.")
shared_flags.define(repeats=Own(5, "Timed calls after one warm-up call."))
FLAGS = flags.FLAGS


def timed(fn, x, repeats):
    fn(x)  # trace and warm up
    start = time.perf_counter()
    for _ in range(repeats):
        fn(x)
    return (time.perf_counter() - start) / repeats


def main(_):
    import numpy as np

    from deblur3d.face import load_face_model
    from deblur3d.face.render import FaceRenderer

    model = load_face_model(FLAGS.face_model, FLAGS.model_path, FLAGS.data_dir)
    renderer = FaceRenderer(model)
    x = tf.constant(np.random.default_rng(0).normal(scale=0.1, size=(FLAGS.batch, 239)), tf.float32)

    @tf.function
    def forward(x):
        return renderer(x).image

    @tf.function
    def forward_backward(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_mean(renderer(x).image)
        return tape.gradient(loss, x)

    print(f"renderer: {model.name} model, {model.num_vertices} vertices, {model.num_triangles} triangles, "
          f"batch {FLAGS.batch} at 224x224; {os.cpu_count()} CPU cores, {platform.processor() or platform.machine()}, "
          f"TensorFlow {tf.__version__}")
    for name, fn in (("forward", forward), ("forward+backward", forward_backward)):
        seconds = timed(fn, x, FLAGS.repeats)
        print(f"  {name:17s} {seconds:6.3f} s per batch = {FLAGS.batch / seconds:6.1f} renders/s")


if __name__ == "__main__":
    cli.run(main)
