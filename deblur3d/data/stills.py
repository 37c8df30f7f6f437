"""Still face photos: the faces corpus (`<data>/faces`, manifest.csv) or any folder of images.

The corpus teaches ReconNet people our clips lack (docs/data.md). Only `split=train` rows are
ever trained on; `split=val` rows are scored.
"""
import csv
import dataclasses
from pathlib import Path

import cv2
import numpy as np

from deblur3d.data import motion

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


@dataclasses.dataclass(frozen=True)
class Still:
    path: Path
    identity: str      # same string = same person ("" when unknown)
    source: str        # corpus source folder, or the image's parent folder


def corpus(faces_dir, split):
    """The rows of `faces_dir`/manifest.csv in `split`, as Stills."""
    faces_dir = Path(faces_dir)
    manifest = faces_dir / "manifest.csv"
    if not manifest.is_file():
        raise OSError(f"{manifest}: no faces manifest (docs/data.md says where the corpus comes from)")
    with open(manifest, newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["split"] == split]
    return [Still(faces_dir / r["file"], r["identity"], r["file"].split("/")[0]) for r in rows]


def folder(root, split=None):
    """Every image under `root`, subfolders included, sorted; with a manifest.csv there and a
    `split`, only that split's rows."""
    root = Path(root)
    if not root.is_dir():
        raise OSError(f"{root}: not a folder of face images")
    if split and (root / "manifest.csv").is_file():
        return corpus(root, split)
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    return [Still(p, "", p.parent.name) for p in files]


def read_rgb(path):
    """-> (H, W, 3) uint8 RGB, contiguous; OSError if the file is not an image."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise OSError(f"{path}: not a readable image")
    return np.ascontiguousarray(image[..., ::-1])


def blur_still(image, points68, config, seed=0):
    """A still photo blurred as the centre frame of a stack of it: `config.window` copies,
    each swept over its exposure by one random head motion and camera shake (the training
    blur of a clip whose face does not move by itself). image (H, W, 3) uint8 or float in
    [0, 1]; points68 (68, 2) of the face. -> (H, W, 3) float32 in [0, 1]."""
    half = config.window // 2
    still = dataclasses.replace(config, still_fraction=0.0)
    sample = motion.draw_motion(np.random.default_rng(seed), still, half + 0.5)
    image = np.asarray(image)
    image = image.astype(np.float32) / 255.0 if image.dtype == np.uint8 else image.astype(np.float32)
    frames = motion.brighten_highlights(np.repeat(image[None], config.window, 0), config.highlights)
    mask = motion.head_mask(points68, image.shape[:2])
    swept = motion.sweep(frames, np.arange(-half, half + 1), sample, mask, np.asarray(points68)[:17].mean(0),
                         config.duty, config.linear_light)
    return np.clip(swept.mean(0), 0, 1)
