"""The faces ReconNet is scored on, each cut out as the tool would cut it.

A face is seen twice: sharp, aligned from the five points dlib finds on the sharp image, and
blurry, aligned from the points dlib finds on the *blurry* image (as the video tool does; the
sharp frame only gives the 68 target points, carried into each crop). Sets: a folder of
stills (blurred as a still, recon/labels.py), the val clips' frames (blurred as `make eval`
blurs them), and a folder in the authors' layout (their own blur).
"""
import dataclasses

import numpy as np

from deblur3d.recon import labels


@dataclasses.dataclass
class FaceSet:
    name: str
    sharp: np.ndarray           # (N, 224, 224, 3) uint8
    blurry: np.ndarray          # (N, 224, 224, 3) uint8
    sharp_points: np.ndarray    # (N, 68, 2): the sharp face's 68 points in the sharp crop
    blurry_points: np.ndarray   # (N, 68, 2): the same points in the blurry crop
    undetected: int = 0         # blurry views dlib found no face on (aligned in the sharp points' box)
    blurry_alignments: list = dataclasses.field(default_factory=list)   # face.align.Alignment of each blurry crop
    theirs: np.ndarray | None = None   # (N, 224, 224, 3) uint8: the authors' renders in the blurry crop


def _collect(name, items, annotator):
    """items: (sharp uint8, blurry uint8, sharp 68 points or None) -> FaceSet (faces without one
    on the sharp image are left out)."""
    out, undetected = {k: [] for k in ("sharp", "blurry", "sp", "bp", "align")}, 0
    no_mesh = np.zeros((0, 3), np.float32)
    for sharp, blurry, points68 in items:
        if points68 is None:
            boxes = annotator.detect(sharp)
            if not len(boxes):
                continue
            points68 = annotator.landmarks(sharp, boxes[0])
        s_crop, s_points, _, _, _ = labels.view(annotator, sharp, points68, no_mesh)
        b_crop, b_points, _, found, alignment = labels.view(annotator, blurry, points68, no_mesh)
        undetected += not found
        for key, value in zip(("sharp", "blurry", "sp", "bp", "align"), (s_crop, b_crop, s_points, b_points, alignment)):
            out[key].append(value)
    if not out["sharp"]:
        raise ValueError(f"{name}: no face found in any image")
    return FaceSet(name, np.stack(out["sharp"]), np.stack(out["blurry"]), np.stack(out["sp"]), np.stack(out["bp"]),
                   undetected, blurry_alignments=out["align"])


def stills_set(rows, blur, annotator, seed=0, name="stills"):
    """Stills (data/stills.Still) with one face; the blurry view blurred as a still."""
    from deblur3d.data.stills import read_rgb

    def items():
        for n, row in enumerate(rows):
            image = read_rgb(row.path)
            boxes = annotator.detect(image)
            if len(boxes) != 1:   # every image with one face
                continue
            points68 = annotator.landmarks(image, boxes[0])
            yield image, labels.blurred_still(image, points68, blur, (seed, n, 0)), points68
    return _collect(name, items(), annotator)


def clips_set(cache_dir, split, every, blur, annotator, seed=0):
    """Every `every`-th frame of a cache split's runs (the authors' stored-blur runs left out),
    blurred as evaluation blurs them."""
    from deblur3d.data.cache import Cache
    from deblur3d.data.samples import centre_blurry_frames

    def items():
        for run in Cache(cache_dir).runs(split):
            if run.has("blurry"):
                continue
            frames = list(range(0, run.meta["frames"], every))
            sharp, points = run.array("sharp"), run.array("points68")
            for t, blurry in zip(frames, centre_blurry_frames(run, blur, frames, seed)):
                yield np.asarray(sharp[t]), labels.to_uint8(blurry), np.asarray(points[t], np.float32)
    return _collect(f"{split} clips", items(), annotator)


def authors_set(folder, annotator):
    """A folder in the authors' layout: their blurry frame N against sharp/N; their renders,
    which sit in the crop of their own five points, carried into ours (for pictures)."""
    from pathlib import Path

    from deblur3d.data import readers
    from deblur3d.face.align import fit_alignment
    a = readers.read_authors(folder)
    items = ((np.ascontiguousarray(s), np.ascontiguousarray(b), None) for s, b in zip(a["sharp"], a["blurry"]))
    out = _collect(f"authors' {Path(folder).name}", items, annotator)
    if a["render"] is not None and len(out.blurry) == len(a["render"]):
        out.theirs = np.stack([ours.crop(fit_alignment(points5).uncrop(render[..., :3], blurry.shape))
                               for blurry, render, points5, ours in zip(a["blurry"], a["render"], a["points5"],
                                                                        out.blurry_alignments)])
    return out


def landmark_error(predict, renderer, images, points, batch=16):
    """Mean 68-point distance in pixels of the 224 crops, per face: predict(images float) -> coeffs."""
    errors = []
    for start in range(0, len(images), batch):
        coeffs = np.asarray(predict(images[start:start + batch].astype(np.float32) / 255.0))
        landmarks = renderer.landmarks(renderer.face_model.bound(coeffs)).numpy()
        errors.append(np.linalg.norm(landmarks - points[start:start + batch], axis=-1).mean(-1))
    return np.concatenate(errors)
