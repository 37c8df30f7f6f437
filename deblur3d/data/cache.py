"""The on-disk cache of face runs: built atomically from sources, read by the tf.data pipeline.

Layout (FORMAT 1):
    <out>/index.json         build config, one entry per run (split, identity, size, origin), summary
    <out>/summary.txt        the printed summary: clips, frames kept, frames dropped and why
    <out>/runs/<run>/sharp.npy      (T, S, S, 3) uint8 RGB, steady crops of one face run
                     points5.npy    (T, 5, 2) float32 x, y in crop pixels (pixel centres at integers)
                     points68.npy   (T, 68, 2) float32
                     blurry.npy     (T, S, S, 3) uint8, only when the source ships blurry frames
                     render.npy     (T, R, R, 4) uint8 RGBA, optional ("render_space" says where)
                     coeffs.npy     (T, 239) float32, optional
Uncompressed .npy so that the pipeline memory-maps a run and reads only the few frames and
the 256x256 window a sample needs: no decoding, lossless ground truth, and blur synthesised at
load (deblur3d/data/motion.py: any blur without a rebuild). 1.5 GB for the default build.
"""
import collections
import dataclasses
import functools
import json
import logging
import time
from pathlib import Path

import numpy as np

from deblur3d import paths
from deblur3d.atomic import atomic_dir
from deblur3d.data import faces, readers

FORMAT = 1
log = logging.getLogger(__name__)

# The videos README: "Soft clips - do not use as sharp ground truth".
SOFT_CLIPS = ("retalk-2", "livep-d20", "livep-d11", "livep-d12", "livep-d14")


@dataclasses.dataclass(frozen=True)
class BuildConfig:
    out: str = str(paths.DATA_CACHE)
    data_dir: str | None = None           # None: deblur3d.paths.default_data_root()
    sources: tuple = ("videos", "300vw-sample")
    crop_size: int = 320                  # stored crops are crop_size x crop_size
    crop_scale: float = 1.8               # crop side / median face size
    max_crop_scale: float = 2.4           # beyond this a moving face's run is split
    max_upscale: float = 1.5              # runs needing more enlargement are dropped
    min_run_frames: int = faces.MIN_RUN
    max_frames_per_clip: int | None = None
    excluded_clips: tuple = SOFT_CLIPS
    authors_split: str = "val"            # our only sample of the authors' blur: it measures, not trains
    detect_max_side: int = 320
    split_file: str | None = None         # `<clip id> <split>` a line: only those clips, in those splits


def resolve_sources(config):
    """Source specs -> clips. `videos` and `300vw-sample` name the folders of the data root;
    otherwise `kind:path[@split]` with kind in manifest, 300vw, vidtimit, video, frames, authors."""
    clips = []
    for spec in config.sources:
        if spec == "videos":
            clips += readers.manifest_clips(paths.data_path("videos", root=config.data_dir))
            continue
        if spec == "300vw-sample":
            path = paths.data_path("300vw-sample", "vd001", root=config.data_dir)
            clips.append(readers.Clip("vd001", "authors", path, "vd001", config.authors_split))
            continue
        kind, sep, rest = spec.partition(":")
        path, _, split = rest.partition("@")
        listers = {"manifest": lambda p, s: readers.manifest_clips(p),
                   "300vw": readers.clips_300vw, "vidtimit": readers.clips_vidtimit,
                   "video": lambda p, s: [readers.single_clip(p, s)],
                   "frames": lambda p, s: [readers.single_clip(p, s)],
                   "authors": lambda p, s: [readers.single_clip(p, s)]}
        if not sep or kind not in listers:
            raise ValueError(f"unknown source {spec!r}: use videos, 300vw-sample or "
                             f"KIND:PATH[@SPLIT] with KIND in {', '.join(listers)}")
        clips += listers[kind](Path(path), split or ("val" if kind == "vidtimit" else "train"))
    if config.split_file:
        clips = assign_splits(clips, readers.read_split_file(config.split_file))
    ids = [c.clip_id for c in clips]
    if len(set(ids)) != len(ids):
        raise ValueError(f"clip ids repeat across sources: {sorted(i for i in set(ids) if ids.count(i) > 1)}")
    splits = collections.defaultdict(set)
    for c in clips:
        splits[c.identity].add(c.split)
    shared = {i: sorted(s) for i, s in splits.items() if len(s) > 1}
    if shared:
        raise ValueError(f"identities in more than one split: {shared}")
    return clips


def assign_splits(clips, splits):
    """The clips a split file names ({clip id: split}), each in its split; the others are left out."""
    unknown = sorted(set(splits) - {c.clip_id for c in clips})
    if unknown:
        raise ValueError(f"the split file names clips no source has: {', '.join(unknown[:5])}"
                         f"{' ...' if len(unknown) > 5 else ''} (ids as prepare_data prints them, e.g. 300vw-001)")
    return [dataclasses.replace(c, split=splits[c.clip_id]) for c in clips if c.clip_id in splits]


def write_run(root, meta, **arrays):
    """Saves one run's arrays under root/runs/<name>; returns its index entry."""
    folder = Path(root) / "runs" / meta["name"]
    folder.mkdir(parents=True)
    for key, value in arrays.items():
        if value is not None:
            np.save(folder / f"{key}.npy", value)
    sharp = arrays["sharp"]
    return dict(meta, frames=len(sharp), height=sharp.shape[1], width=sharp.shape[2],
                blurry="stored" if arrays.get("blurry") is not None else "synthesised",
                coeffs=arrays.get("coeffs") is not None,
                render_space=meta.get("render_space") if arrays.get("render") is not None else None)


def write_index(root, config, runs, summary):
    index = dict(format=FORMAT, config=dataclasses.asdict(config), runs=runs, summary=summary)
    (Path(root) / "index.json").write_text(json.dumps(index, indent=1, default=str))
    (Path(root) / "summary.txt").write_text(format_summary(summary) + "\n")


def _video_runs(clip, config, annotator, root, record):
    """Tracks a clip, cuts it into runs with steady crops and writes them (two decoding
    passes, so only one run's crops are ever in memory)."""
    frames = functools.partial(readers.iter_frames, clip, config.max_frames_per_clip)
    annotations = functools.partial(readers.annotated_points, clip) if clip.annot_dir else None
    points, reasons, hw = faces.track(frames(), annotator, annotations)
    dropped = record["dropped"]
    dropped.update(r for r in reasons if r)
    record["read"] = len(points)
    if len(points) < config.min_run_frames:
        raise readers.BadInput("too short")
    if all(p is None for p in points):
        raise readers.BadInput("no face")
    stretches = faces.runs([p is not None for p in points], config.min_run_frames)
    dropped["run too short"] += sum(p is not None for p in points) - sum(b - a for a, b in stretches)
    segments = []
    for a, b in stretches:
        for s, e, region in faces.crop_regions(np.stack(points[a:b]), hw, config.crop_scale,
                                               config.max_crop_scale, config.min_run_frames):
            if config.crop_size / region[2] > config.max_upscale:
                dropped["face too small"] += e - s
            else:
                segments.append((a + s, a + e, region))
    if not segments:
        raise readers.BadInput("no usable run")
    entries, size = [], config.crop_size
    for k, (a, b, region) in enumerate(segments):
        crops = np.empty((b - a, size, size, 3), np.uint8)
        for i, rgb in enumerate(frames()):
            if i >= b:
                break
            if i >= a:
                crops[i - a] = faces.crop(rgb, region, size)
        p68 = faces.crop_points(np.stack(points[a:b]), region, size)
        meta = dict(name=f"{clip.clip_id}-{k:02d}", clip_id=clip.clip_id, identity=clip.identity,
                    split=clip.split, source=str(clip.path), first_frame=a, region=list(region),
                    scale=round(size / region[2], 4),
                    points68="annotation" if annotations else "dlib", points5="from 68")
        entries.append(write_run(root, meta, sharp=crops, points68=p68, points5=faces.five_points(p68)))
    return entries


def _authors_run(clip, config, annotator, root, record):
    """The authors' layout as one run, frames kept as given: their blurry frames are the
    input (not re-blurred), their five points are kept, their renders stay in the 224
    aligned crop; the 68 points come from dlib inside their face boxes."""
    a = readers.read_authors(clip.path)
    n = config.max_frames_per_clip or len(a["sharp"])
    record["read"] = min(n, len(a["sharp"]))
    p68 = np.stack([annotator.landmarks(im, box) for im, box in zip(a["sharp"][:n], a["boxes"][:n])])
    meta = dict(name=f"{clip.clip_id}-00", clip_id=clip.clip_id, identity=clip.identity, split=clip.split,
                source=str(clip.path), first_frame=0, region=None, scale=1.0, points68="dlib",
                points5="authors", render_space="aligned224")
    return [write_run(root, meta, sharp=a["sharp"][:n], blurry=a["blurry"][:n], points5=a["points5"][:n],
                      points68=p68, render=None if a["render"] is None else a["render"][:n])]


def build_cache(config):
    """Builds the cache at config.out from config.sources; returns the summary.

    Bad inputs (unreadable, empty, no face, too short, no usable run) are skipped and
    counted with their reason; clips in `excluded_clips` are skipped unread.
    """
    clips = resolve_sources(config)
    annotator = faces.FaceAnnotator(config.detect_max_side)
    records, runs = [], []
    with atomic_dir(config.out) as tmp:
        for clip in clips:
            record = dict(clip=clip.clip_id, split=clip.split, read=0, kept=0, runs=0,
                          dropped=collections.Counter(), skipped=None)
            start = time.time()
            try:
                if clip.clip_id in config.excluded_clips:
                    reason = "soft clip" if clip.clip_id in SOFT_CLIPS else "excluded"
                    record["dropped"][reason] += clip.num_frames or 0   # not read: count listed frames
                    raise readers.BadInput(reason)
                process = _authors_run if clip.kind == "authors" else _video_runs
                new = process(clip, config, annotator, tmp, record)
                runs += new
                record.update(kept=sum(r["frames"] for r in new), runs=len(new))
                log.info("%s: %d frames read, %d kept in %d runs (%.1f s)", clip.clip_id,
                         record["read"], record["kept"], record["runs"], time.time() - start)
            except readers.BadInput as err:
                record["skipped"] = str(err)
                log.warning("%s: skipped: %s", clip.clip_id, err)
            records.append(record)
        summary = summarize(records)
        write_index(tmp, config, runs, summary)
    return summary


def summarize(records):
    """Per-clip records -> dict(clips=[...], splits={split: totals}); every frame read is
    either kept or counted under a reason."""
    clips, splits = [], {}
    for r in records:
        dropped = collections.Counter(r["dropped"])
        lost = r["read"] - r["kept"] - sum(dropped.values())
        if r["skipped"] and lost > 0:   # frames read before a clip-level reason such as "too short"
            dropped[r["skipped"]] += lost
        clips.append(dict(r, dropped=dict(+dropped)))   # + drops zero counts
        s = splits.setdefault(r["split"], dict(clips=0, skipped_clips=0, runs=0, read=0, kept=0, dropped={}))
        s["clips" if r["skipped"] is None else "skipped_clips"] += 1
        for key in ("runs", "read", "kept"):
            s[key] += r[key]
        s["dropped"] = dict(collections.Counter(s["dropped"]) + dropped)
    return dict(clips=clips, splits=splits)


def format_summary(summary):
    lines = [f"{'clip':<20} {'split':<6} {'read':>6} {'kept':>6} {'runs':>4}  dropped frames / skipped"]
    for r in summary["clips"]:
        why = ", ".join(f"{k} {v}" for k, v in r["dropped"].items() if v)
        why += f"{'; ' if why else ''}SKIPPED: {r['skipped']}" if r["skipped"] else ""
        lines.append(f"{r['clip']:<20} {r['split']:<6} {r['read']:>6} {r['kept']:>6} {r['runs']:>4}  {why}")
    for name, s in sorted(summary["splits"].items()):
        why = ", ".join(f"{k} {v}" for k, v in s["dropped"].items() if v) or "none"
        lines.append(f"split {name}: {s['kept']} usable frames in {s['runs']} runs from {s['clips']} clips "
                     f"({s['skipped_clips']} skipped); {s['read']} frames read; dropped: {why}")
    return "\n".join(lines)


@dataclasses.dataclass(frozen=True)
class Run:
    """One cached run: `meta` is its index entry; `array(name)` memory-maps one of its files."""
    path: Path
    meta: dict

    @property
    def name(self):
        return self.meta["name"]

    @property
    def split(self):
        return self.meta["split"]

    def has(self, name):
        return (self.path / f"{name}.npy").is_file()

    def array(self, name):
        return readers.mapped_array(self.path / f"{name}.npy", "`make data` (experiments/prepare_data.py)")


class Cache:
    """Read side: `Cache(root).runs(split)`; `config` is the build config as recorded."""

    def __init__(self, root=None):
        self.root = Path(root or BuildConfig.out)
        index_path = self.root / "index.json"
        if not index_path.is_file():
            raise FileNotFoundError(f"no data cache at {self.root}: build it with `make data`")
        index = json.loads(index_path.read_text())
        if index.get("format") != FORMAT:
            raise ValueError(f"{self.root}: cache format {index.get('format')}, expected {FORMAT}: rebuild it")
        self.config, self.summary = index["config"], index["summary"]
        self._runs = [Run(self.root / "runs" / m["name"], m) for m in index["runs"]]

    def runs(self, split=None):
        return [r for r in self._runs if split is None or r.split == split]
