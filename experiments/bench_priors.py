"""Seconds a face for the default priors: ReconNet on the 224 crop, then light and albedo
solved in closed form on it as the default recipe says (deblur3d/priors/settings.py,
texture.py), one face at a time as the video tool makes them; the basis fit and the
teacher fit (MediaPipe + the ICT fit) beside it.

    python experiments/bench_priors.py [--weights=checkpoints/recon_people.weights.npz] [--repeats=10]
"""
import time

from absl import flags

import cli
import shared_flags
from shared_flags import Own

shared_flags.define("data_dir")
shared_flags.define(weights=Own(None, "ReconNet weights (default: the default priors' ReconNet)."))
shared_flags.define(repeats=Own(10, "Timed faces after two warm-up faces."))
FLAGS = flags.FLAGS


def per_face(fn, crops):
    fn(crops[0])
    fn(crops[1])
    start = time.perf_counter()
    for crop in crops[2:]:
        fn(crop)
    return (time.perf_counter() - start) / (len(crops) - 2)


def main(_):
    import numpy as np
    import tensorflow as tf

    from deblur3d import paths
    from deblur3d.data import readers
    from deblur3d.face import load_face_model
    from deblur3d.face.align import fit_alignment
    from deblur3d.face.render import FaceRenderer
    from deblur3d.priors.mesh_priors import TeacherFit
    from deblur3d.priors.settings import DEFAULT_RECIPE, recon_path
    from deblur3d.priors.texture import fit_texture
    from deblur3d.recon.training import build_net

    a = readers.read_authors(paths.data_path("300vw-sample", "vd001", root=FLAGS.data_dir))
    crops = [fit_alignment(p).crop(b.astype(np.float32) / 255)[None]
             for b, p in zip(a["blurry"][:FLAGS.repeats + 2], a["points5"])]
    renderer = FaceRenderer(load_face_model("ict", data_dir=FLAGS.data_dir, albedo_path=paths.ICT_ALBEDO_RICH))
    net = build_net(FLAGS.weights or recon_path(DEFAULT_RECIPE["recon"]))
    forward = tf.function(lambda x: renderer.face_model.bound(net(x, training=False)))

    def priors(crop, texture=DEFAULT_RECIPE["texture"]):
        return fit_texture(renderer, forward(tf.constant(crop)).numpy(), crop, texture=texture)

    teacher = TeacherFit(renderer, data_dir=FLAGS.data_dir)
    print(f"ReconNet ({net.input_size}² input) alone: {per_face(lambda c: forward(tf.constant(c)).numpy(), crops):.3f} "
          f"s a face")
    print(f"ReconNet + light and albedo solved on the crop, texture {DEFAULT_RECIPE['texture']} (the default "
          f"priors): {per_face(priors, crops):.3f} s a face")
    if DEFAULT_RECIPE["texture"] != "basis":
        print(f"ReconNet + light and albedo solved in the basis: {per_face(lambda c: priors(c, 'basis'), crops):.3f} "
              "s a face")
    print(f"teacher fit (MediaPipe's 468 points + the ICT fit): {per_face(teacher, crops):.3f} s a face")


if __name__ == "__main__":
    cli.run(main)
