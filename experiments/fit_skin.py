"""Fits the skin colour model of the rendering loss's attention (docs/reproduction.md §4) on the data cache.

    .venv/bin/python experiments/fit_skin.py [--cache_dir=cache/data] [--out=checkpoints/skin_model.npz]

Skin pixels come from inside each frame's landmark face hull (eyes, brows and mouth cut out),
non-skin pixels from well outside it (deblur3d.recon.skin.face_region_masks), on TRAIN runs
only. Two Gaussian mixtures in YCbCr are fitted with cv2.ml.EM and saved as a small .npz that
ships with the reconstruction model. As a check, prints the mean P(skin) on the skin and
non-skin sample pixels of the --check_split runs, which the fit never saw.
"""
import os
import time

from absl import app, flags

import cli
import shared_flags
from shared_flags import Own

from deblur3d import paths

shared_flags.define("cache_dir")
shared_flags.define(split="train")
flags.DEFINE_string("check_split", "val", "Split on which the fitted model is checked (never fitted on).")
flags.DEFINE_integer("frames_per_run", 20, "Frames sampled per run, evenly spaced.")
flags.DEFINE_integer("pixels_per_class", 50_000, "Skin and non-skin pixels fed to EM (each).")
flags.DEFINE_list("components", ["8"], "Mixture components: one count for both, or skin,nonskin.")
flags.DEFINE_float("skin_prior", 0.8, "P(skin) of the naive Bayes posterior (Deng et al.: 0.8).")
shared_flags.define(seed=Own(0, "Seed of the pixel sampling and of EM's k-means start."))
shared_flags.define(out=Own(str(paths.SKIN_MODEL), "Where the fitted model is saved (.npz)."))
flags.DEFINE_string("preview", None, "Optional PNG: 4 check-split crops | P(skin) | sample masks "
                    "(green skin, red non-skin).")
FLAGS = flags.FLAGS


def sampled_frames(run, frames_per_run):
    import numpy as np
    return np.unique(np.linspace(0, run.meta["frames"] - 1, frames_per_run).round().astype(int))


def frames_with_masks(runs, frames_per_run, desc):
    """Yields (run, frame index, RGB uint8 crop, skin mask, non-skin mask)."""
    import numpy as np
    from tqdm import tqdm

    from deblur3d.recon.skin import face_region_masks
    for run in tqdm(runs, desc=desc, unit="run"):
        sharp, points = run.array("sharp"), run.array("points68")
        for i in sampled_frames(run, frames_per_run):
            yield (run, i, np.asarray(sharp[i]), *face_region_masks(points[i], sharp.shape[1:3]))


def main(argv):
    del argv
    import cv2
    import numpy as np

    from deblur3d.data.cache import Cache
    from deblur3d.recon.skin import SkinModel

    start = time.time()
    cache = Cache(FLAGS.cache_dir)
    train, check = cache.runs(FLAGS.split), cache.runs(FLAGS.check_split)
    if not train:
        raise app.UsageError(f"no {FLAGS.split!r} runs in {FLAGS.cache_dir}")
    rng = np.random.default_rng(FLAGS.seed)
    n_frames = sum(len(sampled_frames(r, FLAGS.frames_per_run)) for r in train)
    # Twice the even share per frame, then a final draw: every frame contributes, none dominates.
    quota = 2 * -(-FLAGS.pixels_per_class // n_frames)

    def draw(pixels, n):
        return pixels[rng.choice(len(pixels), n, replace=False)] if len(pixels) > n else pixels

    skin, nonskin = [], []
    for _, _, rgb, skin_mask, nonskin_mask in frames_with_masks(train, FLAGS.frames_per_run, FLAGS.split):
        skin.append(draw(rgb[skin_mask], quota))
        nonskin.append(draw(rgb[nonskin_mask], quota))
    skin = draw(np.concatenate(skin), FLAGS.pixels_per_class)
    nonskin = draw(np.concatenate(nonskin), FLAGS.pixels_per_class)
    sampled = time.time()
    components = [int(c) for c in FLAGS.components]
    model = SkinModel.fit(skin, nonskin, components[0] if len(components) == 1 else components,
                          skin_prior=FLAGS.skin_prior, seed=FLAGS.seed)
    fitted = time.time()
    model.save(FLAGS.out)
    print(f"{len(train)} {FLAGS.split} runs, {n_frames} frames: {len(skin)} skin and {len(nonskin)} "
          f"non-skin pixels; sampled in {sampled - start:.1f} s, EM {model.components} components "
          f"in {fitted - sampled:.1f} s")
    print(f"saved {FLAGS.out} ({os.path.getsize(FLAGS.out)} bytes)")

    if not check:
        print(f"no {FLAGS.check_split!r} runs: no check")
        return
    sums, counts, rows, shown = np.zeros(2), np.zeros(2), [], set()
    for run, i, rgb, skin_mask, nonskin_mask in frames_with_masks(check, FLAGS.frames_per_run,
                                                                  FLAGS.check_split):
        p = model.probability(rgb[None].astype(np.float32) / 255.0).numpy()[0, ..., 0]
        for k, mask in enumerate((skin_mask, nonskin_mask)):
            sums[k] += p[mask].sum()
            counts[k] += mask.sum()
        if FLAGS.preview and run.name not in shown and len(shown) < 4:
            shown.add(run.name)
            masks = rgb // 3
            masks[skin_mask], masks[nonskin_mask] = (0, 200, 0), (200, 0, 0)
            rows.append(np.concatenate([rgb, np.repeat(np.uint8(p * 255 + 0.5)[..., None], 3, -1), masks], 1))
    mean = sums / np.maximum(counts, 1)
    print(f"{FLAGS.check_split}: mean P(skin) {mean[0]:.3f} on {int(counts[0])} skin pixels, "
          f"{mean[1]:.3f} on {int(counts[1])} non-skin pixels ({len(check)} runs)")
    if rows:
        os.makedirs(os.path.dirname(os.path.abspath(FLAGS.preview)), exist_ok=True)
        cv2.imwrite(FLAGS.preview, np.concatenate(rows, 0)[..., ::-1])
        print(f"wrote {FLAGS.preview}")
    print(f"total {time.time() - start:.1f} s")


if __name__ == "__main__":
    cli.run(main)
