"""Regions of a face from its 68 points, for saying where a model's error is left
(experiments/error_by_region.py)."""
import cv2
import numpy as np

from deblur3d.data.faces import hull_mask

# 68-point index ranges; each part is the hull of its points grown 1.6× about their centre,
# kept inside the face hull.
PARTS = dict(eyes=range(36, 48), mouth=range(48, 60), brows=range(17, 27), nose=range(27, 36))
BAND = 10   # px: the band inside the face's outline, where the moving head meets what it covers


def face_regions(points68, shape):
    """{name: (H, W) bool}: face, its outline band, the PARTS, the rest of the face (inside
    the band, outside the parts) and outside the face."""
    points68 = np.asarray(points68, np.float32)
    face = hull_mask(points68, shape).astype(bool)
    side = 2 * BAND + 1
    inner = cv2.erode(face.astype(np.uint8), np.ones((side, side), np.uint8)).astype(bool)
    masks, used = {"face": face, f"face outline band ({BAND} px)": face & ~inner}, np.zeros_like(face)
    for name, idx in PARTS.items():
        p = points68[list(idx)]
        part = hull_mask(p.mean(0) + 1.6 * (p - p.mean(0)), shape).astype(bool) & face
        masks[name], used = part, used | part
    masks["rest of the face"] = inner & ~used
    masks["outside the face"] = ~face
    return masks
