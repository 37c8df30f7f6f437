"""The methods `make eval` compares: the blurry input itself and every deblurring
checkpoint, each rebuilt from its weights header (deblur3d/deblur/inference.py)."""
import dataclasses
import glob
from pathlib import Path

import numpy as np

from deblur3d.data.blur import centre_frame
from deblur3d.deblur.inference import load_deblurrer
from deblur3d.eval.reference import ARCHITECTURE_ORDER
from deblur3d.train import weights


@dataclasses.dataclass
class Method:
    name: str
    deblurrer: object = None   # None: the input itself

    @property
    def header(self):
        return self.deblurrer.header if self.deblurrer else {}

    @property
    def architecture(self):
        return self.header.get("architecture", "input")

    @property
    def needs_priors(self):
        return bool(self.deblurrer and self.deblurrer.needs_priors)

    def describe(self):
        if not self.deblurrer:
            return "no deblurring"
        what = self.architecture
        if what == "ours":
            priors = [p for p in ("render", "identity") if self.header.get(f"use_{p}")]
            what += " + " + " + ".join(priors) if priors else ", no priors"
        return f"{what}, {self.header.get('steps', '?')} steps"

    def __call__(self, blurry, render=None, identity=None):
        """(1, H, W, 15) -> (H, W, 3) numpy."""
        out = self.deblurrer(blurry, render, identity) if self.deblurrer else centre_frame(blurry)
        return np.asarray(out)[0]


def discover_checkpoints(folder):
    """(name, path) of every *.weights.npz of `folder` whose header is a deblurring model."""
    found = []
    for path in sorted(glob.glob(str(Path(folder) / "*.weights.npz"))):
        try:
            architecture = weights.read_header(path).get("architecture")
        except weights.WeightsFileError:
            continue
        if architecture in ARCHITECTURE_ORDER[1:]:
            found.append((Path(path).name[:-len(".weights.npz")], path))
    return found


def load_methods(config, notes):
    """input + every checkpoint, ordered as the figure columns; missing files become notes."""
    methods = [Method("input")]
    for name, path in config.checkpoints or discover_checkpoints(config.checkpoints_dir):
        if not Path(path).is_file():
            notes.append(f"checkpoint {name}: {path} does not exist, skipped")
            continue
        methods.append(Method(name, load_deblurrer(path)))
    if len(methods) == 1:
        notes.append(f"no deblurring checkpoint found (in {config.checkpoints_dir}): only the input is evaluated")
    return sorted(methods, key=lambda m: ARCHITECTURE_ORDER.index(m.architecture))
