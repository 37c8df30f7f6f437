"""The datasets `make eval` scores: every n-th frame of a cache split (blur synthesised as
configured; the authors' runs left out), and a folder in the authors' layout (their stored
blurry frames N-2..N+2, clamped, paired with sharp/N; docs/reproduction.md §6)."""
import dataclasses
from pathlib import Path

import numpy as np

from deblur3d import paths
from deblur3d.data import blur, readers
from deblur3d.data.cache import Cache
from deblur3d.data.pipeline import PipelineConfig, evaluation_dataset
from deblur3d.data.priors_store import blur_matches, blurry_aligned
from deblur3d.face import coeffs as coeffs_lib
from deblur3d.priors.settings import recipe_of


@dataclasses.dataclass
class Source:
    """Frames of one dataset: `keys` in order, `frames()` yielding dicts (numpy, no batch axis):
    key, blurry (H, W, 15), sharp (H, W, 3) in [0, 1], points5, points68 (or None), and with
    precomputed priors render (H, W, 3) and identity (80,)."""
    name: str
    description: str
    keys: list
    frames: object
    precomputed_priors: bool = False
    priors_recipe: dict | None = None   # how the precomputed priors were made (priors.settings.recipe_of)


def cache_source(config):
    cache = Cache(config.cache_dir)
    runs = cache.runs(config.split)
    # Precomputed priors only for the blur they were read from, placed by points found on the
    # blurry frames (as the tool places them); otherwise each model makes its own.
    usable = blur_matches(config.priors_dir, config.blur) and blurry_aligned(config.priors_dir)
    priors_dir = config.priors_dir if usable else None
    runs = [r for r in runs if not r.has("blurry")]
    keys = [f"{r.name}/{t}" for r in runs for t in range(0, r.meta["frames"], config.every)]
    pipeline = PipelineConfig(cache_dir=config.cache_dir, split=config.split, priors_dir=priors_dir,
                              blur=config.blur)

    def frames():
        # The authors' runs (stored blur) are scored whole by authors_source, not here.
        for s in evaluation_dataset(pipeline, every=config.every, stored_blur=False).unbatch().as_numpy_iterator():
            frame = dict(key=f"{s['run'].decode()}/{s['frame']}", blurry=s["blurry"], sharp=s["sharp"],
                         points5=s["points5"], points68=s["points68"])
            if priors_dir:
                frame.update(render=s["render"], identity=s["coeffs"][coeffs_lib.SLICES["identity"]])
            yield frame

    every = f"one frame in {config.every} of each run" if config.every > 1 else "every frame"
    return Source(config.split, f"cache split '{config.split}' ({cache.root}), {every}: "
                  f"{len(keys)} frames of {len(runs)} runs", keys, frames, bool(priors_dir), recipe_of(priors_dir))


def authors_source(folder, num_frames=5):
    a = readers.read_authors(folder)
    n, name = len(a["sharp"]), Path(folder).name
    keys = [f"{name}/{t}" for t in range(n)]

    def frames():
        for t, key in enumerate(keys):
            stack = a["blurry"][blur.window_indices(t, n, num_frames)]   # (5, H, W, 3), frame-major
            yield dict(key=key, blurry=np.concatenate(list(stack), -1).astype(np.float32) / 255,
                       sharp=a["sharp"][t].astype(np.float32) / 255, points5=a["points5"][t], points68=None)

    return Source(f"authors-{name}", f"authors' layout {folder}: their blurry frames, {n} frames", keys, frames)


def default_authors_dir(config):
    if config.authors_dir is not None:
        return config.authors_dir or None
    root = paths.default_data_root() if config.data_dir is None else Path(config.data_dir)
    folder = root and root / "300vw-sample" / "vd001"
    return str(folder) if folder and folder.is_dir() else None
