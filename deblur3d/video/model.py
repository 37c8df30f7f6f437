"""The deblurring model of the video tool: a weights file, and the 3D priors when it uses them.

`check()` reads only the files' headers and arrays, so a run with a bad model fails before
a frame is read; `get()` builds the networks.
"""
import dataclasses
from pathlib import Path

import tensorflow as tf

from deblur3d import paths
from deblur3d.deblur import archs
from deblur3d.deblur.face_deblurrer import load_face_deblurrer
from deblur3d.deblur.header import ModelHeader
from deblur3d.deblur.inference import build_from_header
from deblur3d.face import default_model_path
from deblur3d.priors.settings import PriorsSettings
from deblur3d.train import weights as weights_lib

DEFAULT_WEIGHTS = str(paths.DEBLUR_WEIGHTS)


@dataclasses.dataclass
class ModelSpec:
    """Where the model comes from; `check()` validates it cheaply, `get()` loads it once.

    recon.recon_weights None: an untrained ReconNet (same cost: for timing and tests only).
    """
    weights: str = DEFAULT_WEIGHTS
    recon: PriorsSettings = PriorsSettings()
    data_dir: str | None = None
    precision: str = "float32"          # the DeblurNet's compute type (train/strategies.PRECISIONS)
    flip_ensemble: bool = False         # mean with the mirrored frames' output (inference.Deblurrer)
    _loaded: object = dataclasses.field(default=None, repr=False, compare=False)

    def header(self):
        """The weights' ModelHeader; WeightsFileError (one line) for a missing or foreign file."""
        if not Path(self.weights).is_file():
            raise weights_lib.WeightsFileError(
                f"{self.weights}: no such weights file (pass --weights=<deblurring weights .npz>; "
                "checkpoints/reproduce.sh trains the reference ones, checkpoints/README.md)")
        try:
            return ModelHeader.read(self.weights)
        except weights_lib.WeightsFileError as err:   # e.g. ReconNet weights
            raise weights_lib.WeightsFileError(f"{err}; pass --weights=<deblurring weights>") from None

    def check(self):
        """ModelHeader of the weights, after checking the files the model will need exist."""
        header = self.header()
        weights_lib.verify(self.weights)   # every array present, of its shape, finite
        if header.use_render or header.use_identity:
            recon = self.recon.for_model(header).recon_weights   # the ReconNet its priors were made with
            if recon is not None and not Path(recon).is_file():
                raise weights_lib.WeightsFileError(
                    f"{recon}: no such ReconNet weights file, needed by {self.weights} "
                    "for its 3D priors (pass --recon_weights)")
            if self.recon.model_path is None:
                default_model_path(self.recon.face_model, self.data_dir)   # FileNotFoundError saying where
        return header

    def get(self):
        if self._loaded is None:
            self.check()
            face = load_face_deblurrer(self.weights, self.recon, self.data_dir, self.precision,
                                       self.flip_ensemble)
            if face.priors is not None and not face.priors.available():
                raise RuntimeError(f"3D priors unavailable: {face.priors.reason}")
            self._loaded = face
        return self._loaded


def untrained_weights(path, use_priors=True, identity=False, seed=0):
    """Writes a freshly built DeblurNet's weights file, for timing (same cost as a trained
    one) and tests: residual, so that it changes faces by a few grey levels like a trained one
    (a non-residual random net's output spans ±8, which the video tool refuses); `identity`:
    its output layer zeroed, so it changes nothing."""
    header = ModelHeader(archs.Arch(use_render=use_priors, use_identity=use_priors, residual=True), steps=0)
    tf.keras.utils.set_random_seed(seed)
    net = build_from_header(header)
    for w in net.conv_out.weights if identity else ():
        w.assign(tf.zeros_like(w))
    weights_lib.save(net, path, **header.fields())
    return str(path)
