"""The flags of the 3D priors, shared by every script that computes them -> PriorsSettings.

Their defaults are PriorsSettings' (deblur3d/priors/settings.py); `--data_dir` comes along
(the face model is found under the data root).
"""
from absl import flags

import shared_flags
from deblur3d.priors.settings import TEXTURES, PriorsSettings

_P = PriorsSettings()
shared_flags.define("recon_weights", "refine_landmarks")
shared_flags.define("data_dir", "face_model", "model_path")
flags.DEFINE_enum("texture", _P.texture, list(TEXTURES),
                  "Light and texture of the priors: recon = ReconNet's (the paper's); basis = fitted to the frame "
                  "in the rich albedo basis; frame = the person's own, read from the frame (not in the paper; "
                  "deblur3d/priors/texture.py); unset: as the deblurring model's priors were made, recon for export.")
FLAGS = flags.FLAGS


def priors_settings():
    return PriorsSettings(FLAGS.recon_weights or None, FLAGS.face_model, FLAGS.model_path, FLAGS.refine_landmarks,
                          FLAGS.texture)
