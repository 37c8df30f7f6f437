"""Render a face model with given pose and light to a PNG (a check of the renderer).

    python experiments/render_face.py --face_model=ict --out=face.png
    python experiments/render_face.py --face_model=bfm --model_path=BFM/BFM_model_front.mat --out=face.png
    python experiments/render_face.py --face_model=ict --yaw=-0.5,0,0.5 --out=docs/ict_poses.png
"""
import os

from absl import flags

import cli
import shared_flags
from shared_flags import Own

shared_flags.define("data_dir")
shared_flags.define("face_model", "model_path")
shared_flags.define(out=Own("face.png", "Output PNG; several poses are drawn side by side."))
flags.DEFINE_list("yaw", ["0"], "Yaw angles in radians, one image per value.")
flags.DEFINE_float("pitch", 0.0, "Pitch angle in radians.")
flags.DEFINE_list("light", ["0", "-0.2", "0.3", "0", "0", "0", "0", "0", "0"],
                  "9 spherical-harmonics light coefficients (0.8 is added to the first).")
FLAGS = flags.FLAGS


def main(_):
    import cv2
    import numpy as np

    from deblur3d.face import coeffs, load_face_model
    from deblur3d.face.render import FaceRenderer

    model = load_face_model(FLAGS.face_model, FLAGS.model_path, FLAGS.data_dir)
    yaws = [float(y) for y in FLAGS.yaw]
    x = np.zeros((len(yaws), coeffs.NUM_COEFFS), np.float32)
    x[:, coeffs.SLICES["rotation"]] = [[FLAGS.pitch, yaw, 0.0] for yaw in yaws]
    x[:, coeffs.SLICES["light"]] = [float(v) for v in FLAGS.light]
    image = FaceRenderer(model)(x).image.numpy()
    strip = np.concatenate(list(image), axis=1)
    os.makedirs(os.path.dirname(os.path.abspath(FLAGS.out)), exist_ok=True)
    cv2.imwrite(FLAGS.out, (np.clip(strip, 0, 1) * 255).round().astype(np.uint8)[..., ::-1])
    print(f"wrote {FLAGS.out}: {model.name} model, {model.num_vertices} vertices, "
          f"{model.num_triangles} triangles, {len(yaws)} pose(s)")


if __name__ == "__main__":
    cli.run(main)
