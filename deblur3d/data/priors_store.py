"""The precomputed priors on disk, as the authors stored theirs: the one owner of the format.

    <root>/index.json                  how they were made: cache, runs, blur, note,
                                       refined {steps, frames_without_detection}, texture,
                                       alignment
    <root>/runs/<run>/render.npy       (N, H, W, 4) uint8: the render pasted back into the
                                       run's crop geometry, alpha = coverage
    <root>/runs/<run>/coeffs.npy       (N, 239) float32: the coefficients of each frame

priors/export.py writes a folder through `write_run` and `write_index`; the data pipeline
reads it through `load_run`, and priors/settings.py's `recipe_of` its index. The format sits
in data, below priors (tests/test_layout.py), because the data pipeline reads it.
"""
import dataclasses
import json
from pathlib import Path

import numpy as np

from deblur3d.data.readers import mapped_array

INDEX, RENDER, COEFFS = "index.json", "render.npy", "coeffs.npy"


def run_folder(root, run):
    return Path(root) / "runs" / run


def write_run(root, run, render, coeffs):
    """Stores one run's renders (N, H, W, 4) uint8 and coefficients (N, 239)."""
    render, coeffs = np.asarray(render), np.asarray(coeffs, np.float32)
    if render.dtype != np.uint8 or render.ndim != 4 or render.shape[-1] != 4:
        raise ValueError(f"renders must be (N, H, W, 4) uint8, got {render.shape} {render.dtype}")
    if coeffs.ndim != 2 or len(coeffs) != len(render):
        raise ValueError(f"{len(render)} renders but coefficients of shape {coeffs.shape}")
    folder = run_folder(root, run)
    folder.mkdir(parents=True)
    np.save(folder / RENDER, render)
    np.save(folder / COEFFS, coeffs)


def load_run(root, run):
    """-> dict(render, coeffs) of one run, memory-mapped."""
    folder = run_folder(root, run)
    if not (folder / RENDER).is_file() or not (folder / COEFFS).is_file():
        raise FileNotFoundError(f"{folder}: no exported priors for run {run} (run experiments/export_priors.py)")
    rebuild = "`make priors` (experiments/export_priors.py)"
    return dict(render=mapped_array(folder / RENDER, rebuild), coeffs=mapped_array(folder / COEFFS, rebuild))


def write_index(root, cache, runs, blur, note=None, refined=None, texture="recon", alignment="blurry", recon=""):
    """`refined`: None, or dict(steps, frames_without_detection); `blur`: a dict of BlurConfig;
    `recon`: the ReconNet weights' name (priors.settings.recon_name; folders without it: recon_ict's);
    `alignment`: where the five points that placed the face came from ("blurry": found on the
    blurry frame, as the tool finds them; folders without the key: the sharp frame's)."""
    index = dict(cache=str(cache), runs=list(runs), blur=blur, note=note, refined=refined, texture=texture,
                 alignment=alignment, recon=recon)
    (Path(root) / INDEX).write_text(json.dumps(index, indent=1))


def read_index(root):
    """The index of a priors folder, or None without one."""
    path = Path(root or "") / INDEX
    return json.loads(path.read_text()) if root and path.is_file() else None


def blur_matches(root, blur):
    """Whether the priors of a folder were read from frames blurred as `blur` (a BlurConfig):
    priors read from other blur show a sharper or blurrier face than the frames deblurred."""
    index = read_index(root)
    return index is not None and index.get("blur") == json.loads(json.dumps(dataclasses.asdict(blur)))


def blurry_aligned(root):
    """Whether the priors of a folder were placed by points found on the blurry frames (older
    folders used the sharp frame's, which a user's video never has)."""
    index = read_index(root)
    return index is not None and index.get("alignment") == "blurry"
