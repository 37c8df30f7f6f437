"""Where a deblurring model's 3D priors come from: one settings object, and one set of flags
(experiments/priors_flags.py), for training, export, evaluation, the video tool and the demo.
"""
import dataclasses
from pathlib import Path

from deblur3d import paths
from deblur3d.data.priors_store import read_index

TEXTURES = ("recon", "basis", "frame")   # how the priors' light and texture are made (priors/texture.py)


# Where a deblurring model's priors come from: stored beside each sample (data/priors_store.py, as the
# authors precompute them), computed in the training step, or none (the baseline).
SOURCES = ("precomputed", "online", "none")
PAPER_RECIPE = dict(refine_landmarks=0, texture="recon")   # ReconNet alone, its own texture
# ReconNet alone for the geometry, light and albedo solved in closed form on the frame
# (texture.py): the priors of a ReconNet taught without the rendered terms (recon/task.py).
DEFAULT_RECIPE = dict(refine_landmarks=0, texture="basis")


def recipe_of(root):
    """How the priors of a folder (data/priors_store.py) were made, as PriorsSettings.recipe
    (refine_landmarks, texture), or None without an index; older indexes lack the fields."""
    index = read_index(root)
    if index is None:
        return None
    return dict(refine_landmarks=int((index.get("refined") or {}).get("steps", PAPER_RECIPE["refine_landmarks"])),
                texture=index.get("texture", PAPER_RECIPE["texture"]))


@dataclasses.dataclass(frozen=True)
class PriorsSettings:
    recon_weights: str | None = str(paths.RECON_WEIGHTS)   # None: an untrained ReconNet (timing, tests)
    face_model: str = "ict"                                # the 3DMM the ReconNet predicts coefficients of
    model_path: str | None = None                          # None: the face model under the data root
    refine_landmarks: int | None = None                    # > 0: ReconNet's coefficients refined this many
                                                           # steps to dlib's 68 points on the blurry frame
                                                           # (refine.py; not in the paper, whose ReconNet
                                                           # alone gives them); None: as the model was trained
    texture: str | None = None                             # light and texture: "recon" ReconNet's (the paper's),
                                                           # "basis" fitted to the frame in the rich basis,
                                                           # "frame" the person's own (texture.py);
                                                           # None: as the deblurring model was trained

    def __post_init__(self):
        if self.texture is not None and self.texture not in TEXTURES:
            raise ValueError(f"unknown texture {self.texture!r}: use one of {', '.join(TEXTURES)}")

    @property
    def trained(self):
        return bool(self.recon_weights) and Path(self.recon_weights).is_file()

    @property
    def recipe(self):
        """What makes two sets of priors alike (a model trained on one is fed the other): the
        settings' `refine_landmarks` and `texture`, unset ones read as the paper's."""
        return dict(refine_landmarks=int(self.refine_landmarks if self.refine_landmarks is not None
                                         else PAPER_RECIPE["refine_landmarks"]),
                    texture=self.texture or PAPER_RECIPE["texture"])

    @property
    def albedo_path(self):
        """The ICT albedo basis: the one ReconNet was trained with for its own texture, the
        rich one (build_albedo.py) for a fitted texture; BFM brings its own."""
        if self.face_model != "ict":
            return None
        return str(paths.ICT_ALBEDO if self.recipe["texture"] == "recon" else paths.ICT_ALBEDO_RICH)

    def for_model(self, header):
        """These settings for a deblurring model: an unset `refine_landmarks` or `texture`
        becomes the one its priors were made with (its deblur.header.ModelHeader's
        `refine_landmarks`, `priors_texture`; the paper's without a header)."""
        made = (header.refine_landmarks, header.priors_texture) if header else (
            PAPER_RECIPE["refine_landmarks"], PAPER_RECIPE["texture"])
        if self.refine_landmarks is None:
            self = dataclasses.replace(self, refine_landmarks=int(made[0]))
        if self.texture is None:
            self = dataclasses.replace(self, texture=made[1])
        return self
