"""Steadier corrections from frame to frame (not in the paper).

The model deblurs each frame on its own, and the detail it restores changes a little from
one frame to the next where the content does not: flicker. Along the input's own motion,
the true correction (sharp - blurry) changes slowly, so each face's correction d_t is
blended with the previous frame's (already blended) correction carried onto frame t by the
flow of the input crops, wherever that flow passes the forward-backward check:

    d'_t = (1 - w m) d_t + w m warp(d'_{t-1}),
    m = exp(-(|c_t - warp(c_{t-1})| / sigma)^2) where the flow is reliable, else 0

with c the input crops: the correction is a function of the input, so it is carried only
where the input itself looks the same once moved (a sharp clip); where the blur changed
between the frames, each frame keeps its own correction.

w itself follows the face's blur score (video/gate.py): all of `weight` up to `steady_below`,
none from `own_above`, linear between. A face that is barely blurred has little to restore,
and what the model changes there (compression noise, texture) flickers; a face clearly
blurred by motion has a true correction that changes with the blur from frame to frame, and
keeps its own.

A recursive filter along motion trajectories, as recurrent video restoration carries its
previous output along the flow; here only the correction is carried.
Where the flow fails (occlusion, a blink, a cut) the frame keeps its own correction; on a
static scene with a steady correction nothing changes. `weight` 0 turns it off.
"""
import dataclasses

import cv2
import numpy as np

from deblur3d.data.frames import consistent_flow, warp


@dataclasses.dataclass(frozen=True)
class Stabiliser:
    # The defaults meet the flicker target on the four real val clips and make demo's clip
    # (docs/video.md#flicker-without-sharp-frames); weight 0 turns the stabiliser off.
    weight: float = 0.95  # w above: the share of the carried correction where the input is unchanged
    # Wide enough to carry through heavy compression (H.264 at CRF 38 needs more than 12).
    sigma: float = 24.0   # grey levels (0-255) of input change at which the share falls to 1/e
    # Sharp val clips score 0.39-0.47, the low-resolution dpe-s 0.50-0.56, make demo's
    # motion-blurred clip 0.50-0.72 (median 0.61).
    steady_below: float = 0.56  # blur score up to which all of `weight` applies
    own_above: float = 0.62     # blur score from which none does

    def weight_for(self, score):
        """The share w for a face of this blur score (nan, a face too small to tell: none)."""
        if not np.isfinite(score) or score >= self.own_above:
            return 0.0
        if score <= self.steady_below:
            return self.weight
        return self.weight * (self.own_above - score) / (self.own_above - self.steady_below)


class CorrectionMemory:
    """The previous frame's crop and correction of each face region (a segment), so that
    `steady(key, t, crop, correction)` can blend; a frame not following its predecessor
    (a gated or missing frame) starts afresh."""

    def __init__(self, stabiliser=Stabiliser()):
        self.settings, self.previous = stabiliser, {}

    def steady(self, key, t, crop, correction, score=0.0):
        """crop (H, W, 3) float in [0, 1], correction (H, W, 3), the face's blur score -> the
        blended correction."""
        previous = self.previous.get(key)
        weight, sigma = self.settings.weight_for(score), self.settings.sigma / 255.0
        if weight > 0 and previous is not None and previous[0] == t - 1:
            _, prev_crop, prev_correction = previous
            flow, valid = consistent_flow(prev_crop, crop)
            change = cv2.GaussianBlur(np.abs(crop - warp(prev_crop, flow)).mean(-1), (0, 0), 2.0)
            share = (weight * valid * np.exp(-np.square(change / sigma)))[..., None].astype(np.float32)
            correction = (1 - share) * correction + share * warp(prev_correction, flow)
        self.previous[key] = (t, crop, correction)
        return correction

    def forget_before(self, t):
        for key in [k for k, v in self.previous.items() if v[0] < t - 1]:
            del self.previous[key]
