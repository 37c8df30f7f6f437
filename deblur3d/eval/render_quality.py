"""How close a render of the 3D priors is to the sharp face: the two measures of eval_priors.py.

Both are computed on 224×224 aligned crops (the space of the authors' `face_render`),
from the rendered image alone, so our renders and the authors' PNGs are scored alike:
- photometric error: mean absolute difference render − sharp over pixels and RGB channels
  (0–255), over the pixels
  the render covers (any channel above zero: renders are on black) inside the convex hull
  of the sharp crop's 68 points;
- landmark error: mean distance (px) between dlib's 68 points found on the render and on
  the sharp crop; on the render they are sought in the box dlib detects there, else in the
  sharp points' box (a render dlib does not see as a face still gets its points).
"""
import numpy as np

from deblur3d.data import faces


def coverage(render_u8):
    """(H, W) bool: pixels a render on black covers."""
    return np.asarray(render_u8).max(-1) > 0


def photometric_error(render_u8, sharp_u8, sharp_points68):
    """Mean absolute RGB difference (0–255) over coverage ∩ hull of the sharp points; nan if empty."""
    region = coverage(render_u8) & faces.hull_mask(sharp_points68, render_u8.shape)
    if not region.any():
        return float("nan")
    diff = np.asarray(render_u8, np.float64) - np.asarray(sharp_u8, np.float64)
    return float(np.abs(diff)[region].mean())


def points68(annotator, rgb_u8, fallback):
    """dlib's 68 points on an image: in its largest detection, else in the box of `fallback`."""
    boxes = annotator.detect(rgb_u8)
    box = boxes[0] if len(boxes) else faces.points_box(np.asarray(fallback, np.float32))
    return annotator.landmarks(rgb_u8, box)


def landmark_error(annotator, render_u8, sharp_points68):
    return float(np.linalg.norm(points68(annotator, render_u8, sharp_points68) - sharp_points68, axis=-1).mean())


def identity_distance(encoder, render_u8, sharp_u8, sharp_points68):
    """Distance of dlib's 128-D face descriptors of the render and of the sharp crop, both
    chips cut by the sharp crop's 68 points (dlib calls two faces one person below 0.6):
    does the render look like this person? `encoder`: metrics.IdentityEncoder."""
    dlib = encoder._dlib
    points = [dlib.point(int(round(x)), int(round(y))) for x, y in np.asarray(sharp_points68)]
    x0, y0, x1, y1 = (int(round(v)) for v in faces.points_box(np.asarray(sharp_points68, np.float32)))
    shape = dlib.full_object_detection(dlib.rectangle(x0, y0, x1, y1), points)
    a, b = (np.array(encoder.encoder.compute_face_descriptor(np.ascontiguousarray(im, np.uint8), shape))
            for im in (render_u8, sharp_u8))
    return float(np.linalg.norm(a - b))
