"""Deblurring the faces of a video, in two passes over its frames.

Pass 1 finds and follows every face (dlib, about 20 ms a frame) and keeps only points
(smoothed along each track on request: video/smoothing.py).
Pass 2 reads the frames again with a buffer of 4s + 1 frames: for each face and frame t,
the frames t-2s, t-s, t, t+s, t+2s (clamped to the face's track; s the model's stack
stride, 5 for the authors' stacks, 1 for the paper's text) are cropped to the face's fixed
region at the training scale (320x320) into the 15-channel stack, the 3D priors are computed
when the model uses them (ReconNet on each frame, identity and texture held along the
track, light and texture fitted one frame in `texture_every`: video/track_priors.py),
faces already sharp are left alone (video/gate.py), and the model's correction is pasted
back feathered (deblur3d/video/paste.py). Frames without a face are passed through
untouched. Memory stays a few frames whatever the video's length.
"""
import contextlib
import dataclasses
import shutil
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from deblur3d.atomic import atomic_file
from deblur3d.data import faces
from deblur3d.data.blur import PHOTO_SHIFT, photo_stack, stack_indices
from deblur3d.data.frames import face_mask
from deblur3d.eval import temporal
from deblur3d.video import io, outputs, paste, sheets, tracks
from deblur3d.video.gate import Gate, face_score
from deblur3d.video.smoothing import Smoothing
from deblur3d.video.stabiliser import CorrectionMemory, Stabiliser

NUM_FRAMES = 5   # the stack: frames t-2s..t+2s


@dataclasses.dataclass(frozen=True)
class VideoConfig:
    tracking: tracks.TrackConfig = tracks.TrackConfig()
    crop_size: int = 320        # faces are deblurred at the scale of the training crops
    feather: float = paste.FEATHER
    sheet_frames: int = 4       # rows of the contact sheet
    stride: int | None = None   # frames between the stack's neighbours; None: the model's training stride
    smoothing: Smoothing = Smoothing()   # points and priors steadied along each track (off by default)
    gate: Gate = Gate()                   # faces that are already sharp are left untouched
    stabiliser: Stabiliser = Stabiliser()  # corrections blended along the input's flow, until as steady as a filter's
    photo_shift: int = PHOTO_SHIFT        # px between the copies of a one-frame clip's stack (blur.photo_stack)
    texture_every: int = 5      # frames between fits of a face's light and texture, held between
                                # (priors/texture.py TextureHold; 1: every frame, as in training)


@dataclasses.dataclass
class VideoReport:
    name: str
    frames: int
    fps: float
    size: tuple                 # height, width
    faces: int                  # tracks deblurred
    face_frames: int            # frames with at least one face
    faces_left_alone: int       # faces x frames the gate found sharp (untouched)
    faces_deblurred: int        # faces x frames deblurred
    seconds: float
    warnings: list
    # The correction's incoherence over the faces (eval/temporal.py, CorrectionFlicker):
    # dict(output=, unsharp= the static unsharp mask's on the same frames, frames=); None
    # without faces. Lower is steadier; a correction that follows the content scores like
    # the static filter.
    flicker: dict | None = None
    # Per face region (a track's segment), the stabiliser's loop (video/stabiliser.py):
    # dict(face=, start=, stop=, weight= W chosen, before= / after= the correction's
    # incoherence without / with it, unsharp= the static filter's, pairs= frame pairs scored).
    tracks: list = dataclasses.field(default_factory=list)
    faces_handed_back: int = 0  # faces x frames whose output left the trained range: untouched


def find_faces(source, config=VideoConfig(), progress=True):
    """Pass 1 -> (segments, frame count, (height, width), whether any face was seen at all)."""
    annotator = faces.FaceAnnotator(config.tracking.detect_side)
    frames = tqdm(source.frames(), desc=f"{source.name}: finding faces", unit="frame",
                  total=source.length or None, disable=not progress, leave=False)
    found, count, hw = tracks.follow_faces(frames, annotator, config.tracking)
    if count == 0:
        raise io.BadInput(f"{source.name}: no frames")
    return tracks.segments(found, hw, config.tracking, config.smoothing), count, hw, bool(found)


OUTPUT_RANGE = (-0.25, 1.25)   # trained on targets in [0, 1]; beyond this margin the output is no face


def usable_output(face):
    """Whether the model's face (H, W, 3) is finite and inside OUTPUT_RANGE. Damaged weights
    are refused when loaded (video/model.py); an input unlike every training face (crops of
    different people stacked as one clip's frames) can still push one output out, and that
    face is then handed back untouched instead of ending the job."""
    face = np.asarray(face)
    return bool(np.isfinite(face).all()) and OUTPUT_RANGE[0] <= face.min() and face.max() <= OUTPUT_RANGE[1]


def deblurred_frames(frames, segments, model, config=VideoConfig(), counts=None, memory=None):
    """Pass 2: yields (t, input frame, output frame, segments at t), buffering 4s + 1 frames;
    `counts` (a dict) receives the faces x frames deblurred, left alone and handed back,
    `memory` (a CorrectionMemory) the stabiliser's loops."""
    from deblur3d.video.track_priors import TrackPriors
    size, buffer, crops, steady = config.crop_size, {}, {}, {}
    counts = counts if counts is not None else {}
    counts.update({"left alone": 0, "deblurred": 0, "handed back": 0})
    stride = config.stride or getattr(model, "stride", 1)
    reach = (NUM_FRAMES // 2) * stride
    smooth = dataclasses.replace(config.smoothing, radius=min(config.smoothing.radius, reach))   # buffered frames only
    own_priors = getattr(model, "priors", None) is not None and (smooth.radius > 0 or smooth.hold_identity)
    memory = memory if memory is not None else CorrectionMemory(config.stabiliser)

    def crop(i, k):
        if (i, k) not in crops:
            crops[i, k] = faces.crop(buffer[i], segments[k].region, size).astype(np.float32) / 255
        return crops[i, k]

    def five_points(s, i):
        return faces.five_points(faces.crop_points(s.points(i), s.region, size))

    def process(t):
        here = [k for k, s in enumerate(segments) if s.start <= t < s.stop]
        corrections = []
        for k in here:
            s = segments[k]
            points68 = faces.crop_points(s.points(t), s.region, size)
            score = face_score(crop(t, k), points68)
            if not config.gate.needs_deblurring(score):
                counts["left alone"] += 1
                continue
            first, stop = s.span
            if stop - first == 1:   # a photo (or a one-frame clip): no neighbours to read
                stack = photo_stack(crop(t, k), NUM_FRAMES, config.photo_shift)
            else:
                window = first + stack_indices(t - first, stop - first, NUM_FRAMES, 1, stride)[:, 0]
                stack = np.concatenate([crop(i, k) for i in window], -1)
            points5 = five_points(s, t)
            render = identity = None
            if own_priors:   # the track's steadied priors instead of the model's per-frame ones
                track = steady.setdefault(s.face, TrackPriors(model.priors, smooth, config.texture_every))
                for i in range(max(s.start, t - smooth.radius), min(s.stop, t + smooth.radius + 1)):
                    track.add(i, crop(i, k), five_points(s, i), faces.crop_points(s.points(i), s.region, size))
                render, identity = track(t, points5, size)
            face = model(stack, points5, render, identity)
            if not usable_output(face):
                counts["handed back"] += 1
                continue
            counts["deblurred"] += 1
            correction = face - crop(t, k)
            corrections.append((s.region, memory.steady(k, t, crop(t, k), correction, points68, size / s.region[2])))
        memory.forget_before(t)
        output = paste.paste_corrections(buffer[t], corrections, config.feather)
        return t, buffer[t], output, [segments[k] for k in here]

    def forget(i):
        buffer.pop(i, None)
        for key in [key for key in crops if key[0] == i]:
            del crops[key]

    t = 0
    for i, rgb in enumerate(frames):
        buffer[i] = rgb
        while t <= i - reach:
            yield process(t)
            forget(t - reach)
            t += 1
    while t in buffer:
        yield process(t)
        t += 1


def deblur_video(source, output, model, config=VideoConfig(), side_by_side=None, contact_sheet=None,
                 on_frame=None, log=print, progress=True):
    """Deblurs every face of `source` (io.VideoInput or io.ArrayInput) into `output` (video
    file, PNG folder, or None), optionally with an input | output video and a contact sheet.

    `model` (model.ModelSpec) is loaded only if there is a face. `on_frame(t, input,
    output, segments)` sees every frame. Outputs appear together at the end, or not at all.
    """
    start = time.perf_counter()
    if getattr(source, "photo", False):   # one frame: its faces are not false detections for being short
        config = dataclasses.replace(config, tracking=dataclasses.replace(config.tracking, min_frames=1, photo=True))
    segments, count, hw, seen = find_faces(source, config, progress)
    warnings = list(getattr(source, "warnings", []))
    drift = source.timing_drift()
    if drift > 500.0 / source.fps:   # more than half a frame off a constant rate
        warnings.append(f"{source.name}: a variable frame rate: frames are written at a constant {source.fps:g} fps, "
                        f"up to {drift:.0f} ms from their own times (lip sync may drift); the length is kept")
    gray = source.gray   # a grayscale input comes back grayscale, not tinted by per-channel corrections
    face_frames = sorted({t for s in segments for t in range(s.start, s.stop)})
    keep = set(sheets.pick_frames(face_frames or range(count), config.sheet_frames)) if contact_sheet else set()
    counts = {}
    flicker = temporal.CorrectionFlicker() if segments else None
    memory = CorrectionMemory(config.stabiliser)
    if segments:
        frames = deblurred_frames(source.frames(), segments, model.get(), config, counts, memory)
    else:
        frames = ((t, rgb, rgb, []) for t, rgb in enumerate(source.frames()))
    # Nothing to change in a whole video file: the output is a copy, audio and all.
    copy = (not segments and output is not None and source.is_video and Path(output).suffix.lower() ==
            source.path.suffix.lower() and (source.max_frames is None or count < source.max_frames))
    if not segments:
        why = (f"faces were seen only in tracks of fewer than {config.tracking.min_frames} frames (taken for false "
               "detections)" if seen else f"no face of at least {config.tracking.min_face} px found (--min_face)")
        if copy:
            what = "the output is a copy of the input"
        elif output is not None and Path(output).suffix.lower() in (".jpg", ".jpeg", ".webp"):
            what = "the output is the photo re-saved (close to, not exactly, the input)"
        elif output is None or not Path(output).suffix or Path(output).suffix.lower() in io.LOSSLESS + io.IMAGE_SUFFIXES:
            what = "the output holds the input's frames unchanged"
        else:
            what = "the output is the input's frames re-encoded (H.264: close to, not exactly, the input)"
        if source.max_frames is not None and count >= source.max_frames:
            what += f", its first {count} frames (--max_frames)"
        warnings.append(f"{source.name}: {why}: {what}")
    rows = []
    with contextlib.ExitStack() as stack:
        writers = []
        if copy:
            shutil.copyfile(source.path, stack.enter_context(atomic_file(output)))
        elif output is not None:
            writers.append((stack.enter_context(outputs.open_output(output, source.fps, hw, source.audio, log,
                                                                   source.frame_names)),
                            lambda a, b: b))
        if side_by_side is not None:
            size = (hw[0] + sheets.LABEL_HEIGHT, 2 * hw[1])
            writers.append((stack.enter_context(outputs.open_output(side_by_side, source.fps, size, source.audio, log)),
                            sheets.side_by_side))
        for t, a, b, here in tqdm(frames, desc=f"{source.name}: deblurring", unit="frame", total=count,
                                  disable=not progress):
            if gray:
                b = np.repeat(np.round(b.astype(np.float32).mean(-1, keepdims=True)).astype(b.dtype), 3, -1)
            for write, compose in writers:
                write(compose(a, b))
            if flicker is not None:
                flicker.add(a, b, face_region(a.shape, here, t))
            if t in keep:
                rows.append(sheets.sheet_row(t, [("input", a), ("output", b)], here))
            if on_frame is not None:
                on_frame(t, a, b, here)
        if contact_sheet is not None:
            outputs.write_image(contact_sheet, sheets.contact_sheet(rows))
    if counts.get("handed back"):
        warnings.append(f"{source.name}: {counts['handed back']} face(s) x frames handed back untouched: the model's "
                        "output for them left the 0..1 range it was trained to produce (faces unlike its training "
                        "faces; unrelated crops in one folder: --photos)")
    steadied = [dict(face=segments[k].face, start=segments[k].start, stop=segments[k].stop, **result)
                for k, result in sorted(memory.summary().items())]
    warnings += [unsteady(source.name, track, config.stabiliser.weight) for track in steadied
                 if track["after"] > track["unsharp"] and track["weight"] >= config.stabiliser.weight > 0]
    for w in warnings:
        log(f"warning: {w}")
    return VideoReport(source.name, count, source.fps, hw, len({s.face for s in segments}), len(face_frames),
                       counts.get("left alone", 0), counts.get("deblurred", 0), time.perf_counter() - start, warnings,
                       None if flicker is None else flicker.result(), steadied, counts.get("handed back", 0))


def unsteady(name, track, ceiling):
    return (f"{name}: face {track['face']} (frames {track['start']}-{track['stop'] - 1}): its correction changes by "
            f"{track['after']:.3f} of its size from frame to frame even with the carried share at its ceiling "
            f"{ceiling:g} (--stabilise), a static unsharp mask's by {track['unsharp']:.3f}; it is kept deblurred")


def face_region(shape, segments, t):
    """(H, W) bool: the faces of frame t (the hull of each one's 68 points)."""
    region = np.zeros(shape[:2], bool)
    for s in segments:
        region |= face_mask(shape, s.points(t))
    return region
