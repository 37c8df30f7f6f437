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
  exist, else computed online by ReconNet from the blurry centre frame and the 5 points.
- Table 3: seconds per frame on random input on this machine, priors included, after one
  warm-up call per size; sizes are height × width.
"""
import csv
import dataclasses
import glob
import os
import time
from pathlib import Path

import cv2
import numpy as np
import tensorflow as tf
from tqdm import tqdm

from deblur3d import paths
from deblur3d.data import blur, motion, readers
from deblur3d.data.blur import centre_frame
from deblur3d.data.cache import Cache
from deblur3d.data.pipeline import PipelineConfig, evaluation_dataset
from deblur3d.deblur.inference import load_deblurrer
from deblur3d.eval import metrics
from deblur3d.face import coeffs as coeffs_lib
from deblur3d.recon.priors import OnlineFramePriors
from deblur3d.train import weights

ARCHITECTURE_ORDER = ("input", "dbn", "srn", "ours")   # figure columns, left to right

# Paper numbers (docs/reproduction.md §8); 300VW, the dataset our val split stands in for.
PAPER_TABLE1 = (("Ren et al. (ours)", "37.70 / 0.9849", "38.16 / 0.9871"),
                ("Tao et al. (SRN)", "36.36 / 0.9784", "37.25 / 0.9757"),
                ("Su et al. (DBN)", "34.40 / 0.9218", "37.00 / 0.9850"),
                ("Nah et al.", "33.72 / 0.9559", "—"), ("Pan et al.", "25.46 / 0.9002", "—"),
                ("Shen et al.", "21.94 / 0.8803", "—"))
# Table 2: (label, use_render, use_identity) -> paper PSNR, SSIM, identity similarity.
ABLATION = ((("baseline (no priors)", False, False), ("36.74", "0.9817", "0.8352")),
            (("+ identity", False, True), ("36.82", "—", "—")),
            (("+ render", True, False), ("37.53", "0.9869", "—")),
            (("+ render + identity (full)", True, True), ("37.70", "0.9849", "0.8373")))
PAPER_SIZES = ((360, 450), (580, 610))
PAPER_TABLE3 = {"ours": ("0.67", "0.70"), "dbn": ("0.31", "0.77"), "srn": ("1.81", "1.98")}   # Titan X
PAPER_TABLE3_NAH = ("2.03", "2.56")


@dataclasses.dataclass(frozen=True)
class EvalConfig:
    checkpoints: tuple = ()             # (name, path) pairs; empty: discovered in checkpoints_dir
    checkpoints_dir: str = "checkpoints"
    cache_dir: str | None = None        # None: cache/data
    split: str = "val"
    blur: motion.BlurConfig = motion.PRESETS[motion.DEFAULT_PRESET]   # of our runs; each frame's motion is
                                                                       # seeded by its run and index: reproducible
    every: int = 10                     # 106 of the 1,056 val frames: `make eval` in ~10 min on 2 cores
    authors_dir: str | None = None      # None: <data root>/300vw-sample/vd001 if it exists; "": none
    priors_dir: str | None = "cache/priors"
    recon_weights: str | None = "checkpoints/recon_ict.weights.npz"
    face_model: str = "ict"
    model_path: str | None = None
    data_dir: str | None = None
    out: str = "results"
    figures: int = 4
    identity: bool = True
    timing_sizes: tuple = PAPER_SIZES
    timing_repeats: int = 2


# --- methods -------------------------------------------------------------------------

@dataclasses.dataclass
class Method:
    name: str
    deblurrer: object = None   # None: the input itself

    @property
    def header(self):
        return self.deblurrer.header if self.deblurrer else {}

    @property
    def architecture(self):
        return self.header.get("architecture", "input")

    @property
    def needs_priors(self):
        return bool(self.deblurrer and self.deblurrer.needs_priors)

    def describe(self):
        if not self.deblurrer:
            return "no deblurring"
        what = self.architecture
        if what == "ours":
            priors = [p for p in ("render", "identity") if self.header.get(f"use_{p}")]
            what += " + " + " + ".join(priors) if priors else ", no priors"
        return f"{what}, {self.header.get('steps', '?')} steps"

    def __call__(self, blurry, render=None, identity=None):
        """(1, H, W, 15) -> (H, W, 3) numpy."""
        out = self.deblurrer(blurry, render, identity) if self.deblurrer else centre_frame(blurry)
        return np.asarray(out)[0]


def discover_checkpoints(folder):
    """(name, path) of every *.weights.npz of `folder` whose header is a deblurring model."""
    found = []
    for path in sorted(glob.glob(str(Path(folder) / "*.weights.npz"))):
        try:
            architecture = weights.read_header(path).get("architecture")
        except weights.WeightsFileError:
            continue
        if architecture in ARCHITECTURE_ORDER[1:]:
            found.append((Path(path).name[:-len(".weights.npz")], path))
    return found


def load_methods(config, notes):
    """input + every checkpoint, ordered as the figure columns; missing files become notes."""
    methods = [Method("input")]
    for name, path in config.checkpoints or discover_checkpoints(config.checkpoints_dir):
        if not Path(path).is_file():
            notes.append(f"checkpoint {name}: {path} does not exist, skipped")
            continue
        methods.append(Method(name, load_deblurrer(path)))
    if len(methods) == 1:
        notes.append(f"no deblurring checkpoint found (in {config.checkpoints_dir}): only the input is evaluated")
    return sorted(methods, key=lambda m: ARCHITECTURE_ORDER.index(m.architecture))


def paper_reference(method):
    """The paper's 300VW PSNR / SSIM of the configuration a method reproduces, or '—'."""
    h = method.header
    if method.architecture == "ours":
        for (_, render, identity), (p, s, _) in ABLATION:
            if (bool(h.get("use_render")), bool(h.get("use_identity"))) == (render, identity):
                return p, s
    label = {"srn": "Tao", "dbn": "Su"}.get(method.architecture)
    row = next((r for r in PAPER_TABLE1 if label and r[0].startswith(label)), None)
    return tuple(row[1].split(" / ")) if row else ("—", "—")


# --- datasets ------------------------------------------------------------------------

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


def cache_source(config):
    cache = Cache(config.cache_dir)
    runs = cache.runs(config.split)
    priors_dir = config.priors_dir if config.priors_dir and Path(config.priors_dir, "index.json").is_file() else None
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
                  f"{len(keys)} frames of {len(runs)} runs", keys, frames, bool(priors_dir))


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


# --- metrics -------------------------------------------------------------------------

def identity_scorer(encoder, sharp):
    """output -> identity similarity to `sharp`, in the box found once on the sharp frame."""
    box = encoder.detect(sharp) if encoder else None
    if box is None:
        return lambda image: float("nan")
    reference = encoder.descriptor(sharp, box)
    return lambda image: metrics.cosine(reference, encoder.descriptor(image, box))


def frame_metrics(output, sharp, mask, identity):
    face = mask.any()
    return dict(psnr=metrics.psnr(output, sharp), ssim=metrics.ssim(output, sharp),
                face_psnr=metrics.psnr(output, sharp, mask) if face else float("nan"),
                face_ssim=metrics.ssim(output, sharp, mask) if face else float("nan"),
                identity=identity(output))


METRICS = ("psnr", "ssim", "face_psnr", "face_ssim", "identity")


def evaluate_source(source, methods, online=None, encoder=None, keep=()):
    """Runs every method on every frame -> (records: one dict per frame and method,
    kept: {key: {method name or 'sharp': image}} for the keys in `keep`)."""
    records, kept = [], {}
    for frame in tqdm(source.frames(), total=len(source.keys), desc=source.name, unit="frame"):
        blurry, sharp = frame["blurry"][None], frame["sharp"]
        render = identity = None
        if any(m.needs_priors for m in methods):
            if "render" in frame:
                render, identity = frame["render"][None], frame["identity"][None]
            else:
                render, identity = online(blurry, frame["points5"][None])
        mask = metrics.face_mask(sharp.shape, frame["points68"], frame["points5"])
        score_identity = identity_scorer(encoder, sharp)
        outputs = {}
        for m in methods:
            out = m(blurry, render, identity)
            records.append(dict(dataset=source.name, key=frame["key"], method=m.name,
                                **frame_metrics(out, sharp, mask, score_identity)))
            outputs[m.name] = out
        if frame["key"] in keep:
            kept[frame["key"]] = dict(outputs, sharp=sharp)
    return records, kept


def summarize(records):
    """{(dataset, method): mean of each metric over frames, NaNs (no face) left out, + counts}."""
    groups = {}
    for r in records:
        groups.setdefault((r["dataset"], r["method"]), []).append(r)
    out = {}
    for group, rows in groups.items():
        values = {k: np.array([r[k] for r in rows], np.float64) for k in METRICS}
        out[group] = {k: float(np.nanmean(v)) if np.isfinite(v).any() else float("nan") for k, v in values.items()}
        out[group].update(frames=len(rows), identity_frames=int(np.isfinite(values["identity"]).sum()))
    return out


# --- timing (Table 3) ----------------------------------------------------------------

def random_frame(height, width, rng):
    """Random 5-frame stack and five points of a plausible face at the frame's centre."""
    blurry = rng.uniform(size=(1, height, width, 15)).astype(np.float32)
    unit = np.array([[-.2, -.15], [.2, -.15], [0, .05], [-.15, .25], [.15, .25]], np.float32)
    points5 = np.array([width / 2, height / 2], np.float32) + unit * min(height, width) * 0.8
    return blurry, points5[None]


def time_methods(methods, sizes, online, repeats=2, seed=0):
    """{method name: [seconds per frame at each size]} (NaN where priors are unavailable)."""
    rng = np.random.default_rng(seed)
    seconds = {m.name: [] for m in methods if m.deblurrer}
    steps = tqdm(total=len(sizes) * len(seconds), desc="timing", unit="model")
    for height, width in sizes:
        blurry, points5 = random_frame(height, width, rng)
        for m in methods:
            if not m.deblurrer:
                continue
            if m.needs_priors and online is None:
                seconds[m.name].append(float("nan"))
                steps.update()
                continue

            def once():
                priors = online(blurry, points5) if m.needs_priors else (None, None)
                return np.asarray(m.deblurrer(blurry, *priors))

            once()   # traces the graphs for this size
            start = time.perf_counter()
            for _ in range(repeats):
                once()
            seconds[m.name].append((time.perf_counter() - start) / repeats)
            steps.update()
    steps.close()
    return seconds


# --- outputs -------------------------------------------------------------------------

def _fmt(value, digits):
    return "—" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def _md_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]) + "\n"


CONVENTIONS = ("PSNR (dB) and SSIM on RGB at 0–255 (output clipped to [0, 1], not quantised; SSIM 11×11 Gaussian "
               "window, σ 1.5, per channel, averaged), mean of per-frame values. Face: inside the hull of the 68 "
               "points, or of the 5 points scaled ×2 about their centroid where there are no 68 points.")


def write_table1(out, sources, methods, summary, notes):
    rows, csv_rows = {}, []
    for s in sources:
        for m in methods:
            r = summary.get((s.name, m.name))
            if r is None:
                continue
            paper = paper_reference(m)
            rows.setdefault(s.name, []).append(
                [m.name, m.describe(), _fmt(r["psnr"], 2), _fmt(r["ssim"], 4), _fmt(r["face_psnr"], 2),
                 _fmt(r["face_ssim"], 4), r["frames"], " / ".join(paper)])
            csv_rows.append(dict(dataset=s.name, method=m.name, model=m.describe(), frames=r["frames"],
                                 **{k: r[k] for k in METRICS}, paper_psnr=paper[0], paper_ssim=paper[1]))
    text = ["# Table 1: deblurring quality\n", CONVENTIONS + "\n"]
    for s in sources:
        text += [f"## {s.name}\n", s.description + "\n",
                 _md_table(["method", "model", "PSNR", "SSIM", "face PSNR", "face SSIM", "frames",
                            "paper 300VW PSNR / SSIM"], rows.get(s.name, []))]
    text += ["## The paper's Table 1 (its test sets, GPU-trained models)\n",
             _md_table(["method", "300VW PSNR / SSIM", "VidTIMIT PSNR / SSIM"], PAPER_TABLE1)]
    text += ["## Notes\n", "\n".join(f"- {n}" for n in notes) + "\n"] if notes else []
    (out / "table1.md").write_text("\n".join(text))
    with open(out / "table1.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, list(csv_rows[0]) if csv_rows else ["dataset"])
        writer.writeheader()
        writer.writerows(csv_rows)


def ablation_rows(methods):
    """[(label, [matching 'ours' methods], paper numbers)] for the four rows of Table 2."""
    return [(label, [m for m in methods if m.architecture == "ours"
                     and (bool(m.header.get("use_render")), bool(m.header.get("use_identity"))) == (render, identity)],
             paper) for (label, render, identity), paper in ABLATION]


def write_table2(out, sources, methods, summary, identity_on):
    text = ["# Table 2: ablation of the 3D priors\n",
            CONVENTIONS + " Identity: cosine similarity of dlib face descriptors of the output and the sharp "
            "frame, both in the box detected on the sharp frame (frames without a detection left out)."
            + ("" if identity_on else " Not computed in this run (identity disabled).") + "\n",
            "Checkpoints are matched to rows by their header (architecture 'ours', use_render, use_identity).\n"]
    for s in sources:
        rows = []
        inputs = [("input (no deblurring)", [m for m in methods if not m.deblurrer], ("—", "—", "—"))]
        for label, matches, (p_psnr, p_ssim, p_id) in inputs + ablation_rows(methods):
            for m in matches or [None]:
                r = summary.get((s.name, m.name)) if m else None
                if r is None:
                    why = "no checkpoint" if m is None else f"{m.name}: not evaluated (no priors)"
                    rows.append([label, why, "—", "—", "—", "—", p_psnr, p_ssim, p_id])
                    continue
                rows.append([label, m.name, _fmt(r["psnr"], 2), _fmt(r["ssim"], 4), _fmt(r["identity"], 4),
                             f"{r['identity_frames']}/{r['frames']}", p_psnr, p_ssim, p_id])
        text += [f"## {s.name}\n", s.description + "\n",
                 _md_table(["configuration", "checkpoint", "PSNR", "SSIM", "identity", "frames with a face",
                            "paper PSNR", "paper SSIM", "paper identity"], rows)]
    (out / "table2.md").write_text("\n".join(text))


def write_table3(out, methods, sizes, seconds, repeats, priors_note):
    size_names = [f"{h}×{w}" for h, w in sizes]
    same_sizes = tuple(map(tuple, sizes)) == PAPER_SIZES
    rows = []
    for m in methods:
        if m.name not in seconds:
            continue
        paper = PAPER_TABLE3.get(m.architecture, ("—", "—"))
        rows.append([m.name, m.describe() + (" (priors included)" if m.needs_priors else ""),
                     *(_fmt(v, 3) for v in seconds[m.name]), *(paper if same_sizes else [])])
    paper_cols = [f"paper Titan X {n}" for n in size_names] if same_sizes else []
    text = ["# Table 3: running time (seconds per frame)\n",
            f"This machine, {len(tf.config.list_physical_devices('GPU')) or 'no'} GPU, {_cpu_count()} CPU cores, "
            f"batch 1, random input of height × width; mean of {repeats} call(s) after one warm-up call per size. "
            f"{priors_note} The paper's column pairs DBN with Su et al., SRN with Tao et al. (Nah et al.: "
            f"{' / '.join(PAPER_TABLE3_NAH)} s); they ran on a Titan X GPU.\n",
            _md_table(["method", "model", *size_names, *paper_cols], rows)]
    (out / "table3.md").write_text("\n".join(text))


def _cpu_count():
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def write_figure(path, methods, images, sharp):
    """One row: a tile per method and the sharp frame, with PSNR / SSIM under each tile."""
    tiles = []
    for name, image in [(m.name, images[m.name]) for m in methods] + [("sharp", sharp)]:
        tile = (np.clip(image, 0, 1) * 255).round().astype(np.uint8)
        strip = np.full((40, tile.shape[1], 3), 255, np.uint8)
        lines = [name] + ([] if name == "sharp" else
                          [f"{metrics.psnr(image, sharp):.2f} dB / {metrics.ssim(image, sharp):.4f}"])
        for i, line in enumerate(lines):
            cv2.putText(strip, line, (4, 15 + 18 * i), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
        tiles.append(np.concatenate([tile, strip], 0))
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(np.concatenate(tiles, 1), cv2.COLOR_RGB2BGR))


def figure_keys(keys, count):
    """`count` keys spread evenly over the evaluated frames (middle of each equal share)."""
    return [keys[int((i + 0.5) * len(keys) / count)] for i in range(min(count, len(keys)))]


# --- the whole evaluation ------------------------------------------------------------

def evaluate(config=EvalConfig(), log=print):
    """Writes table1.md/.csv, table2.md, table3.md, frames.csv and figures/ under config.out;
    returns (summary, notes)."""
    tf.keras.utils.set_random_seed(0)
    notes = []
    methods = load_methods(config, notes)
    notes.append(f"blur of our frames: {config.blur} (each frame's motion fixed by its run and index); the "
                 "authors' frames keep their stored blur")
    online = OnlineFramePriors(config.recon_weights, config.face_model, config.model_path, config.data_dir)
    priors_models = [m.name for m in methods if m.needs_priors]

    sources = [cache_source(config)]   # no cache: stops here, before anything is written
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

    records, summary = [], {}
    for source in sources:
        # Built only when a source needs it: loading ReconNet and the face model takes a while.
        online_ok = bool(priors_models) and not source.precomputed_priors and online.trained and online.available()
        usable = [m for m in methods if not m.needs_priors or source.precomputed_priors or online_ok]
        why = f"no ReconNet weights at {config.recon_weights}" if not online.trained else online.reason
        for m in methods:
            if m not in usable:
                notes.append(f"{m.name} not evaluated on {source.name}: it needs priors, none precomputed "
                             f"and none online ({why})")
            elif m.needs_priors:
                how = "precomputed" if source.precomputed_priors else "online (ReconNet)"
                notes.append(f"{m.name} on {source.name}: priors {how}")
        keep = figure_keys(source.keys, config.figures) if source is sources[0] else []
        new, kept = evaluate_source(source, usable, online, encoder, set(keep))
        records += new
        for key in keep:
            write_figure(out / "figures" / f"{source.name}_{key.replace('/', '_')}.png", usable,
                         kept[key], kept[key]["sharp"])
    summary = summarize(records)
    notes = list(dict.fromkeys(notes))

    write_table1(out, sources, methods, summary, notes)
    write_table2(out, sources, methods, summary, config.identity)
    with open(out / "frames.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, ["dataset", "key", "method", *METRICS])
        writer.writeheader()
        writer.writerows(records)
    if config.timing_sizes:
        timed_online = online if priors_models and online.available() else None
        priors_note = ("" if not priors_models else
                       "Models needing priors are not timed (no face model)." if timed_online is None else
                       "Priors (ReconNet + rendering of the 3D face) are timed with the models that use them"
                       + ("" if online.trained else ", with an untrained ReconNet (same cost)") + ".")
        seconds = time_methods(methods, config.timing_sizes, timed_online, config.timing_repeats)
        write_table3(out, methods, config.timing_sizes, seconds, config.timing_repeats, priors_note)
    for n in notes:
        log(f"note: {n}")
    log(f"wrote {out}/table1.md, table1.csv, table2.md{', table3.md' if config.timing_sizes else ''}, "
        f"frames.csv, figures/")
    return summary, notes
