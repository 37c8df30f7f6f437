"""Putting a deblurred face back into its frame.

What is pasted is the model's correction (deblurred crop - blurry crop), resized back to
the region and weighted by a feathered mask: frame + feather * correction. Resampling
the face to 320x320 and back therefore costs nothing where the model changes nothing
(there the output equals the input exactly), and the mask's smooth ramp leaves no seam.
"""
import cv2
import numpy as np

FEATHER = 0.15   # share of the region's side over which the mask ramps from 0 to 1


def ramp(length, width, start=True, end=True):
    """(length,) raised cosine: 0 at a faded end, 1 from `width` pixels inside it on."""
    i = np.arange(length, dtype=np.float32)
    distance = np.full(length, np.inf, np.float32)
    if start:
        distance = np.minimum(distance, i)
    if end:
        distance = np.minimum(distance, length - 1 - i)
    return (0.5 - 0.5 * np.cos(np.pi * np.clip(distance / max(width, 1), 0.0, 1.0))).astype(np.float32)


def feather(side, fraction=FEATHER, fade=(True, True, True, True)):
    """(side, side) mask, 1 in the middle, falling to 0 over the outer `fraction` of the side
    at each faded edge (top, bottom, left, right)."""
    width = int(round(fraction * side))
    return np.outer(ramp(side, width, *fade[:2]), ramp(side, width, *fade[2:]))


def region_feather(region, frame_hw, fraction=FEATHER):
    """The mask of a region; edges lying on the frame's border are not faded (nothing
    beyond them could show a seam, and the face may touch them)."""
    x0, y0, side = region
    height, width = frame_hw
    return feather(side, fraction, (y0 > 0, y0 + side < height, x0 > 0, x0 + side < width))


def paste_corrections(frame, corrections, fraction=FEATHER):
    """frame (H, W, 3) uint8 + [(region, (S, S, 3) correction in [0, 1] units)] -> uint8 frame.

    Where regions overlap, their corrections are averaged with the masks as weights.
    Pixels outside every region, and wherever the corrections are zero, keep their value.
    """
    if not corrections:
        return frame
    total = np.zeros(frame.shape, np.float32)
    weight = np.zeros(frame.shape[:2] + (1,), np.float32)
    for (x0, y0, side), correction in corrections:
        mask = region_feather((x0, y0, side), frame.shape[:2], fraction)[..., None]
        shrink = side < correction.shape[0]
        back = cv2.resize(np.asarray(correction, np.float32), (side, side),
                          interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)
        total[y0:y0 + side, x0:x0 + side] += mask * back.reshape(side, side, -1)
        weight[y0:y0 + side, x0:x0 + side] += mask
    out = frame.astype(np.float32) + 255.0 * total / np.maximum(weight, 1.0)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)
