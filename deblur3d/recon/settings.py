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

    @property
    def trained(self):
        return bool(self.recon_weights) and Path(self.recon_weights).is_file()
