"""Builds the open albedo basis of the ICT model from sharp frames of TRAIN identities.

    python experiments/build_albedo.py [--frames_per_identity=40] [--out=checkpoints/ict_albedo.npz]

Writes the mean albedo, 3 skin-tone components and the principal components of the
per-frame albedos (deblur3d/recon/albedo.py), and a picture of the mean and the first
components under frontal light.
"""
import collections
import os
import time

from absl import flags

import cli
import shared_flags
from shared_flags import Own

from deblur3d import paths

shared_flags.define("cache_dir", "data_dir")
flags.DEFINE_integer("frames_per_identity", 40, "Sharp frames read per training identity, spread over its runs.")
flags.DEFINE_integer("fit_steps", 300, "Adam steps fitting pose, shape and expression to each frame's 68 points.")
flags.DEFINE_float("tone_std", 0.08, "Spread of the 3 skin-tone components (0: none).")
flags.DEFINE_bool("per_identity", False, "Components of the identities' mean albedos (one fewer than the identities), "
                  "as ReconNet's basis checkpoints/ict_albedo.npz was built, instead of the frames'.")
shared_flags.define(out=Own(str(paths.ICT_ALBEDO_RICH), "Output .npz (mean_albedo, albedo_basis)."))
flags.DEFINE_string("picture", "docs/ict_albedo.png", "PNG of the mean and first components ('' for none).")
FLAGS = flags.FLAGS


def frames_by_identity(cache, per_identity):
    """identity -> [(run, frame)] spread evenly over the identity's training runs."""
    import numpy as np
    pools = collections.defaultdict(list)
    for run in cache.runs("train"):
        pools[run.meta["identity"]] += [(run, t) for t in range(run.meta["frames"])]
    return {identity: [pool[i] for i in np.linspace(0, len(pool) - 1, min(per_identity, len(pool))).astype(int)]
            for identity, pool in sorted(pools.items())}


def main(_):
    import cv2
    import numpy as np
    from tqdm import tqdm

    from deblur3d.data.cache import Cache
    from deblur3d.face import load_face_model
    from deblur3d.face.align import fit_alignment
    from deblur3d.face.render import FaceRenderer
    from deblur3d.recon import albedo as albedo_lib
    from deblur3d.priors.refine import LandmarkRefiner
    from deblur3d.priors.texture import fit_texture

    start = time.time()
    model = load_face_model("ict", data_dir=FLAGS.data_dir, albedo_path="constant")
    renderer = FaceRenderer(model)
    refiner = LandmarkRefiner(renderer, FLAGS.fit_steps)
    chosen = frames_by_identity(Cache(FLAGS.cache_dir), FLAGS.frames_per_identity)
    albedos = []
    for identity, items in tqdm(chosen.items(), desc="identities", unit="id"):
        mine = []
        for first in range(0, len(items), 16):
            images, points = [], []
            for run, t in items[first:first + 16]:
                a = fit_alignment(run.array("points5")[t])
                images.append(a.crop(run.array("sharp")[t]).astype(np.float32) / 255.0)
                points.append(a.to_crop(run.array("points68")[t]).astype(np.float32))
            images, points = np.stack(images), np.stack(points)
            coeffs = refiner(np.zeros((len(images), 239), np.float32), points)
            mine.append(fit_texture(renderer, coeffs, images, texture="frame")[1])
        mine = np.concatenate(mine)
        albedos.append(mine.mean(0, keepdims=True) if FLAGS.per_identity else mine)
    mean, basis = albedo_lib.build_basis(np.concatenate(albedos), model.mean_albedo, model.skin_mask,
                                         tone_std=FLAGS.tone_std)
    os.makedirs(os.path.dirname(os.path.abspath(FLAGS.out)), exist_ok=True)
    # float16 components: a 1e-3 relative error is far below what the fit can tell apart.
    np.savez_compressed(FLAGS.out, mean_albedo=mean, albedo_basis=basis.astype(np.float16),
                        identities=np.array(list(chosen)))
    tones = 3 if FLAGS.tone_std > 0 else 0
    print(f"wrote {FLAGS.out}: mean albedo + {len(basis)} components ({tones} skin tones) from {len(chosen)} train "
          f"identities ({sum(map(len, chosen.values()))} frames) in {time.time() - start:.0f} s")
    if FLAGS.picture:
        learned = load_face_model("ict", data_dir=FLAGS.data_dir, albedo_path=FLAGS.out)
        x = np.zeros((4, 239), np.float32)
        x[:, 227:236] = [0, -0.2, 0.3, 0, 0, 0, 0, 0, 0]
        for i in range(1, 4):
            x[i, 144 + i - 1] = 2.0  # +2 standard deviations along components 1..3
        strip = np.concatenate(list(FaceRenderer(learned)(x).image.numpy()), axis=1)
        cv2.imwrite(FLAGS.picture, (np.clip(strip, 0, 1) * 255).round().astype(np.uint8)[..., ::-1])
        print(f"wrote {FLAGS.picture}: mean albedo, then +2σ on components 1, 2, 3")


if __name__ == "__main__":
    cli.run(main)
