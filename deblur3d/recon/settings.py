"""Where a deblurring model's 3D priors come from: one settings object, and one set of flags
(experiments/priors_flags.py), for training, export, evaluation, the video tool and the demo.

Free of TensorFlow: the video tool reads its flags and checks its input before it decides
whether it needs TensorFlow at all.
"""
import dataclasses
from pathlib import Path

from deblur3d import paths

TEXTURES = ("recon", "basis", "frame")   # how the priors' light and texture are made (recon/texture.py)


@dataclasses.dataclass(frozen=True)
class PriorsSettings:
    recon_weights: str | None = str(paths.RECON_WEIGHTS)   # None: an untrained ReconNet (timing, tests)
    face_model: str = "ict"                                # the 3DMM the ReconNet predicts coefficients of
    model_path: str | None = None                          # None: the face model under the data root
    refine_steps: int | None = None                        # > 0: ReconNet's coefficients refined to dlib's 68
                                                           # points on the blurry frame (recon/refine.py; not
                                                           # in the paper, whose ReconNet alone gives them);
                                                           # None: as the deblurring model was trained
    texture: str | None = None                             # light and texture: "recon" ReconNet's (the paper's),
                                                           # "basis" fitted to the frame in the rich basis,
                                                           # "frame" the person's own (recon/texture.py);
                                                           # None: as the deblurring model was trained

    def __post_init__(self):
        if self.texture is not None and self.texture not in TEXTURES:
            raise ValueError(f"unknown texture {self.texture!r}: use one of {', '.join(TEXTURES)}")

    @property
    def trained(self):
        return bool(self.recon_weights) and Path(self.recon_weights).is_file()

    @property
    def refine(self):
        """Refinement steps, None read as 0 (the paper's: ReconNet alone)."""
        return int(self.refine_steps or 0)

    @property
    def fitted_texture(self):
        """The texture, None read as "recon" (the paper's: ReconNet's)."""
        return self.texture or "recon"

    @property
    def albedo_path(self):
        """The ICT albedo basis: the one ReconNet was trained with for its own texture, the
        rich one (build_albedo.py) for a fitted texture; BFM brings its own."""
        if self.face_model != "ict":
            return None
        return str(paths.ICT_ALBEDO if self.fitted_texture == "recon" else paths.ICT_ALBEDO_RICH)

    @property
    def recipe(self):
        """What makes two sets of priors alike: a model trained on one is fed the other."""
        return dict(refine_landmarks=self.refine, texture=self.fitted_texture)

    def for_model(self, header):
        """These settings for a deblurring model: an unset `refine_steps` or `texture` becomes
        the one its priors were made with (weights header `refine_landmarks`, `priors_texture`;
        0 and "recon" for files without them)."""
        header = header or {}
        if self.refine_steps is None:
            self = dataclasses.replace(self, refine_steps=int(header.get("refine_landmarks", 0)))
        if self.texture is None:
            self = dataclasses.replace(self, texture=header.get("priors_texture", "recon"))
        return self
