"""What scoring (eval/) and the video tool (video/) share about frames: their 8-bit form, the
face region, optical flow and the warp along it. It sits in data, below both
(tests/test_layout.py), so that the tool takes none of it from the scoring package.
"""
import cv2
import numpy as np

from deblur3d.data import faces


def as_uint8(image):
    image = np.asarray(image)
    if image.dtype != np.uint8:
        image = np.round(np.clip(image, 0.0, 1.0) * 255).astype(np.uint8)
    return np.ascontiguousarray(image)


FIVE_POINT_FACE_SCALE = 2.0   # the 5 points' hull x2 has the 68 points' hull area to +-10% on val


def face_mask(shape, points68=None, points5=None):
    """(H, W) bool: hull of the 68 points, else of the 5 points scaled about their centroid."""
    if points68 is not None:
        points = np.asarray(points68, np.float32)
    else:
        p = np.asarray(points5, np.float32)
        points = p.mean(0) + FIVE_POINT_FACE_SCALE * (p - p.mean(0))
    return faces.hull_mask(points, shape)


FB_TOLERANCE = (0.01, 0.5)   # forward-backward check: |f1 + f2|² <= a (|f1|² + |f2|²) + b


def _grey(image):
    return cv2.cvtColor(as_uint8(image), cv2.COLOR_RGB2GRAY)


def flow(a, b):
    """(H, W, 2) float32 DIS flow from RGB frame `a` to `b`: a[y, x] ~ b[y + dy, x + dx]."""
    if np.shape(a) != np.shape(b):
        raise ValueError(f"frames of shapes {np.shape(a)} and {np.shape(b)}")
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    return dis.calc(_grey(a), _grey(b), None).astype(np.float32)


def warp(image, flow):
    """Backward warp: out[y, x] = image[y + flow[y, x, 1], x + flow[y, x, 0]] (bilinear)."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        image = image.astype(np.float32)   # cv2.remap's float type
    h, w = flow.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    return cv2.remap(image, xs + flow[..., 0], ys + flow[..., 1], cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)


def consistent_flow(prev_sharp, sharp, tolerance=FB_TOLERANCE):
    """(flow current -> previous, (H, W) bool mask of pixels passing the forward-backward check).

    The flow warps the previous frame onto the current one. A pixel is kept when going there
    and back returns it to itself (Sundaram et al. 2010: occlusions and flow errors fail) and
    its match lies inside the previous frame. This pair is the `motion` of `warping_error`.
    """
    f1 = flow(sharp, prev_sharp)
    f2 = warp(flow(prev_sharp, sharp), f1)   # backward flow at the matched pixel
    a, b = tolerance
    f1_sq, f2_sq = np.square(f1).sum(-1), np.square(f2).sum(-1)
    valid = np.square(f1 + f2).sum(-1) <= a * (f1_sq + f2_sq) + b
    h, w = f1.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w]
    x, y = xs + f1[..., 0], ys + f1[..., 1]
    return f1, valid & (x >= 0) & (x <= w - 1) & (y >= 0) & (y <= h - 1)
