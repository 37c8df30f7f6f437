"""What a deblurring model's weights file says about it: one typed header, written by training
(`ModelHeader.fields`) and read only here (`ModelHeader.read`), whatever reads a model.

train/weights.py stores any model's header as JSON; this is the deblurring models' part of
it. Files written before the header had a type carry the architecture as flat keys
(`architecture`, `use_render`, ...) and the blur as `blur_window`; `parse` reads those too.
"""
import dataclasses

from deblur3d.deblur import archs
from deblur3d.priors.settings import PAPER_RECIPE
from deblur3d.train import weights


@dataclasses.dataclass(frozen=True)
class ModelHeader:
    arch: archs.Arch
    steps: int | None = None           # training steps, fine-tunes included
    blur: dict | None = None           # the BlurConfig it learnt on (data/blur_settings.py), as a dict
    refine_landmarks: int = PAPER_RECIPE["refine_landmarks"]   # how its priors were made (PriorsSettings
    priors_texture: str = PAPER_RECIPE["texture"]              # .recipe): the paper's for files that do not say
    priors_recon: str = PAPER_RECIPE["recon"]                  # (recon_ict's)
    extra: dict = dataclasses.field(default_factory=dict, compare=False)   # the rest, as written

    @property
    def architecture(self):
        return self.arch.model

    @property
    def recipe(self):
        """How its priors were made, as PriorsSettings.recipe."""
        return dict(refine_landmarks=self.refine_landmarks, texture=self.priors_texture, recon=self.priors_recon)

    @property
    def use_render(self):
        return self.arch.use_render

    @property
    def use_identity(self):
        return self.arch.use_identity

    @property
    def stride(self):
        """Frames between the neighbours of the stacks it was trained on (1: older files)."""
        return int((self.blur or {}).get("stride", 1))

    @classmethod
    def parse(cls, raw):
        """From a weights file's JSON header; WeightsFileError unless it is a deblurring model's."""
        kind = (raw.get("arch") or {}).get("model") or raw.get("architecture")
        if kind not in archs.MODELS:
            raise weights.WeightsFileError(f"not a deblurring model (architecture {kind!r}, model {raw.get('model')!r})")
        blur = raw.get("blur") or ({"window": raw["blur_window"], "stride": 1} if raw.get("blur_window") else None)
        own = {"arch", "steps", "blur", "refine_landmarks", "priors_texture", "priors_recon", "names", "shapes",
               "architecture", "blur_window", *(f.name for f in dataclasses.fields(archs.Arch))}   # older flat keys
        return cls(archs.Arch.from_header(raw), raw.get("steps"), blur,
                   int(raw.get("refine_landmarks", PAPER_RECIPE["refine_landmarks"])),
                   raw.get("priors_texture", PAPER_RECIPE["texture"]), raw.get("priors_recon", PAPER_RECIPE["recon"]),
                   {k: v for k, v in raw.items() if k not in own})

    @classmethod
    def read(cls, path):
        """The header of a weights file; WeightsFileError naming the file otherwise."""
        raw = weights.read_header(path)   # its errors name the file
        try:
            return cls.parse(raw)
        except weights.WeightsFileError as err:
            raise weights.WeightsFileError(f"{path}: {err}") from None

    def fields(self):
        """What training writes (weights.save keywords), each setting once."""
        return dict(self.extra, arch=self.arch.header(), steps=self.steps, blur=self.blur,
                    refine_landmarks=self.refine_landmarks, priors_texture=self.priors_texture,
                    priors_recon=self.priors_recon)
