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
# A recipe: how a set of priors is made. `recon` names the ReconNet weights (a file name under
# checkpoints/, or a path elsewhere). The paper's: ReconNet alone with its own texture; recon_ict,
# trained with the paper's weak supervision, made the priors of every file that does not say.
PAPER_RECIPE = dict(refine_landmarks=0, texture="recon", recon=paths.RECON_WEIGHTS.name)
# The default (make priors, make eval's new models, the video tool's): the ReconNet taught on
# people for the geometry (it was taught without the rendered terms, recon/task.py), light and
# albedo solved in closed form on the frame, the albedo read per vertex where the frame shows
# it ("frame", texture.py; not in the paper: the basis fit, "basis", is one flag away;
# docs/model.md measures both).
DEFAULT_RECIPE = dict(refine_landmarks=0, texture="frame", recon=paths.RECON_PEOPLE.name)
AS_MADE = "default"   # recon_weights: the ReconNet a deblurring model's priors were made with (its
                      # header), DEFAULT_RECIPE's without a model


def recon_name(weights):
    """How a recipe names ReconNet weights: the file name for a committed file, else the path;
    '' for an untrained ReconNet."""
    if not weights:
        return ""
    path = Path(weights)
    return path.name if path.resolve().parent == paths.CHECKPOINTS.resolve() else str(weights)


def recon_path(name):
    """The weights file a recipe's `recon` names (recon_name's inverse); None: untrained."""
    if not name:
        return None
    return str(paths.CHECKPOINTS / name) if Path(name).name == name else name


def recipe_of(root):
    """How the priors of a folder (data/priors_store.py) were made, as PriorsSettings.recipe,
    or None without an index; older indexes lack the fields (the paper's recipe)."""
    index = read_index(root)
    if index is None:
        return None
    return dict(refine_landmarks=int((index.get("refined") or {}).get("steps", PAPER_RECIPE["refine_landmarks"])),
                texture=index.get("texture", PAPER_RECIPE["texture"]), recon=index.get("recon", PAPER_RECIPE["recon"]))


@dataclasses.dataclass(frozen=True)
class PriorsSettings:
    recon_weights: str | None = AS_MADE                    # None: an untrained ReconNet (timing, tests)
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
    def made(self):
        """Whether no setting is left "as the model was made" (for_model, for_export)."""
        return self.recon_weights != AS_MADE and self.refine_landmarks is not None and self.texture is not None

    @property
    def trained(self):
        return bool(self.recon_weights) and Path(self.recon_weights).is_file()

    @property
    def recipe(self):
        """What makes two sets of priors alike (a model trained on one is fed the other): the
        settings' `refine_landmarks`, `texture` and ReconNet, unset ones read as the paper's."""
        return dict(refine_landmarks=int(self.refine_landmarks if self.refine_landmarks is not None
                                         else PAPER_RECIPE["refine_landmarks"]),
                    texture=self.texture or PAPER_RECIPE["texture"],
                    recon=PAPER_RECIPE["recon"] if self.recon_weights == AS_MADE else recon_name(self.recon_weights))

    @property
    def albedo_path(self):
        """The ICT albedo basis: the one ReconNet was trained with for its own texture, the
        rich one (build_albedo.py) for a fitted texture; BFM brings its own."""
        if self.face_model != "ict":
            return None
        return str(paths.ICT_ALBEDO if self.recipe["texture"] == "recon" else paths.ICT_ALBEDO_RICH)

    def made_as(self, recipe):
        """These settings with every unset one (refinement, texture, ReconNet) taken from `recipe`."""
        return dataclasses.replace(
            self, refine_landmarks=int(recipe["refine_landmarks"]) if self.refine_landmarks is None
            else self.refine_landmarks, texture=self.texture or recipe["texture"],
            recon_weights=recon_path(recipe["recon"]) if self.recon_weights == AS_MADE else self.recon_weights)

    def for_model(self, header):
        """These settings for a deblurring model: unset ones become those its priors were made
        with (its deblur.header.ModelHeader's recipe; the paper's without a header)."""
        return self.made_as(header.recipe if header else PAPER_RECIPE)

    def for_export(self):
        """These settings where no model says how (make priors, eval_priors): unset ones the default's."""
        return self.made_as(DEFAULT_RECIPE)
