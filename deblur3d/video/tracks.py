"""Every face of a video, followed from frame to frame, with steady crop regions.

`deblur3d.data.faces.track` follows the main face of a training clip and cuts where it
is lost; a video to deblur may show several faces, and a detector miss on one blurry
frame should not make the face flicker between deblurred and not. So here every
detection of at least `min_face` px is matched to the live tracks by box overlap
(greedy, best IoU first), a track survives up to `max_gap` frames without a detection
(its points are interpolated there), and each track gets the fixed square regions of
the training crops (`faces.crop_regions`: 1.8x the face, resized to 320x320).
"""
import dataclasses

import numpy as np

from deblur3d.data import faces


@dataclasses.dataclass(frozen=True)
class TrackConfig:
    min_face: int = 80          # px, width of the detector's box in the frame
    detect_side: int = 640      # frames reduced to this for detection (dlib's HOG finds faces >= ~80 px there)
    min_iou: float = 0.3        # box overlap that continues a track
    max_gap: int = 2            # frames a track may miss (interpolated)
    min_frames: int = 3         # shorter tracks are taken for false detections
    crop_scale: float = 1.8      # region side / face size, as the training crops
    max_crop_scale: float = 2.4  # a moving face whose region would exceed this gets two regions
    aligned: bool = False       # every frame is one aligned face crop: no detection (GFPGAN's --aligned)
    cnn_fallback: bool = True   # dlib's CNN detector on frames where HOG loses a live track (not in the paper)
    photo: bool = False         # one photo: the CNN detector also runs when HOG finds nothing


@dataclasses.dataclass
class Segment:
    """One face over frames [start, stop), cropped with one fixed region (x0, y0, side).
    `span` is the whole track's [first, stop): input windows are clamped to it, as the
    training stacks are clamped to their run."""
    face: int
    start: int
    stop: int
    span: tuple
    region: tuple
    points68: np.ndarray        # (stop - start, 68, 2), frame pixels

    def points(self, t):
        return self.points68[t - self.start]


class Track:
    def __init__(self, t, box, points):
        self.box, self.last, self.points = box, t, {t: points}

    def add(self, t, box, points):
        self.box, self.last, self.points[t] = box, t, points

    def filled(self):
        """(first frame, (n, 68, 2) points of every frame first..last), gaps interpolated."""
        known = sorted(self.points)
        stack = np.stack([self.points[t] for t in known])
        frames = np.arange(known[0], known[-1] + 1)
        flat = stack.reshape(len(known), -1)
        filled = np.stack([np.interp(frames, known, flat[:, k]) for k in range(flat.shape[1])], -1)
        return known[0], filled.reshape(len(frames), *stack.shape[1:]).astype(np.float32)


def match(boxes, tracks, min_iou):
    """{box index: track index}, best overlaps first, each box and track used once."""
    pairs = sorted(((faces.iou(b, tr.box), i, j) for i, b in enumerate(boxes) for j, tr in enumerate(tracks)),
                   reverse=True)
    out, used = {}, set()
    for overlap, i, j in pairs:
        if overlap >= min_iou and i not in out and j not in used:
            out[i] = j
            used.add(j)
    return out


def follow_faces(frames, annotator, config=TrackConfig()):
    """Tracks of every face of at least `min_face` px -> (tracks, frame count, (height, width))."""
    live, done, shape, count = [], [], None, 0
    for t, rgb in enumerate(frames):
        count, shape = t + 1, rgb.shape[:2]
        boxes = [faces.aligned_box(rgb.shape)] if config.aligned else [
            b for b in annotator.detect(rgb) if b[2] - b[0] >= config.min_face]
        matched = match(boxes, live, config.min_iou)
        # A face HOG loses inside its track (or, in a photo, does not find at all): the CNN
        # detector on this frame only; its boxes that no HOG box covers join.
        lost = len(matched) < len(live) or (not boxes and config.photo)
        if lost and config.cnn_fallback and not config.aligned:
            extra = [b for b in annotator.detect_cnn(rgb) if b[2] - b[0] >= config.min_face
                     and all(faces.iou(b, h) < config.min_iou for h in boxes)]
            boxes += extra
            matched = match(boxes, live, config.min_iou)
        for i, box in enumerate(boxes):
            points = annotator.landmarks(rgb, box)
            if i in matched:
                live[matched[i]].add(t, box, points)
            else:
                live.append(Track(t, box, points))
        done += [tr for tr in live if t - tr.last > config.max_gap]
        live = [tr for tr in live if t - tr.last <= config.max_gap]
    return sorted(done + live, key=lambda tr: min(tr.points)), count, shape


def segments(tracks, frame_hw, config=TrackConfig(), smooth=None):
    """Segments of every track of at least `min_frames` frames, ordered by start frame;
    `smooth` (smoothing.Smoothing) steadies each track's points over time first."""
    out = []
    for k, track in enumerate(tracks):
        first, points = track.filled()
        if len(points) < config.min_frames:
            continue
        if smooth is not None:
            points = smooth(points)
        span = (first, first + len(points))
        for a, b, region in faces.crop_regions(points, frame_hw, config.crop_scale, config.max_crop_scale):
            out.append(Segment(k, first + a, first + b, span, region, points[a:b]))
    return sorted(out, key=lambda s: (s.start, s.face))
