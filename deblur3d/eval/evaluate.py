"""Paper Tables 1–3 and figure grids for the blurry input and trained deblurring checkpoints.

Methods: "input" (the blurry centre frame, no deblurring) and every checkpoint given, each
rebuilt from its weights header (deblur3d/deblur/inference.py). Datasets: every `every`-th
frame of each run of a cache split, and a folder in the authors' layout (their stored blurry
frames N-2..N+2, clamped, paired with sharp/N; docs/reproduction.md §6).

Conventions (written into the tables):
- PSNR and SSIM as deblur3d/eval/metrics.py: RGB on the 0–255 scale, the output clipped to
  [0, 1] and not quantised; a dataset's value is the mean of the per-frame values.
- Face region: the convex hull of the 68 points, or, when a frame has only the 5 points
  (authors' layout), their hull scaled ×2 about its centroid (on the val split the two
  regions have the same area to ±10%).
- Identity similarity (Table 2): cosine of dlib's face descriptors of the output and the
  sharp frame, both in the box dlib detects on the sharp frame; frames without a detection
  are left out of the mean.
- Priors of checkpoints that use them: precomputed (`priors_dir`) for the cache when they
  exist, were made as the model's were in training (landmark refinement or not, its
  weights header) and were read from frames blurred as the scored ones (`--blur`,
  `--blur_set`), else computed online by ReconNet from the blurry centre frame and the
  5 points (refined to dlib's 68 points on that frame where the model's were).
- Warping error (temporal consistency, Lai et al. 2018): the previous scored frame of the
  same run, output warped onto the current one by the flow between the sharp frames, mean
  |difference| (0–255) over the face region where the flow passes a forward-backward check;
  the sharp frames' own value is the floor. Scored frames are `every` frames apart (the
  authors': consecutive stored frames, about 5 video frames apart).
- Table 3: seconds per frame on random input on this machine, priors included, after one
  warm-up call per size; sizes are height × width.
"""
import dataclasses
from pathlib import Path

import numpy as np
import tensorflow as tf
from tqdm import tqdm

from deblur3d import devices, paths
from deblur3d.data import blur, blur_settings
from deblur3d.data.blur import PHOTO_SHIFT
from deblur3d.data.cache import Cache
from deblur3d.data.faces import BlurryLocator
from deblur3d.data.frames import face_mask
from deblur3d.eval import metrics, temporal
from deblur3d.eval.metrics import frame_metrics, identity_scorer
from deblur3d.eval.methods import load_methods
from deblur3d.eval.reference import PAPER_SIZES
from deblur3d.eval.sources import authors_source, cache_source, default_authors_dir
from deblur3d.eval.timing import time_methods
from deblur3d.eval.writers import (figure_keys, write_figure, write_frames, write_table1, write_table2,
                                   write_table3)
from deblur3d.priors.online import OnlineFramePriors
from deblur3d.priors.settings import PriorsSettings


@dataclasses.dataclass(frozen=True)
class EvalConfig:
    checkpoints: tuple = ()             # (name, path) pairs; empty: discovered in checkpoints_dir
    checkpoints_dir: str = str(paths.CHECKPOINTS)
    cache_dir: str | None = None        # None: cache/data
    split: str = "val"
    blur: blur_settings.BlurConfig = blur_settings.PRESETS[blur_settings.DEFAULT_PRESET]   # of our runs; each frame's motion is
                                                                       # seeded by its run and index: reproducible
    every: int = 10                     # 106 of the 1,056 val frames: `make eval` in ~10 min on 2 cores
    authors_dir: str | None = None      # None: <data root>/300vw-sample/vd001 if it exists; "": none
    priors_dir: str | None = str(paths.PRIORS)
    recon: PriorsSettings = PriorsSettings()   # the ReconNet of priors computed online
    data_dir: str | None = None
    out: str = "results"
    figures: int = 4
    identity: bool = True
    timing_sizes: tuple = PAPER_SIZES
    timing_repeats: int = 2
    precision: str = "float32"          # DeblurNets' compute type (mixed_bfloat16: faster, measured here)
    flip_ensemble: bool = False         # each checkpoint also as "<name>+flip" (inference.Deblurrer)
    photos: bool = False                # every frame deblurred as a photo (blur.photo_stack)
    photo_shift: int = PHOTO_SHIFT      # px between a photo's copies in its stack; 0: identical copies


# --- methods -------------------------------------------------------------------------

def uses_precomputed(method, source):
    """Whether `method` takes the source's precomputed priors: made the way its own are."""
    return source.precomputed_priors and method.priors_recipe == source.priors_recipe


def as_photo(blurry, shift=PHOTO_SHIFT):
    """(..., 3 n) stack -> the stack of a photo made of its centre frame alone, as the video
    tool stacks a one-frame clip (blur.photo_stack)."""
    return blur.photo_stack(blur.centre_frame(blurry), blurry.shape[-1] // 3, shift)


def evaluate_source(source, methods, encoder=None, keep=(), photos=False, photo_shift=PHOTO_SHIFT, locate=None):
    """Runs every method on every frame -> (records: one dict per frame and method,
    kept: {key: {method name or 'sharp': image}} for the keys in `keep`). Methods needing
    priors take the source's precomputed ones when made their way, else their own online
    priors (computed once per frame for all methods sharing them). What the methods see of
    the face, its five points, is found on the blurry centre frame by `locate`
    (data.faces.BlurryLocator), as the video tool finds it; the sharp frame's points only
    place the scored face region."""
    records, kept, warping = [], {}, temporal.ClipWarping()
    locate = locate or BlurryLocator()
    for frame in tqdm(source.frames(), total=len(source.keys), desc=source.name, unit="frame"):
        blurry, sharp = frame["blurry"][None], frame["sharp"]
        blurry = as_photo(blurry, photo_shift) if photos else blurry
        points5 = locate(blur.centre_frame(blurry[0]), frame["key"].rsplit("/", 1)[0], frame["points5"])[None]
        online_priors = {}

        def priors(m):
            if not m.needs_priors:
                return None, None
            if uses_precomputed(m, source):
                return frame["render"][None], frame["identity"][None]
            if id(m.online) not in online_priors:
                online_priors[id(m.online)] = m.online(blurry, points5)
            return online_priors[id(m.online)]

        mask = face_mask(sharp.shape, frame["points68"], frame["points5"])
        score_identity = identity_scorer(encoder, sharp)
        outputs = {m.name: m(blurry, points5, *priors(m)) for m in methods}
        centre = blur.centre_frame(blurry[0])
        # Consecutive scored frames of a run: `every` frames apart (the authors': stored frames).
        warp, floor = warping.score(frame["key"].rsplit("/", 1)[0], sharp, outputs, mask)
        for m in methods:
            records.append(dict(dataset=source.name, key=frame["key"], method=m.name, warp=warp[m.name],
                                warp_sharp=floor,
                                **frame_metrics(outputs[m.name], sharp, mask, score_identity, centre)))
        if frame["key"] in keep:
            kept[frame["key"]] = dict(outputs, sharp=sharp)
    return records, kept


# --- the whole evaluation ------------------------------------------------------------

def evaluate(config=EvalConfig(), log=print):
    """Writes table1.md/.csv, table2.md, table3.md, frames.csv and figures/ under config.out;
    returns (summary, notes)."""
    tf.keras.utils.set_random_seed(0)
    notes = []
    onlines = {}

    def online_for(header):   # one ReconNet (+ refiner) per way of making the priors
        settings = config.recon.for_model(header)
        key = tuple(sorted(settings.recipe.items()))
        return onlines.setdefault(key, OnlineFramePriors(settings, config.data_dir))

    methods = load_methods(config, notes, online_for)
    notes.append(f"blur of our frames: {config.blur} (each frame's motion fixed by its run and index); the "
                 "authors' frames keep their stored blur")
    if config.photos:
        notes.append("every frame deblurred as a photo: its stack is its blurry centre frame five times, "
                     f"neighbour k moved k x {config.photo_shift} px sideways (blur.photo_stack)")
    priors_models = [m.name for m in methods if m.needs_priors]

    sources = [cache_source(config)]   # no cache: stops here, before anything is written
    log(f"evaluating on {devices.describe()}, precision {config.precision}")
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    authors = default_authors_dir(config)
    if authors:
        sources.append(authors_source(authors))
        seen = [r.name for r in Cache(config.cache_dir).runs() if r.split != config.split
                and Path(r.meta.get("source") or "/nonexistent").resolve() == Path(authors).resolve()]
        if seen:
            notes.append(f"{sources[-1].name} is in the cache as run(s) {', '.join(seen)} of another split: "
                         "checkpoints trained on that split saw these frames, so it is not a held-out result")
    encoder = metrics.IdentityEncoder() if config.identity else None

    records, summary, locate = [], {}, BlurryLocator()
    for source in sources:
        usable = []
        for m in methods:
            if not m.needs_priors:
                usable.append(m)
                continue
            recipe = m.priors_recipe
            steps = recipe["refine_landmarks"]
            refined = f" + landmark refinement ({steps} steps)" if steps else ""
            refined += f" + {recipe['texture']} texture" if recipe["texture"] != "recon" else ""
            refined = f" of {Path(recipe['recon'] or 'an untrained ReconNet').name}{refined}"
            if uses_precomputed(m, source):
                usable.append(m)
                notes.append(f"{m.name} on {source.name}: priors precomputed{refined}")
            # Built only when a source needs it: loading ReconNet and the face model takes a while.
            elif m.online.trained and m.online.available():
                usable.append(m)
                notes.append(f"{m.name} on {source.name}: priors online (ReconNet{refined})")
            else:
                why = (f"no ReconNet weights at {m.online.settings.recon_weights}" if not m.online.trained
                       else m.online.reason)
                notes.append(f"{m.name} not evaluated on {source.name}: it needs priors, none precomputed "
                             f"as it was trained{refined} and none online ({why})")
        keep = figure_keys(source.keys, config.figures) if source is sources[0] else []
        new, kept = evaluate_source(source, usable, encoder, set(keep), config.photos, config.photo_shift, locate)
        records += new
        for key in keep:
            write_figure(out / "figures" / f"{source.name}_{key.replace('/', '_')}.png", usable,
                         kept[key], kept[key]["sharp"])
    summary = metrics.summarize(records)
    notes = list(dict.fromkeys(notes + [locate.note()]))

    write_table1(out, sources, methods, summary, notes)
    write_table2(out, sources, methods, summary, config.identity, records)
    write_frames(out, records)
    if config.timing_sizes:
        online = next((m.online for m in methods if m.needs_priors), None)
        priors_note = ("" if not priors_models else
                       "Models needing priors are not timed (no face model)." if not online.available() else
                       "Priors (ReconNet + rendering of the 3D face, + the landmark refinement where a model's "
                       "priors were refined) are timed with the models that use them"
                       + ("" if online.trained else ", with an untrained ReconNet (same cost)") + ".")
        seconds = time_methods(methods, config.timing_sizes, config.timing_repeats)
        write_table3(out, methods, config.timing_sizes, seconds, config.timing_repeats, priors_note)
    for n in notes:
        log(f"note: {n}")
    log(f"wrote {out}/table1.md, table1.csv, table2.md{', table3.md' if config.timing_sizes else ''}, "
        f"frames.csv, figures/")
    return summary, notes
