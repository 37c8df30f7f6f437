"""The whole method on a face: a deblurring model with the 3D priors it was trained with.

    face = load_face_deblurrer("checkpoints/deblur_full.weights.npz", PriorsSettings())
    sharp = face(stack, points5)      # (H, W, 15) + (5, 2) -> (H, W, 3); batches work too

One object used by evaluation (which may hand it precomputed priors), the video tool and the
demo; the model comes from its weights header, the priors from ReconNet when it needs them.
"""
import numpy as np

from deblur3d.deblur.inference import load_deblurrer
from deblur3d.priors.online import OnlineFramePriors
from deblur3d.priors.settings import PriorsSettings


class FaceDeblurrer:
    def __init__(self, deblurrer, priors=None):
        """deblurrer: inference.Deblurrer; priors: OnlineFramePriors, or None when the model
        needs none or its caller always hands them over."""
        self.deblurrer, self.priors = deblurrer, priors
        self.header, self.needs_priors = deblurrer.header, deblurrer.needs_priors
        self.stride = self.header.stride   # the video pipeline stacks neighbours this far apart

    def describe(self):
        what = self.header.architecture
        if what == "ours":
            used = [p for p in ("render", "identity") if getattr(self.header, f"use_{p}")]
            what += " + " + " + ".join(used) if used else ", no priors"
        ensemble = ", flip ensemble" if self.deblurrer.flip_ensemble else ""
        steps = "?" if self.header.steps is None else self.header.steps
        return f"{what}, {steps} steps{ensemble}"

    def __call__(self, stack, points5=None, render=None, identity=None):
        """stack (B, H, W, 15) or (H, W, 15) in [0, 1], its centre frame's five points; priors
        given are used as they are, missing ones computed -> numpy, batched as the input."""
        single = np.ndim(stack) == 3
        x = np.asarray(stack, np.float32)[None] if single else np.asarray(stack, np.float32)
        if self.needs_priors and render is None and identity is None:
            if self.priors is None:
                raise ValueError("this model needs 3D priors: give them, or build it with OnlineFramePriors")
            points = np.asarray(points5, np.float32)
            render, identity = self.priors(x, points[None] if single else points)
        out = np.asarray(self.deblurrer(x, render, identity))
        return out[0] if single else out


def load_face_deblurrer(path, settings=PriorsSettings(), data_dir=None, precision="float32", flip_ensemble=False):
    """Weights file -> FaceDeblurrer with online priors if the model uses them, made as its
    header says they were in training (landmark refinement or not; built when first needed;
    `priors.available()` says whether they can be). `precision`: the DeblurNet's compute type
    (the ReconNet stays float32); `flip_ensemble`: inference.Deblurrer's."""
    deblurrer = load_deblurrer(path, precision, flip_ensemble)
    priors = OnlineFramePriors(settings.for_model(deblurrer.header), data_dir) if deblurrer.needs_priors else None
    return FaceDeblurrer(deblurrer, priors)
