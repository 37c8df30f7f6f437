"""Every input layout -> `Clip` descriptions, and frames as RGB uint8 (the OpenCV edge).

Layouts: single video files (mp4/avi/... via OpenCV), folders of frames, a folder of videos
with a `manifest.csv` (../shared/data/videos), 300VW (`NNN/vid.avi` + `NNN/annot/NNNNNN.pts`),
VidTIMIT (`subject/video/<sentence>/NNN`, extension-less JPEGs) and the authors' sample layout
(`blurry/ sharp/ face/ face_render/ bbox.txt`, docs/reproduction.md §6).
"""
import csv
import dataclasses
from pathlib import Path

import cv2
import numpy as np

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm")


class BadInput(Exception):
    """An input that cannot be used; `str(err)` is the reason counted in the summary."""


@dataclasses.dataclass(frozen=True)
class Clip:
    clip_id: str
    kind: str                   # "video" | "frames" | "authors"
    path: Path
    identity: str
    split: str
    annot_dir: Path | None = None   # 300VW: folder of 68-point .pts files, 1-based frame numbers
    num_frames: int | None = None   # as listed in a manifest, when known


def read_video(path, max_frames=None, timestamps=None):
    """Yields the frames of a video file; BadInput if it is empty, unreadable or has no frame.
    `timestamps` (a list): receives each frame's presentation time in ms, as the container says."""
    path = Path(path)
    if not path.is_file():
        raise BadInput("missing file")
    if path.stat().st_size == 0:
        raise BadInput("empty file")
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise BadInput("unreadable file")
        count = 0
        while max_frames is None or count < max_frames:
            ok, bgr = cap.read()
            if not ok:
                break
            count += 1
            if timestamps is not None:
                timestamps.append(cap.get(cv2.CAP_PROP_POS_MSEC))
            yield cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        if count == 0:
            raise BadInput("unreadable file")
    finally:
        cap.release()


def frame_files(folder):
    """Regular files of a frame folder in frame order (numeric names sort as numbers)."""
    files = [p for p in Path(folder).iterdir() if p.is_file() and not p.name.startswith(".")]
    return sorted(files, key=lambda p: (len(p.stem), p.stem) if p.stem.isdigit() else (1 << 30, p.name))


def mapped_array(path, rebuild):
    """A stored .npy array, memory-mapped; a file cut short or damaged is one line naming it
    and `rebuild`, the command that makes it again (a missing one stays FileNotFoundError)."""
    try:
        return np.load(path, mmap_mode="r")
    except FileNotFoundError:
        raise
    except (ValueError, OSError, EOFError) as err:
        reason = (str(err) or type(err).__name__).splitlines()[0]
        raise OSError(f"{path}: damaged or cut short ({reason}): rebuild it with {rebuild}") from None


def read_image(path):
    """RGB uint8 of any image file OpenCV decodes (the format comes from the bytes, so JPEGs
    without an extension work), or None if it cannot be decoded."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    return None if bgr is None else cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def read_frames(folder, max_frames=None):
    """Yields a frame folder's images; an undecodable file yields None (the tracker cuts there)."""
    files = frame_files(folder)
    if not files:
        raise BadInput("empty folder")
    for path in files[:max_frames]:
        yield read_image(path)


def iter_frames(clip, max_frames=None):
    if clip.kind == "video":
        return read_video(clip.path, max_frames)
    if clip.kind == "frames":
        return read_frames(clip.path, max_frames)
    raise ValueError(f"{clip.clip_id}: {clip.kind!r} clips are read with read_authors")


def read_pts(path):
    """(N, 2) float32 points of an ibug .pts file (`version`, `n_points`, `{ x y ... }`)."""
    lines = Path(path).read_text().split("\n")
    n = int(next(l for l in lines if l.startswith("n_points")).split(":")[1])
    start = next(i for i, l in enumerate(lines) if l.strip() == "{") + 1
    pts = np.array([[float(v) for v in l.split()] for l in lines[start:start + n]], np.float32)
    if pts.shape != (n, 2):
        raise BadInput(f"{path}: malformed .pts file")
    # .pts coordinates are 1-based (Matlab); ours have pixel centres at integers from 0.
    return pts - 1.0


def annotated_points(clip, index):
    """The clip's own 68 points for frame `index` (0-based), or None."""
    if clip.annot_dir is None:
        return None
    path = clip.annot_dir / f"{index + 1:06d}.pts"
    return read_pts(path) if path.is_file() else None


def manifest_clips(folder):
    """Clips of a folder holding `<clip_id>.mp4` files and `manifest.csv` (split, identity)."""
    folder = Path(folder)
    with open(folder / "manifest.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return [Clip(r["clip_id"], "video", folder / f"{r['clip_id']}.mp4", r["identity"], r["split"],
                 num_frames=int(r["frames"]) if r.get("frames") else None) for r in rows]


def clips_300vw(root, split="train"):
    """300VW: one clip per `NNN/vid.avi`, with its `NNN/annot/*.pts` as the 68 points."""
    root = Path(root)
    return [Clip(f"300vw-{d.name}", "video", d / "vid.avi", f"300vw-{d.name}", split,
                 annot_dir=d / "annot" if (d / "annot").is_dir() else None)
            for d in sorted(root.iterdir()) if (d / "vid.avi").is_file()]


def read_split_file(path):
    """A split file: `<clip id> <split>` a line (300VW's video NNN is clip `300vw-NNN`), `#`
    starts a comment -> {clip id: split}."""
    splits = {}
    for number, line in enumerate(Path(path).read_text().splitlines(), 1):
        words = line.split("#")[0].split()
        if not words:
            continue
        if len(words) != 2 or words[0] in splits:
            why = "a clip named twice" if len(words) == 2 else "want `<clip id> <split>`"
            raise BadInput(f"{path}:{number}: {why}: {line.strip()!r}")
        splits[words[0]] = words[1]
    if not splits:
        raise BadInput(f"{path}: no `<clip id> <split>` line")
    return splits


def clips_vidtimit(root, split="val"):
    """VidTIMIT: one clip per `subject/video/<sentence>/` frame folder; identity = subject.
    The `head*` rotation sequences are clips too (the paper does not say which it used)."""
    root = Path(root)
    return [Clip(f"vidtimit-{s.name}-{seq.name}", "frames", seq, f"vidtimit-{s.name}", split)
            for s in sorted(root.iterdir()) if (s / "video").is_dir()
            for seq in sorted((s / "video").iterdir()) if seq.is_dir()]


def single_clip(path, split="train"):
    path = Path(path)
    kind = "authors" if (path / "sharp").is_dir() else "frames" if path.is_dir() else "video"
    return Clip(path.stem, kind, path, path.stem, split)


def read_authors(folder):
    """The authors' layout as arrays, frames matched by number across folders.

    sharp, blurry: (N, H, W, 3) uint8; points5: (N, 5, 2) float32 (left eye, right eye, nose,
    left mouth, right mouth; "left" = image left); boxes: (N, 4) float32 left, top, right,
    bottom; render: (N, 224, 224, 4) uint8 in the 224 aligned crop, or None.
    """
    folder = Path(folder)
    names = sorted(p.stem for p in (folder / "sharp").glob("*.png"))
    if not names:
        raise BadInput("empty folder")

    def images(sub):
        out = [read_image(folder / sub / f"{n}.png") for n in names]
        if any(im is None for im in out):
            raise BadInput(f"unreadable image in {sub}/")
        return np.stack(out)

    def rgba(path):
        im = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if im is None or im.ndim != 3 or im.shape[2] != 4:
            raise BadInput(f"unreadable render {path.name}")
        return cv2.cvtColor(im, cv2.COLOR_BGRA2RGBA)

    if not (folder / "bbox.txt").is_file():
        raise BadInput("missing bbox.txt")
    rows = {Path(l.split()[0]).stem: [float(v) for v in l.split()[1:5]]
            for l in (folder / "bbox.txt").read_text().splitlines() if l.strip()}
    if any(n not in rows for n in names):
        raise BadInput("bbox.txt lacks frames")
    boxes = np.array([[r[0], r[2], r[1], r[3]] for r in (rows[n] for n in names)], np.float32)
    renders = sorted((folder / "face_render").glob("*.png")) if (folder / "face_render").is_dir() else []
    return dict(
        sharp=images("sharp"),
        blurry=images("blurry"),
        points5=np.stack([_five_points(folder / "face" / f"{n}.txt") for n in names]),
        boxes=boxes,
        render=np.stack([rgba(folder / "face_render" / f"{n}.png") for n in names]) if renders else None,
    )


def _five_points(path):
    try:
        return np.loadtxt(path, np.float32).reshape(5, 2)
    except (OSError, ValueError) as err:
        raise BadInput(f"bad five-point file {path.name}") from err
