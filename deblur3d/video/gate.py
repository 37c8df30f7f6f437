"""Which faces need deblurring: a no-reference blur estimate of each face crop, so the video
tool can pass faces that are already sharp through untouched (and save their time).

The estimate follows Crete et al. 2007 ("The blur effect"): blur the image again with a
9-pixel box along rows, then columns, and see how much of its local variation that removes.
A sharp face loses much of it (score near 0), a blurred one little (score toward 1). It is
read on the face's own box inside the crop, at the crop's fixed scale (320 px for 1.8x the
face), so faces of any size in the video are judged alike.
"""
import dataclasses

import cv2
import numpy as np

REBLUR = 9   # px at the crop's scale (Crete et al.'s filter length)
SCALE = 320  # px: the side of the training crops, at which the threshold was chosen


def blur_score(image, box=None):
    """RGB image (uint8, or float in [0, 1]) -> blur in [0, 1] (0 sharp), in `box` (x0, y0, x1, y1) if given."""
    grey = cv2.cvtColor(np.asarray(image, np.float32) / (255.0 if np.asarray(image).dtype == np.uint8 else 1.0),
                        cv2.COLOR_RGB2GRAY)
    if box is not None:
        x0, y0, x1, y1 = (int(round(v)) for v in box)
        grey = grey[max(y0, 0):max(y1, 0), max(x0, 0):max(x1, 0)]
    if min(grey.shape) < 2 * REBLUR:
        return float("nan")
    scores = []
    for axis, ksize in ((0, (1, REBLUR)), (1, (REBLUR, 1))):   # along columns, then rows; cv2: (width, height)
        again = cv2.blur(grey, ksize)
        variation = np.abs(np.diff(grey, axis=axis))
        kept = np.abs(np.diff(again, axis=axis))
        total = variation.sum()
        lost = np.maximum(variation - kept, 0).sum()
        scores.append(1.0 - lost / total if total > 0 else 1.0)
    return float(max(scores))


def face_score(crop, points68):
    """Blur score of the face in a square crop (its 68 points in crop pixels), read at the
    training crops' scale: the score depends on the scale, the threshold was set at this one."""
    p, side = np.asarray(points68, np.float32), crop.shape[0]
    if side != SCALE:
        crop = cv2.resize(np.asarray(crop), (SCALE, SCALE), interpolation=cv2.INTER_AREA if side > SCALE else cv2.INTER_CUBIC)
        p = p * (SCALE / side)
    return blur_score(crop, (*p.min(0), *p.max(0)))


@dataclasses.dataclass(frozen=True)
class Gate:
    """Faces whose blur score is below `threshold` are left as they are."""
    # 0.5: on val crops, 76% of sharp faces score below it and 4% of faces with the preset blur
    # (those nearly sharp, 42.7 dB face PSNR); `blur_stats.py --gate_scores` prints the table.
    threshold: float = 0.5   # 0: every face is deblurred

    def needs_deblurring(self, score):
        """score: the face's face_score."""
        return self.threshold <= 0 or not score < self.threshold   # nan (face too small to tell): deblur
