"""Where a deblurring model's 3D priors come from: one settings object, and one set of flags
(experiments/priors_flags.py), for training, export, evaluation, the video tool and the demo.

Free of TensorFlow: the video tool reads its flags and checks its input before it decides
whether it needs TensorFlow at all.
"""
import dataclasses
from pathlib import Path

from deblur3d import paths


@dataclasses.dataclass(frozen=True)
class PriorsSettings:
    recon_weights: str | None = str(paths.RECON_WEIGHTS)   # None: an untrained ReconNet (timing, tests)
    face_model: str = "ict"                                # the 3DMM the ReconNet predicts coefficients of
    model_path: str | None = None                          # None: the face model under the data root
    refine_steps: int | None = None                        # > 0: ReconNet's coefficients refined to dlib's 68
                                                           # points on the blurry frame (recon/refine.py; not
                                                           # in the paper, whose ReconNet alone gives them);
                                                           # None: as the deblurring model was trained

    @property
    def trained(self):
        return bool(self.recon_weights) and Path(self.recon_weights).is_file()

    @property
    def refine(self):
        """Refinement steps, None read as 0 (the paper's: ReconNet alone)."""
        return int(self.refine_steps or 0)

    def for_model(self, header):
        """These settings for a deblurring model: an unset `refine_steps` becomes the one its
        priors were made with (weights header `refine_landmarks`; 0 for files without it)."""
        if self.refine_steps is not None:
            return self
        return dataclasses.replace(self, refine_steps=int((header or {}).get("refine_landmarks", 0)))
