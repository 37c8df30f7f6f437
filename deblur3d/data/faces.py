"""Face tracks: dlib detection and 68 points per frame, runs of tracked frames, steady crops.

The five points are derived from the 68 (eye centres = mean of the eye corners, nose tip,
mouth corners; order left eye, right eye, nose, left mouth, right mouth, "left" = image left),
i.e. the points of the authors' `face/*.txt` and of the alignment template (docs/reproduction.md §3).
dlib's own 5-point model marks eye corners and the nose base instead, so it is not used.
"""
import functools
import importlib.util
from pathlib import Path

import cv2
import numpy as np

MIN_RUN = 26   # the paper keeps runs longer than 25 frames (docs/reproduction.md §6)

# Index maps that mirror point identities under a horizontal flip (iBUG 68-point order).
FLIP_5 = np.array([1, 0, 2, 4, 3])
FLIP_68 = np.array(
    list(range(16, -1, -1))                      # jaw
    + list(range(26, 16, -1))                    # eyebrows
    + [27, 28, 29, 30, 35, 34, 33, 32, 31]       # nose bridge, nostrils
    + [45, 44, 43, 42, 47, 46, 39, 38, 37, 36, 41, 40]   # eyes
    + [54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55]   # outer lips
    + [64, 63, 62, 61, 60, 67, 66, 65])          # inner lips


def hull_mask(points, shape):
    """(H, W) bool: the convex hull of `points` (x, y pixel centres), clipped to the image;
    the evaluation's face region (data/frames.py, face_mask)."""
    mask = np.zeros(shape[:2], np.uint8)
    cv2.fillConvexPoly(mask, cv2.convexHull(np.round(np.asarray(points, np.float32)).astype(np.int32)), 1)
    return mask.astype(bool)


def models_dir():
    """dlib models of `face_recognition_models`, found without importing it (docs/reproduction.md §9)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None:
        raise ImportError("face_recognition_models is not installed (see requirements.txt)")
    return Path(spec.origin).parent / "models"


def aligned_box(shape):
    """The face box of an already aligned face crop (GFPGAN's --aligned), without detection:
    the central 55% of the side, a little below the middle, where the detector's box falls
    on the training crops (1.8x the face) and on FFHQ-style crops alike."""
    height, width = shape[:2]
    side = 0.55 * min(height, width)
    cx, cy = width / 2, 0.53 * height
    return np.array([cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2], np.float32)


def five_points(points68):
    """(..., 68, 2) -> (..., 5, 2) alignment points."""
    p = np.asarray(points68, np.float32)
    return np.stack([p[..., [36, 39], :].mean(-2), p[..., [42, 45], :].mean(-2),
                     p[..., 30, :], p[..., 48, :], p[..., 54, :]], axis=-2)


def points_box(points):
    """Bounding box x0, y0, x1, y1 of (..., N, 2) points."""
    return np.concatenate([points.min(-2), points.max(-2)], -1)


def iou(a, b):
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
    return w * h / union if union > 0 else 0.0


@functools.lru_cache(maxsize=1)
def shape_predictor():
    """dlib's 68-point predictor, read once per process: its 100 MB file takes about 0.5 s, which
    every video, photo and annotator paid again. Shared safely: predicting only reads it
    (the HOG detector keeps scratch state, so each annotator has its own)."""
    import dlib
    return dlib.shape_predictor(str(models_dir() / "shape_predictor_68_face_landmarks.dat"))


class FaceAnnotator:
    """dlib HOG detector on a downscaled frame (about 10 ms a frame at 320 px on one core)
    and the 68-point predictor at full resolution."""

    def __init__(self, detect_max_side=320, upsample=0):
        import dlib  # only the cache build needs dlib
        self._dlib = dlib
        self.detector = dlib.get_frontal_face_detector()
        self.predictor = shape_predictor()
        self.detect_max_side, self.upsample = detect_max_side, upsample
        self._cnn, self.cnn_calls = None, 0

    def detect(self, rgb):
        """(N, 4) boxes x0, y0, x1, y1 in frame pixels, largest first."""
        return self._boxes(self.detector, rgb, lambda r: r)

    def detect_cnn(self, rgb):
        """The same from dlib's CNN (MMOD) detector, for frames the HOG detector misses: it
        finds turned and blurred faces HOG does not, at many times the cost."""
        if self._cnn is None:
            self._cnn = self._dlib.cnn_face_detection_model_v1(str(models_dir() / "mmod_human_face_detector.dat"))
        self.cnn_calls += 1
        boxes = self._boxes(self._cnn, rgb, lambda d: d.rect)
        # Placed as HOG places its boxes, which the 68-point predictor was trained on: the
        # mean offset and size of HOG's box against the CNN's on 20 train frames.
        side = boxes[:, 2:3] - boxes[:, 0:1]
        corner = boxes[:, :2] + side * np.array([0.018, 0.046], np.float32)
        return np.concatenate([corner, corner + 1.065 * side], 1)

    def _boxes(self, detector, rgb, rect_of):
        scale = min(1.0, self.detect_max_side / max(rgb.shape[:2]))
        small = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else rgb
        rects = [rect_of(d) for d in detector(small, self.upsample)]
        boxes = np.array([[r.left(), r.top(), r.right(), r.bottom()] for r in rects], np.float32) / scale
        return boxes[np.argsort(-(boxes[:, 2] - boxes[:, 0]))] if len(boxes) else boxes.reshape(0, 4)

    def landmarks(self, rgb, box):
        rect = self._dlib.rectangle(*(int(round(v)) for v in box))
        shape = self.predictor(rgb, rect)
        return np.array([[p.x, p.y] for p in shape.parts()], np.float32)


def track(frames, annotator=None, annotations=None, min_iou=0.3):
    """Follows the main face through `frames` (RGB uint8, or None for an undecodable frame).

    The main face is the largest detection where a track starts, then the detection that
    overlaps the previous one best. `annotations(i)` -> (68, 2) or None replaces detection
    when a clip has its own points (300VW). Returns per-frame (68, 2) points or None, the
    reason for each None, and the frame (height, width).

    Why two trackers: this one makes ground truth, so it never invents points (a missed frame
    cuts the run); video/tracks.py follows every face of a user's video and bridges a miss
    with interpolated points so that the output does not flicker. Both share the detector,
    `iou` and `crop_regions`; only the policy on a miss differs.
    """
    points, reasons, shape, prev = [], [], None, None
    for i, rgb in enumerate(frames):
        p, reason = None, None
        if rgb is None:
            reason = "unreadable frame"
        elif annotations is not None:
            p = annotations(i)
            reason = None if p is not None else "no annotation"
        else:
            boxes = annotator.detect(rgb)
            if not len(boxes):
                reason = "no face"
            else:
                best = boxes[0] if prev is None else max(boxes, key=lambda b: iou(b, prev))
                if prev is not None and iou(best, prev) < min_iou:
                    reason = "lost track"
                else:
                    p = annotator.landmarks(rgb, best)
                    prev = best
        if p is None:
            prev = None
        shape = rgb.shape[:2] if rgb is not None else shape
        points.append(p)
        reasons.append(reason)
    return points, reasons, shape


def runs(valid, min_len=MIN_RUN):
    """(start, stop) of the stretches of consecutive True with at least `min_len` frames."""
    out, start = [], None
    for i, ok in enumerate(list(valid) + [False]):
        if ok and start is None:
            start = i
        elif not ok and start is not None:
            if i - start >= min_len:
                out.append((start, i))
            start = None
    return out


def crop_regions(points, frame_hw, scale=1.8, max_scale=2.4, min_len=MIN_RUN):
    """Fixed square regions (start, stop, (x0, y0, side)) covering a run's (T, 68, 2) points.

    One region per stretch, so stacked frames never jitter: the face moves inside it as it
    moved in the video. The side is `scale` x the median face size (mean of the point box's
    width and height), grown to keep every frame's face inside with a margin; where that
    would exceed `max_scale` x the face, the stretch is halved (halves stay >= min_len).
    The region is shifted, then shrunk if needed, to lie inside the frame.
    """
    boxes = points_box(np.asarray(points, np.float32))
    size = float(np.median((boxes[:, 2] - boxes[:, 0] + boxes[:, 3] - boxes[:, 1]) / 2))
    lo, hi = boxes[:, :2].min(0), boxes[:, 2:].max(0)
    side = max(scale * size, float((hi - lo).max()) + 0.4 * size)
    n = len(points)
    if side > max_scale * size and n >= 2 * min_len:
        half = n // 2
        tail = crop_regions(points[half:], frame_hw, scale, max_scale, min_len)
        return crop_regions(points[:half], frame_hw, scale, max_scale, min_len) + [
            (a + half, b + half, r) for a, b, r in tail]
    height, width = frame_hw
    side = int(round(min(side, height, width)))
    centre = (lo + hi) / 2
    x0 = int(np.clip(round(centre[0] - side / 2), 0, width - side))
    y0 = int(np.clip(round(centre[1] - side / 2), 0, height - side))
    return [(0, n, (x0, y0, side))]


def crop(rgb, region, size):
    """Cuts a square region and resizes it to size x size (area filter when reducing)."""
    x0, y0, side = region
    patch = rgb[y0:y0 + side, x0:x0 + side]
    interp = cv2.INTER_AREA if side >= size else cv2.INTER_CUBIC
    return cv2.resize(patch, (size, size), interpolation=interp)


def crop_points(points, region, size):
    """Frame pixel coordinates -> coordinates in the resized crop (pixel centres at integers)."""
    x0, y0, side = region
    return ((np.asarray(points, np.float32) - [x0, y0] + 0.5) * (size / side) - 0.5).astype(np.float32)


def points5_on(annotator, frame, cnn=True):
    """The five points of the largest face dlib finds on a frame ((H, W, 3) float in [0, 1] or
    uint8): its HOG detector, then (`cnn`) its CNN one; None without a face."""
    rgb = frame if frame.dtype == np.uint8 else np.round(np.clip(frame, 0, 1) * 255).astype(np.uint8)
    rgb = np.ascontiguousarray(rgb)
    boxes = annotator.detect(rgb)
    if not len(boxes) and cnn:
        boxes = annotator.detect_cnn(rgb)
    return five_points(annotator.landmarks(rgb, boxes[0])) if len(boxes) else None


class BlurryLocator:
    """Five points found on blurry frames as the video tool finds them (dlib's HOG detector,
    its CNN one where HOG finds no face), never from the sharp frame. A frame with no face
    found by either takes the last found points of the same clip; `guessed` counts those,
    and the first frames of a clip with none found take `fallback` (counted in `borrowed`)."""

    def __init__(self, annotator=None):
        self.annotator = annotator or FaceAnnotator()
        self.last, self.guessed, self.borrowed, self.frames = {}, 0, 0, 0

    def __call__(self, frame, clip, fallback):
        """frame (H, W, 3) float in [0, 1] or uint8 -> (5, 2) float32 points."""
        self.frames += 1
        found = points5_on(self.annotator, frame)
        if found is not None:
            self.last[clip] = found
        elif clip in self.last:
            self.guessed += 1
        else:
            self.borrowed += 1
            return np.asarray(fallback, np.float32)
        return self.last[clip].astype(np.float32)

    def note(self):
        return (f"priors and face crops aligned from five points found on the blurry centre frame ({self.frames} "
                f"frames; no face found on {self.guessed}: the clip's last points; on {self.borrowed} before any "
                "was found: the stored points)")
