"""Precomputed priors for every frame of the data cache, as the authors stored them.

For each run: the coefficients of the blurry centre frame and its render pasted back into
the run's crop geometry, in data/priors_store.py's format. The folder is written aside and renamed
when complete.
"""
import dataclasses
from pathlib import Path

import numpy as np
import tensorflow as tf
from tqdm import tqdm

from deblur3d.atomic import atomic_dir
from deblur3d.data import blur_settings, priors_store
from deblur3d.data.cache import Cache
from deblur3d.data.faces import BlurryLocator
from deblur3d.data.samples import centre_blurry_frames
from deblur3d.priors import refine


def blurry_centres(run, blur_config, chunk=32):
    """Yields (first frame, (n, H, W, 3) float32 blurry centre frames) over a run, in order:
    the stored ones, or ours blurred as evaluation blurs them (each frame's motion seeded by
    its run and index; training samples draw other motion about the same sharp frame, so
    their priors come from a differently blurred copy: the render follows the sharp pose)."""
    length = len(run.array("sharp"))
    synthesised = None if run.has("blurry") else centre_blurry_frames(run, blur_config, range(length))
    for start in range(0, length, chunk):
        stop = min(length, start + chunk)
        if synthesised is None:  # stored blurry frames are the input as given (docs/reproduction.md §6)
            yield start, run.array("blurry")[start:stop].astype(np.float32) / 255.0
        else:
            yield start, np.stack([next(synthesised) for _ in range(start, stop)])


def export_priors(online, out, cache_dir=None, batch_size=16, note=None, blur=None, refiner=None, annotator=None,
                  texture=None, recon=""):
    """Runs `online` (OnlinePriors) over every cached frame; returns the frame count.

    `blur`: a blur_settings preset name or BlurConfig (None: the default preset) of the blurry
    frames the priors are read from; it should match the deblurring training's.
    `refiner` (priors.refine.LandmarkRefiner, with a faces.FaceAnnotator): ReconNet's
    coefficients are refined to dlib's 68 points on each blurry centre frame.
    `texture` (OnlineFramePriors, texture "basis" or "frame"): light and texture then fitted
    to the aligned crop (priors/texture.py). `recon`: how the recipe names the ReconNet
    (priors.settings.recon_name), for the index.
    """
    cache = Cache(cache_dir)
    blur_config = blur_settings.resolve(blur)
    coefficients = tf.function(online.coefficients, reduce_retracing=True)
    render = tf.function(lambda c, p5, h, w, *albedo: tf.concat(online.render(c, p5, h, w, *albedo), -1),
                         reduce_retracing=True)
    missed, locate = 0, BlurryLocator(annotator)

    total = sum(r.meta["frames"] for r in cache.runs())
    with atomic_dir(Path(out)) as tmp, tqdm(total=total, unit="frame", desc="priors") as bar:
        for run in cache.runs():
            stored5, points68 = run.array("points5"), run.array("points68")
            renders, coeffs = [], []
            for start, frames in blurry_centres(run, blur_config):
                # Placed by points found on each blurry frame, as the tool places them.
                points5 = [locate(f, run.name, stored5[start + k]) for k, f in enumerate(frames)]
                for i in range(0, len(frames), batch_size):
                    part = frames[i:i + batch_size]
                    pad = batch_size - len(part)  # one static batch size: the rasterizer loops over it
                    batch = np.concatenate([part, np.repeat(part[-1:], pad, 0)])
                    p5 = np.stack(points5[i:i + len(part)])
                    p5 = np.concatenate([p5, np.repeat(p5[-1:], pad, 0)]).astype(np.float32)
                    c = coefficients(tf.constant(batch), tf.constant(p5)).numpy()
                    if refiner is not None:   # the real frames only; the padding repeats the last
                        n, cached = len(part), points68[start + i:start + i + len(part)]
                        real, misses = refine.refine_to_frames(refiner, annotator, c[:n], part, p5[:n], cached)
                        c, missed = np.concatenate([real, np.repeat(real[-1:], pad, 0)]), missed + misses
                    albedo = []
                    if texture is not None:
                        c, fitted = texture.fit_texture(c, texture.aligned(batch, p5))
                        albedo = [] if fitted is None else [tf.constant(fitted)]
                    rgba = render(tf.constant(c), tf.constant(p5), batch.shape[1], batch.shape[2], *albedo)
                    renders.append(np.round(np.clip(rgba.numpy()[:len(part)], 0, 1) * 255).astype(np.uint8))
                    coeffs.append(c[:len(part)])
                    bar.update(len(part))
            priors_store.write_run(tmp, run.name, np.concatenate(renders), np.concatenate(coeffs))
        refined = None if refiner is None else dict(steps=refiner.steps, frames_without_detection=missed)
        priors_store.write_index(tmp, cache.root, [r.name for r in cache.runs()], dataclasses.asdict(blur_config), note,
                          refined, "recon" if texture is None else texture.settings.recipe["texture"], recon=recon)
    return total
