"""Temporal consistency of a clip's outputs.

With sharp frames, the warping error (Lai et al. 2018): the previous output frame, warped
onto the current one by the motion of the SHARP frames, should equal the current output
where that motion is reliable; the flow comes from the ground truth, so every method is
judged with one flow. Without them (a user's clip), CorrectionFlicker below: how much the
correction changes along the input's own motion.
"""
import cv2
import numpy as np

from deblur3d.data.frames import consistent_flow, warp
from deblur3d.eval.metrics import PEAK, to255

def warping_error(prev_out, out, prev_sharp=None, sharp=None, region=None, motion=None):
    """Mean |out - warp(prev_out)| on the 0-255 scale over reliable pixels (∩ region), or nan.

    `motion` = consistent_flow(prev_sharp, sharp), to compute it once for several methods.
    """
    prev_out, out = to255(prev_out), to255(out)
    if prev_out.shape != out.shape:
        raise ValueError(f"output frames of shapes {prev_out.shape} and {out.shape}")
    if motion is None:
        if prev_sharp is None or sharp is None:
            raise ValueError("give the sharp frames or their precomputed motion")
        motion = consistent_flow(prev_sharp, sharp)
    f, valid = motion
    if f.shape[:2] != out.shape[:2]:
        raise ValueError(f"flow of shape {f.shape} for frames of shape {out.shape}")
    if region is not None:
        valid = valid & np.asarray(region, bool)
    if not valid.any():
        return float("nan")
    diff = np.abs(out - warp(prev_out, f)).mean(-1)
    return float(diff[valid].mean())


class ClipWarping:
    """Warping error of consecutive scored frames of one clip, for several methods at once:
    `score(clip, sharp, outputs, region)` -> ({name: error}, the sharp frames' own error),
    nan for a clip's first frame. The flow between the sharp frames is computed once."""

    def __init__(self):
        self.clip, self.sharp, self.outputs = None, None, {}

    def score(self, clip, sharp, outputs, region=None):
        previous = self.sharp if clip == self.clip else None
        errors, floor = {name: float("nan") for name in outputs}, float("nan")
        if previous is not None:
            motion = consistent_flow(previous, sharp)
            errors = {name: warping_error(self.outputs[name], out, region=region, motion=motion)
                      for name, out in outputs.items()}
            floor = warping_error(previous, sharp, region=region, motion=motion)
        self.clip, self.sharp, self.outputs = clip, sharp, dict(outputs)
        return errors, floor


# --- without sharp frames: does the correction follow the content? -----------------------
#
# On a user's clip there is no ground truth to take the flow from, and the output's own
# warping error mostly measures how much it was sharpened. What flickers is the correction
# d = output - input: warped by the INPUT's flow, d of frame t-1 should be d of frame t,
# as the true sharp - blurry is, and a static filter's nearly is.

UNSHARP_SIGMA, UNSHARP_AMOUNT = 1.5, 1.0


def unsharp(image, scale=1.0):
    """The static reference filter on a 0-255 float image: image + amount * (image - Gaussian);
    `scale`: the image's px per frame px (a resized face crop), so the filter is the frame's."""
    blurred = cv2.GaussianBlur(image, (0, 0), UNSHARP_SIGMA * scale)
    return np.clip(image + UNSHARP_AMOUNT * (image - blurred), 0, 255)


def incoherence_sums(d, carried, valid):
    """(sum |d - carried|, sum |d|) over the `valid` pixels: the change of a correction `d`
    from the previous frame's, carried onto this one, and its size."""
    weight = np.asarray(valid, np.float32) / d.shape[-1]   # the channels' mean, at each valid pixel (4x faster than indexing)
    return (float(np.einsum("ijk,ij->", np.abs(d - carried), weight)),
            float(np.einsum("ijk,ij->", np.abs(d), weight)))


def correction_change(prev_in, inp, prev_out, out, region=None, motion=None):
    """(sum |d_t - warp(d_{t-1})|, sum |d_t|) over reliable pixels ∩ region, d = out - in
    (frames uint8 or floats in [0, 1]). `motion` = consistent_flow(prev_in, inp): the input's own flow."""
    f, valid = consistent_flow(prev_in, inp) if motion is None else motion
    if region is not None:
        valid = valid & np.asarray(region, bool)
    d_prev, d = to255(prev_out) - to255(prev_in), to255(out) - to255(inp)
    return incoherence_sums(d, warp(d_prev, f), valid)


class CorrectionFlicker:
    """The correction's incoherence over a clip, |d_t - warp(d_{t-1})| / |d_t| summed over
    consecutive frames and the face region, for the output and for the static unsharp mask
    of the same input frames (its reference): `add(input, output, region)` frame by frame
    (uint8, or floats in [0, 1]),
    `result()` -> dict(output=, unsharp=, frames=), nan without two frames with a face."""

    def __init__(self):
        self.previous, self.sums, self.frames = None, np.zeros(4), 0

    def add(self, inp, out, region):
        reference, region = unsharp(to255(inp)) / PEAK, np.asarray(region, bool)
        if self.previous is not None and region.any():   # consecutive frames that both show a face
            # Within the faces' box (and a margin for the flow): the rest of the frame is not scored.
            ys, xs = np.nonzero(region)
            box = (slice(max(ys.min() - 16, 0), ys.max() + 17), slice(max(xs.min() - 16, 0), xs.max() + 17))
            (prev_in, prev_out, prev_ref), now = [[np.asarray(x)[box] for x in group]
                                                  for group in (self.previous, (inp, out, reference))]
            motion = consistent_flow(prev_in, now[0])
            self.sums += (*correction_change(prev_in, now[0], prev_out, now[1], region[box], motion),
                          *correction_change(prev_in, now[0], prev_ref, now[2], region[box], motion))
            self.frames += 1
        self.previous = (inp, out, reference) if region.any() else None

    def result(self):
        ratio = lambda a, b: float(a / b) if b > 0 else float("nan")   # noqa: E731
        return dict(output=ratio(*self.sums[:2]), unsharp=ratio(*self.sums[2:]), frames=self.frames)
