"""The methods `make eval` compares: the blurry input itself and every deblurring
checkpoint as a FaceDeblurrer (deblur3d/deblur/face_deblurrer.py), rebuilt from its weights header."""
import dataclasses
import glob
from pathlib import Path

import numpy as np

from deblur3d.data.blur import centre_frame
from deblur3d.deblur.face_deblurrer import FaceDeblurrer
from deblur3d.deblur.header import ModelHeader
from deblur3d.deblur.inference import Deblurrer, load_deblurrer
from deblur3d.eval.reference import ARCHITECTURE_ORDER
from deblur3d.train import weights


@dataclasses.dataclass
class Method:
    name: str
    face: object = None   # deblur.face_deblurrer.FaceDeblurrer; None: the input itself

    @property
    def header(self):
        return self.face.header if self.face else None

    @property
    def architecture(self):
        return self.header.architecture if self.header else "input"

    @property
    def needs_priors(self):
        return bool(self.face and self.face.needs_priors)

    @property
    def online(self):
        """The OnlineFramePriors this method's priors are computed with (None: needs none)."""
        return self.face.priors if self.needs_priors else None

    @property
    def priors_recipe(self):
        """How the priors the model expects are made (PriorsSettings.recipe; None: needs none)."""
        return self.online.settings.recipe if self.needs_priors else None

    def describe(self):
        return self.face.describe() if self.face else "no deblurring"

    def __call__(self, blurry, points5=None, render=None, identity=None):
        """(1, H, W, 15) -> (H, W, 3) numpy; priors the evaluation computed once for every method."""
        out = self.face(blurry, points5, render, identity) if self.face else centre_frame(blurry)
        return np.asarray(out)[0]


def discover_checkpoints(folder):
    """(name, path) of every *.weights.npz of `folder` whose header is a deblurring model."""
    found = []
    for path in sorted(glob.glob(str(Path(folder) / "*.weights.npz"))):
        try:
            architecture = ModelHeader.read(path).architecture
        except weights.WeightsFileError:   # not a weights file, or another model's (ReconNet)
            continue
        if architecture in ARCHITECTURE_ORDER[1:]:
            found.append((Path(path).name[:-len(".weights.npz")], path))
    return found


def load_methods(config, notes, online_for=None):
    """input + every checkpoint, ordered as the figure columns; missing files become notes.
    `online_for(header)`: the OnlineFramePriors for a model of that weights header (models
    whose priors are made alike share one)."""
    methods = [Method("input")]
    for name, path in config.checkpoints or discover_checkpoints(config.checkpoints_dir):
        if not Path(path).is_file():   # a named checkpoint that is not there: refused, not a silent gap
            raise weights.WeightsFileError(f"checkpoint {name}: {path}: no such weights file")
        deblurrer = load_deblurrer(path, config.precision)
        variants = [(name, deblurrer)]
        if config.flip_ensemble:   # the same loaded network, run a second way
            variants.append((name + "+flip", Deblurrer(deblurrer.net, deblurrer.header, flip_ensemble=True)))
        for label, variant in variants:
            online = online_for(deblurrer.header) if online_for and variant.needs_priors else None
            methods.append(Method(label, FaceDeblurrer(variant, online)))
    if len(methods) == 1:
        notes.append(f"no deblurring checkpoint found (in {config.checkpoints_dir}): only the input is evaluated")
    return sorted(methods, key=lambda m: ARCHITECTURE_ORDER.index(m.architecture))
