"""How close the renders of the 3D priors are to the sharp face, ours beside the authors'.

For each configuration of the priors (texture : landmark-refinement steps), every frame's
priors are made as evaluation and the video tool make them (blurry centre frame + its five
points -> ReconNet -> refinement -> texture and light), rendered in the 224 aligned crop
(the space of the authors' `face_render`) and scored against the sharp crop
(deblur3d/eval/render_quality.py): photometric error (0-255) and landmark error (px).
The authors' own renders are scored the same way on their frames.

    python experiments/eval_priors.py                                   # table + sheet
    python experiments/eval_priors.py --configs=basis:200 --out=outputs/priors   # + every render as PNG

Frames: the authors' folder (--authors_dir, default 300vw-sample/vd001 under the data
root: their blur, their renders) and one in --every val frames of the data cache, blurred
as `make eval` blurs them.
"""
import os

from absl import flags

import cli
import shared_flags
from shared_flags import Own
import data_flags
import priors_flags

flags.adopt_module_key_flags(data_flags)
shared_flags.define("cache_dir", "every")
flags.adopt_module_key_flags(priors_flags)

flags.DEFINE_list("configs", ["default", "recon:0", "basis:200"],
                  "Priors to score: `default` (the priors evaluation and the video tool make unless told "
                  "otherwise: deblur3d/priors/settings.py), or TEXTURE:REFINE_STEPS (texture recon, basis or "
                  "frame: --texture).")
shared_flags.define("authors_dir")
shared_flags.define(table=Own("results/priors.md", "Markdown table of the scores."))
shared_flags.define(sheet=Own("docs/priors_sheet.jpg", "Sheet: blurry | each configuration | authors' | sharp "
                                                       "('' for none)."))
shared_flags.define(out=Own(None, "Also write the last configuration's renders as OUT/render/<frame>.png."))
FLAGS = flags.FLAGS

SHEET_ROWS = 6


def parse_config(text):
    """-> (texture, refinement steps, ReconNet weights or None for --recon_weights)."""
    if text == "default":
        from deblur3d.priors.settings import DEFAULT_RECIPE, recon_path
        return DEFAULT_RECIPE["texture"], DEFAULT_RECIPE["refine_landmarks"], recon_path(DEFAULT_RECIPE["recon"])
    texture, _, steps = text.partition(":")
    try:
        return texture, int(steps or 0), None
    except ValueError:
        raise ValueError(f"--configs: {text!r} is not TEXTURE:STEPS") from None


def frame_sets(data_dir):
    """name -> list of (frame name, blurry frame float, sharp frame uint8, five points found on the
    blurry frame, authors' render or None, the authors' own five points or None)."""
    import numpy as np

    from deblur3d import paths
    from deblur3d.data import readers
    from deblur3d.data.cache import Cache
    from deblur3d.data.faces import BlurryLocator
    from deblur3d.data.samples import centre_blurry_frames

    sets, locate = {}, BlurryLocator()
    folder = FLAGS.authors_dir or paths.data_path("300vw-sample", "vd001", root=data_dir)
    try:
        a = readers.read_authors(folder)
    except (readers.BadInput, OSError) as err:
        raise readers.BadInput(f"{folder}: not a folder in the authors' layout ({err})") from None
    names = sorted(p.stem for p in (readers.Path(folder) / "sharp").glob("*.png"))
    renders = a["render"] if a["render"] is not None else [None] * len(names)
    # Every face placed by five points found on its blurry frame, as the tool places it.
    sets[readers.Path(folder).name] = [(n, b.astype(np.float32) / 255, s, locate(b, "authors", p),
                                        None if r is None else r[..., :3], p)
                                       for n, b, s, p, r in zip(names, a["blurry"], a["sharp"], a["points5"], renders)]
    if FLAGS.cache_dir != "":
        val = []
        for run in Cache(FLAGS.cache_dir).runs("val"):
            picked = list(range(0, run.meta["frames"], FLAGS.every))
            blurry = centre_blurry_frames(run, data_flags.blur_config(), picked)
            for t, b in zip(picked, blurry):
                val.append((f"{run.name}_{t:05d}", b, run.array("sharp")[t],
                            locate(b, run.name, run.array("points5")[t]), None, None))
        sets["val"] = val
    return sets


def main(_):
    import dataclasses

    import cv2
    import numpy as np
    from tqdm import tqdm

    from deblur3d.atomic import atomic_dir
    from deblur3d.data.faces import FaceAnnotator
    from deblur3d.eval import metrics, render_quality
    from deblur3d.face.align import fit_alignment
    from deblur3d.priors.online import OnlineFramePriors
    from deblur3d.priors.settings import PAPER_RECIPE

    configs = [parse_config(c) for c in FLAGS.configs]
    base = priors_flags.priors_settings()
    annotator, encoder = FaceAnnotator(), metrics.IdentityEncoder()
    sets = frame_sets(FLAGS.data_dir)
    scores, sheet_tiles, renders_out = {}, {}, {}
    for name, frames in sets.items():
        sharp_crops, sharp_points, theirs_crops, theirs_points = [], [], [], []
        for _, _, sharp, p5, theirs, stored in frames:
            box = np.array([[56, 56], [168, 168]], np.float32)
            crop = fit_alignment(p5).crop(sharp)
            sharp_crops.append(crop)
            sharp_points.append(render_quality.points68(annotator, crop, box))
            if theirs is not None:   # the authors' renders sit in the crop of their five points
                crop = fit_alignment(stored).crop(sharp)
                theirs_crops.append(crop)
                theirs_points.append(render_quality.points68(annotator, crop, box))
        rows = {}
        if any(f[4] is not None for f in frames):
            rows["authors' face_render (Deng et al., BFM)"] = [f[4] for f in frames]
        for (texture, steps, weights), config in zip(configs, FLAGS.configs):
            settings = dataclasses.replace(base, texture=texture, refine_landmarks=steps,
                                           recon_weights=weights or base.made_as(PAPER_RECIPE).recon_weights)
            priors = OnlineFramePriors(settings, FLAGS.data_dir)
            if not priors.available():
                raise SystemExit(f"error: {priors.reason}")
            out = []
            for _, blurry, _, p5, *_ in tqdm(frames, desc=f"{name}: {texture}:{steps}", unit="frame", leave=False):
                coeffs, albedo = priors.fit(blurry[None], p5[None].astype(np.float32))
                image = priors.renderer(coeffs, albedo).image.numpy()[0]
                out.append(np.round(np.clip(image, 0, 1) * 255).astype(np.uint8))
            rows[f"ours: {config} (texture {texture}, refinement {steps} steps)"] = out
            renders_out[name] = out
        for row, images in rows.items():
            authors = row.startswith("authors")   # in the crop of their own points: scored against it
            crops, points = (theirs_crops, theirs_points) if authors else (sharp_crops, sharp_points)
            errors = np.array([(render_quality.photometric_error(r, s, p),
                                render_quality.landmark_error(annotator, r, p),
                                render_quality.identity_distance(encoder, r, s, p))
                               for r, s, p in zip(images, crops, points)])
            scores.setdefault(row, {})[name] = (*np.nanmean(errors, 0), len(errors))
            print(f"{name}: {row}: photometric {scores[row][name][0]:.1f}, landmarks {scores[row][name][1]:.2f} px, "
                  f"identity distance {scores[row][name][2]:.3f}")
        picks = np.linspace(0, len(frames) - 1, SHEET_ROWS // len(sets)).astype(int)
        for i in picks:
            blurry_crop = fit_alignment(frames[i][3]).crop(np.round(frames[i][1] * 255).astype(np.uint8))
            tiles = [blurry_crop] + [rows[r][i] for r in rows if not r.startswith("authors")]
            tiles.append(rows[next(iter(rows))][i] if frames[i][4] is not None else np.zeros_like(blurry_crop))
            sheet_tiles.setdefault(name, []).append(np.concatenate(tiles + [sharp_crops[i]], 1))

    columns = list(sets)
    lines = ["| renders | " + " | ".join(f"{c}: photometric (0-255) | landmarks (px) | identity distance"
                                        for c in columns) + " |",
             "|---|" + "---|---|---|" * len(columns)]
    for row, by_set in scores.items():
        cells = [f"{by_set[c][0]:.1f} | {by_set[c][1]:.2f} | {by_set[c][2]:.3f}" if c in by_set else "- | - | -"
                 for c in columns]
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
    counts = ", ".join(f"{c} {len(sets[c])} frames" for c in columns)
    table = "\n".join(lines) + (f"\n\n{counts}, each aligned from five points found on its blurry frame (the "
                                 "authors' renders: their own points); the sharp crop's 68 points and the render's "
                                 "are dlib's; identity distance: dlib's face descriptors of render and sharp crop, "
                                 "both chips cut by the sharp crop's 68 points (one person below 0.6).\n")
    os.makedirs(os.path.dirname(FLAGS.table) or ".", exist_ok=True)
    with open(FLAGS.table, "w") as f:
        f.write(table)
    print(table + f"wrote {FLAGS.table}")
    if FLAGS.sheet:
        image = np.concatenate([t for c in columns for t in sheet_tiles[c]], 0)
        os.makedirs(os.path.dirname(FLAGS.sheet) or ".", exist_ok=True)
        cv2.imwrite(FLAGS.sheet, image[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 90])
        print(f"wrote {FLAGS.sheet}: blurry | " + " | ".join(FLAGS.configs) + " | authors' (vd001) | sharp")
    if FLAGS.out:
        with atomic_dir(os.path.join(FLAGS.out, "render")) as tmp:
            for name, frames in sets.items():
                for (frame, *_), image in zip(frames, renders_out[name]):
                    cv2.imwrite(str(tmp / f"{frame}.png"), image[..., ::-1])
        print(f"wrote {FLAGS.out}/render: {sum(map(len, sets.values()))} renders of {FLAGS.configs[-1]}")


if __name__ == "__main__":
    cli.run(main)
