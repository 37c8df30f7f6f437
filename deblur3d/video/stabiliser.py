"""Steadier corrections from frame to frame, as steady as the tool's own measure asks (not in
the paper).

The model deblurs each frame on its own, and the detail it restores changes a little from
one frame to the next where the content does not: flicker. Along the input's own motion,
the true correction (sharp - blurry) changes slowly, so each face's correction d_t is
blended with the previous frame's (already blended) correction carried onto frame t by the
flow of the input crops, wherever that flow passes the forward-backward check:

    d'_t = (1 - W m) d_t + W m warp(d'_{t-1}),
    m = exp(-(|c_t - warp(c_{t-1})| / sigma)^2) where the flow is reliable, else 0

with c the input crops: the correction is a function of the input, so it is carried only
where the input itself looks the same once moved (a sharp clip); where the blur changed
between the frames, each frame keeps its own correction.

The share W is chosen per face region (a track's segment) by the loop below, from the measure
the tool reports (eval/temporal.py, CorrectionFlicker): the correction's incoherence
|d'_t - warp(d'_{t-1})| / |d'_t| over the face, beside a static unsharp mask's on the same
crops. Every W of a small ladder is run alongside (one flow, a warp each), and each frame
gets the smallest W whose incoherence over the segment so far is no higher than the filter's,
or the ceiling (`weight`) when none is. A correction already as steady as the filter's (a
motion-blurred face whose true correction changes with the blur) keeps W 0, its own.

A recursive filter along motion trajectories, as recurrent video restoration carries its
previous output along the flow; here only the correction is carried.
Where the flow fails (occlusion, a blink, a cut) the frame keeps its own correction; on a
static scene with a steady correction nothing changes. `weight` 0 turns it off.
"""
import dataclasses

import cv2
import numpy as np

from deblur3d.data.frames import consistent_flow, face_mask, warp
from deblur3d.eval.temporal import incoherence_sums, unsharp

LADDER = (0.0, 0.5, 0.8, 0.9, 0.95)   # the shares W tried, below the ceiling


@dataclasses.dataclass(frozen=True)
class Stabiliser:
    # weight 0 turns the stabiliser off (the incoherence is still measured and reported).
    weight: float = 0.95  # the ceiling of W, the share of the carried correction where the input is unchanged
    # Wide enough to carry through heavy compression (H.264 at CRF 38 needs more than 12).
    sigma: float = 24.0   # grey levels (0-255) of input change at which the share falls to 1/e

    def ladder(self):
        return tuple(w for w in LADDER if w < self.weight) + (self.weight,)   # weight 0: (0,)


class Incoherence:
    """Running sums of |d_t - warp(d_{t-1})| and |d_t| over a segment's face pixels."""

    def __init__(self):
        self.change, self.size = 0.0, 0.0

    def add(self, d, previous, flow, where, rounded=True):
        """d, previous: this frame's and the previous frame's corrections (in [0, 1] units),
        `rounded` to whole grey levels as the output frames hold them (that rounding flickers
        too, and the tool's measure sees it; its static filter is not rounded)."""
        level = np.rint if rounded else np.asarray
        change, size = incoherence_sums(level(255 * d), warp(level(255 * previous), flow), where)
        self.change, self.size = self.change + change, self.size + size

    def value(self):
        return self.change / self.size if self.size > 0 else float("nan")


class TrackLoop:
    """One segment's loop: every W of the ladder, the filter, and what was output."""

    def __init__(self, ladder):
        self.ladder, self.weight, self.t, self.pairs = ladder, 0.0, None, 0
        self.candidates = [Incoherence() for _ in ladder]
        self.unsharp, self.output = Incoherence(), Incoherence()
        self.images = None   # crop, filter's correction, each candidate's correction, the output's

    def choose(self):
        """The smallest W steady enough so far, else the ceiling; no measure yet: as before."""
        reference = self.unsharp.value()
        if not np.isfinite(reference):
            return self.weight
        return next((w for w, c in zip(self.ladder, self.candidates) if c.value() <= reference), self.ladder[-1])

    def step(self, t, crop, correction, region, scale, sigma):
        reference = unsharp(crop * 255.0, scale) / 255.0 - crop
        candidates, output = [correction] * len(self.ladder), correction
        if self.t == t - 1:
            prev_crop, prev_reference, prev_candidates, prev_output = self.images
            flow, valid = consistent_flow(prev_crop, crop)
            change = cv2.GaussianBlur(np.abs(crop - warp(prev_crop, flow)).mean(-1), (0, 0), 2.0)
            carry = (valid * np.exp(-np.square(change / sigma)))[..., None].astype(np.float32)
            where = valid & region
            self.unsharp.add(reference, prev_reference, flow, where, rounded=False)
            candidates = []
            for w, previous, score in zip(self.ladder, prev_candidates, self.candidates):
                candidates.append((1 - w * carry) * correction + w * carry * warp(previous, flow))
                score.add(candidates[-1], previous, flow, where)
            self.weight = self.choose()
            output = (1 - self.weight * carry) * correction + self.weight * carry * warp(prev_output, flow)
            self.output.add(output, prev_output, flow, where)
            self.pairs += 1
        self.t, self.images = t, (crop, reference, candidates, output)
        return output

    def summary(self):
        """W chosen on the whole segment, the incoherence before (W 0) and after, the filter's."""
        return dict(weight=self.choose(), before=self.candidates[0].value(), after=self.output.value(),
                    unsharp=self.unsharp.value(), pairs=self.pairs)


class CorrectionMemory:
    """Each face region's (segment's) loop, so that `steady(key, t, crop, correction, points)`
    can blend; a frame not following its predecessor (a gated or missing frame) starts afresh."""

    def __init__(self, stabiliser=Stabiliser()):
        self.settings, self.loops = stabiliser, {}

    def steady(self, key, t, crop, correction, points68, scale=1.0):
        """crop (H, W, 3) float in [0, 1], correction (H, W, 3), the face's 68 points in the
        crop, `scale` the crop's px per frame px -> the blended correction."""
        loop = self.loops.setdefault(key, TrackLoop(self.settings.ladder()))
        return loop.step(t, crop, correction, face_mask(crop.shape, points68), scale, self.settings.sigma / 255.0)

    def forget_before(self, t):
        for loop in self.loops.values():
            if loop.t is not None and loop.t < t - 1:
                loop.images = None   # the sums stay for the report

    def summary(self):
        """{key: TrackLoop.summary()} for every segment seen."""
        return {key: loop.summary() for key, loop in self.loops.items()}
