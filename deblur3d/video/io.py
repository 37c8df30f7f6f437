"""Inputs of the video tool, and where its outputs go.

Inputs: a video file, a folder of frames, a folder of videos, a photo, or a folder of
photos (each on its own). An input is read twice
(faces first, then deblurring) instead of being held in memory, so `frames()` always
starts afresh. Which outputs a run may write, and where (`plan`, `refuse_overwriting`);
the writers themselves: video/outputs.py.
"""
import os
import re
import subprocess
from pathlib import Path

import cv2
import numpy as np

from deblur3d.data import readers
from deblur3d.atomic import check_folder_output
from deblur3d.data.readers import BadInput

LOSSY, LOSSLESS = (".mp4", ".mov"), (".mkv", ".avi")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
DEFAULT_FPS = 25.0
MAX_SIDE = 4096
MIN_SIDE = 32   # dlib's detectors fail on smaller frames (thinner than ~10 px, its CNN detector corrupts memory)


def ffmpeg_exe():
    """Path of an ffmpeg binary, or None."""
    try:
        import imageio_ffmpeg
        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError):
        return None


def audio_codec(path):
    """Codec name of the first audio stream of a media file, or None (also without ffmpeg)."""
    exe = ffmpeg_exe()
    if exe is None or not Path(path).is_file():
        return None
    probe = subprocess.run([exe, "-hide_banner", "-i", str(path)], capture_output=True, text=True)
    found = re.search(r"Stream #\S+.*?: Audio: (\w+)", probe.stderr)
    return found.group(1) if found else None


def checked(frames, name, max_side=MAX_SIDE):
    """Frames of one input with its problems as BadInput naming the input: undecodable
    frames, frames too large, frames whose size changes."""
    shape = None
    try:
        for t, rgb in enumerate(frames):
            if rgb is None:
                raise BadInput(f"frame {t} cannot be decoded")
            if shape is None and min(rgb.shape[:2]) < MIN_SIDE:
                raise BadInput(f"frames of {rgb.shape[1]}x{rgb.shape[0]} px are smaller than the {MIN_SIDE} px a "
                               "side the face detector needs: no face to deblur")
            if shape is None and max(rgb.shape[:2]) > max_side:
                raise BadInput(f"frames of {rgb.shape[1]}x{rgb.shape[0]} px are larger than "
                               f"--max_side={max_side} (reduce the input first, or raise --max_side)")
            if shape is not None and rgb.shape != shape:
                raise BadInput(f"frame {t} is {rgb.shape[1]}x{rgb.shape[0]}, frame 0 {shape[1]}x{shape[0]}")
            shape = rgb.shape
            yield rgb
    except BadInput as err:
        reason = str(err)
        if reason == "unreadable file":
            reason = "cannot be decoded as a video (corrupt file or unsupported codec)"
        raise BadInput(f"{name}: {reason}") from None


def first_frame(source):
    """Decodes the first frame; BadInput if there is none or it cannot be used."""
    frames = source.frames()
    try:
        return next(frames)
    except StopIteration:
        raise BadInput(f"{source.name}: no frames") from None
    finally:
        frames.close()


class VideoInput:
    """A video file or a folder of frames: `frames()` (RGB uint8, fresh each call), `fps`,
    `audio` (the file whose audio track to copy, or None), `name`, `frame_names` (a frame
    folder's file names as PNG, or None: numbered)."""
    frame_names = None

    def __init__(self, path, fps=None, max_frames=None, max_side=MAX_SIDE):
        self.warnings, self.timestamps, self.gray = [], [], True
        self.path = Path(path)
        if not self.path.exists():
            raise BadInput(f"{self.path}: no such file or folder")
        self.name, self.max_frames, self.max_side = self.path.stem, max_frames, max_side
        self.is_video = self.path.is_file()
        if self.is_video:
            self.fps, length = video_info(self.path)
        else:
            files = readers.frame_files(self.path)
            self.fps, length = fps or DEFAULT_FPS, len(files)
            stems = [f.stem for f in files]
            if len(set(stems)) == len(stems):   # PNG outputs keep the input's names
                self.frame_names = [f"{stem}.png" for stem in stems]
            self.warnings += lost_in_reading(files[0]) if files else []
        self.length = min(length, max_frames or length)   # a hint for progress bars
        self.audio = self.path if self.is_video and audio_codec(self.path) else None
        first_frame(self)   # an unusable input fails here, before any work or output

    def frames(self):
        """Fresh frames; on the way, `timestamps` (videos) and `gray` (every frame so far without
        colour) are recorded anew."""
        self.timestamps, self.gray = [], True
        read = (readers.read_video(self.path, self.max_frames, self.timestamps) if self.is_video
                else readers.read_frames(self.path, self.max_frames))
        for rgb in checked(read, self.path, self.max_side):
            self.gray = self.gray and is_gray(rgb)
            yield rgb

    def timing_drift(self):
        """How far (ms) the video's frames are from a constant rate: the largest gap between a
        frame's own timestamp and t / fps from the first (0 for frame folders or unknown times)."""
        stamps = np.array(self.timestamps, np.float64)
        if len(stamps) < 3 or not np.isfinite(stamps).all() or np.ptp(stamps) <= 0:
            return 0.0
        steady = stamps[0] + 1000.0 * np.arange(len(stamps)) / self.fps
        return float(np.abs(stamps - steady).max())


def is_gray(rgb):
    return bool((rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all())


class PhotoInput:
    """One photo, the same interface as VideoInput: a clip of one frame, with tracks of one
    frame allowed; its stack is the photo's shifted copies (data/blur.py: photo_stack)."""
    frame_names, is_video, audio, fps, length, max_frames, photo = None, False, None, DEFAULT_FPS, 1, None, True

    def __init__(self, path, max_side=MAX_SIDE):
        self.path, self.max_side, self.timestamps, self.gray = Path(path), max_side, [], True
        if not self.path.is_file():
            raise BadInput(f"{self.path}: no such file")
        self.name = self.path.stem
        if readers.read_image(self.path) is None:
            raise BadInput(f"{self.path}: cannot be decoded as an image")
        self.warnings = lost_in_reading(self.path, f"{self.path}: its")
        first_frame(self)

    def frames(self):
        for rgb in checked(iter([readers.read_image(self.path)]), self.path, self.max_side):
            self.gray = is_gray(rgb)
            yield rgb

    def timing_drift(self):
        return 0.0


def open_input(path, fps=None, max_frames=None, max_side=MAX_SIDE):
    """A photo (an image file) or a video (a video file or a folder of frames)."""
    if Path(path).suffix.lower() in IMAGE_SUFFIXES and Path(path).is_file():
        return PhotoInput(path, max_side)
    return VideoInput(path, fps, max_frames, max_side)


class ArrayInput:
    """Frames already in memory (the demo's synthesised blurry clip), same interface."""
    frame_names, warnings, gray = None, (), False

    def __init__(self, frames, fps, name, audio=None, max_side=MAX_SIDE):
        self.array, self.fps, self.name, self.audio, self.max_side = frames, fps, name, audio, max_side
        self.path, self.is_video, self.max_frames, self.length = None, False, None, len(frames)

    def timing_drift(self):
        return 0.0

    def frames(self):
        return checked(iter(self.array), self.name, self.max_side)


def lost_in_reading(path, whose=None):
    """Warnings for what reading an image as 8-bit RGB drops: its alpha, its 16-bit depth.
    `whose`: how the warning names it (default: a frame folder's frames)."""
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    whose = whose or f"{Path(path).parent}: the frames'"
    out = []
    if image is not None and image.ndim == 3 and image.shape[2] == 4:
        out.append(f"{whose} alpha channel is not kept (the output is RGB)")
    if image is not None and image.dtype != np.uint8:
        out.append(f"{whose} {8 * image.dtype.itemsize}-bit depth is reduced to 8 bits")
    return out


def video_info(path):
    """(frame rate, frame count as the container states it); 25 fps when it states none."""
    cap = cv2.VideoCapture(str(path))
    fps, length = (cap.get(cv2.CAP_PROP_FPS), cap.get(cv2.CAP_PROP_FRAME_COUNT)) if cap.isOpened() else (0, 0)
    cap.release()
    fps = fps if fps and np.isfinite(fps) and fps > 0 else DEFAULT_FPS
    return fps, int(length) if length and np.isfinite(length) and length > 0 else 0


def plan(input_path, output, photos=False):
    """(input path, output path) pairs: a folder of videos -> one <output>/<stem>.mp4 each;
    a folder of photos (`photos`) -> one <output>/<stem>.png each; a video or photo with a
    suffix-less output -> <output>/<stem>.mp4 or .png; else `output` itself."""
    src, out = Path(input_path), Path(output)
    if not src.exists():
        raise BadInput(f"{src}: no such file or folder")
    if photos and not src.is_dir():
        raise BadInput(f"{src}: --photos takes a folder of photos")
    photo = src.is_file() and src.suffix.lower() in IMAGE_SUFFIXES
    kinds = IMAGE_SUFFIXES if photo else LOSSY + LOSSLESS
    if out.suffix and (photos or out.suffix.lower() not in kinds):
        raise BadInput(f"{out}: unsupported output type {out.suffix!r}: " + (
            "a folder of photos goes to a folder" if photos else
            "a photo's output is an image (.png, .jpg, ...) or a folder" if photo else
            "use .mp4 or .mov (H.264), .mkv or .avi (lossless), or a folder (PNG frames)"))
    many = (sorted(p for p in readers.frame_files(src) if p.suffix.lower() in IMAGE_SUFFIXES) if photos else
            sorted(p for p in src.iterdir() if p.suffix.lower() in readers.VIDEO_SUFFIXES) if src.is_dir() else [])
    if photos and not many:
        raise BadInput(f"{src}: no photos ({', '.join(IMAGE_SUFFIXES)}) in this folder")
    if many:
        if out.suffix:
            raise BadInput(f"{src} is a folder of {'photos' if photos else 'videos'}: --output must be a folder")
        pairs = [(v, out / f"{v.stem}{'.png' if photos else '.mp4'}") for v in many]
    elif src.is_file() and not out.suffix:
        pairs = [(src, out / f"{src.stem}{'.png' if photo else '.mp4'}")]
    else:
        pairs = [(src, out)]
    refuse_overwriting(pairs, many or [src])
    stems = [p.stem for p in many]
    if len(set(stems)) < len(stems):
        raise BadInput(f"{src}: files that differ only in their suffix would have one output name "
                       f"({', '.join(sorted({s for s in stems if stems.count(s) > 1}))})")
    for _, o in pairs:
        if not o.suffix:   # a PNG folder replaces a folder whole: only an empty one or our own
            check_folder_output(o)
    return pairs


def refuse_overwriting(pairs, inputs, extra=()):
    """BadInput, before anything is read, when an output would replace an input: the same
    file, an input file of the folder, or (a PNG folder is replaced whole) a folder
    holding the input. `extra`: other outputs (side by side, contact sheet)."""
    inputs = [Path(p).resolve() for p in inputs]
    outputs = [Path(o) for _, o in pairs] + [Path(e) for e in extra if e]
    targets = [o.resolve() for o in outputs]
    for k, (out, target) in enumerate(zip(outputs, targets)):
        if target in targets[:k]:   # two writers, one file: the second would replace the first's
            raise BadInput(f"{out}: named for two outputs of this run: give each output its own path")
        if any(o.suffix == "" and o.resolve() in target.parents for o in outputs):
            raise BadInput(f"{out}: inside the folder output of this run, which is replaced whole: "
                           "choose a place outside it")
        # samefile: on a case-insensitive file system IMG.JPG and img.jpg are one file.
        if target in inputs or (target.exists() and any(p.exists() and os.path.samefile(p, target) for p in inputs)):
            raise BadInput(f"{out}: this output is an input: refusing to overwrite it (choose another output)")
        if not out.suffix and any(target == p or target in p.parents for p in inputs):
            raise BadInput(f"{out}: this output folder would replace the folder holding the input: "
                           "choose another output")
