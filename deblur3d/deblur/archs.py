"""The one registry of deblurring architectures and their configuration (BasicSR-style).

`Arch` is everything needed to rebuild a network; a weights file stores it whole in its
header, so training, inference, video and evaluation all build models through `build`.
Defaults are the paper's DeblurNet with the authors' release sizes (docs/reproduction.md §5); fields marked
"not in the paper" are the CPU recipe's departures, measured in
docs/results.md#the-cpu-recipe-on-the-realistic-blur-deblur_full.
"""
import dataclasses

from deblur3d.deblur.baselines import DBN, SRN
from deblur3d.deblur.model import DeblurNet
from deblur3d.train import strategies

MODELS = {"ours": DeblurNet, "dbn": DBN, "srn": SRN}
# The Arch fields each baseline takes; the rest are the DeblurNet's.
BASELINE_FIELDS = {"dbn": ("residual", "zero_out"), "srn": ()}


@dataclasses.dataclass(frozen=True)
class Arch:
    model: str = "ours"                 # ours (DeblurNet) | dbn (Su et al.) | srn (Tao et al.)
    use_render: bool = True             # paper Table 2's rows
    use_identity: bool = True
    double_input: bool = False          # the release's 30-channel first conv
    release_resblock: bool = False      # the release's ResBlock (no second ReLU)
    residual: bool = False              # output = blurry centre + network (not in the paper)
    widths: tuple = (32, 64, 128)       # stage widths (the release's)
    blocks: int = 3                     # ResBlocks per stage (the release's)
    kernel: int = 5                     # conv kernel (paper: 5x5)
    res_scale: float = 1.0              # residual branch scale (not in the paper below 1)
    zero_out: bool = False              # zero-initialised output layer, with `residual`

    def __post_init__(self):
        if self.model not in MODELS:
            raise ValueError(f"unknown model {self.model!r}: one of {sorted(MODELS)}")
        object.__setattr__(self, "widths", tuple(int(w) for w in self.widths))
        if self.model != "ours":
            # DBN and SRN are their papers' fixed networks and take no priors: the DeblurNet's
            # fields they do not take are reset, so a header says what was trained.
            for f in dataclasses.fields(self):
                if f.name != "model" and f.name not in BASELINE_FIELDS[self.model]:
                    object.__setattr__(self, f.name, f.default)
            object.__setattr__(self, "use_render", False)
            object.__setattr__(self, "use_identity", False)

    @property
    def needs_priors(self):
        return self.use_render or self.use_identity   # False for DBN / SRN (__post_init__)

    def header(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_header(cls, header):
        """From a weights header: its `arch`, or the flat keys older files carry."""
        if "arch" in header:
            return cls(**header["arch"])
        names = {f.name for f in dataclasses.fields(cls)} - {"model"}
        return cls(model=header.get("architecture", "ours"), **{k: header[k] for k in names if k in header})


def build(arch, precision="float32"):
    """An unbuilt Keras model for `arch` (variables appear on the first call).

    `precision` (strategies.PRECISIONS) is the compute type of the DeblurNet's layers; the
    model itself stays float32, so its inputs, residual sum and output keep full precision.
    """
    if arch.model == "ours":
        with strategies.compute_precision(precision):
            return DeblurNet(**{k: v for k, v in dataclasses.asdict(arch).items() if k != "model"}, dtype="float32")
    if precision != "float32":
        raise ValueError(f"precision {precision!r} is implemented for the DeblurNet ('ours') only, not {arch.model}")
    return MODELS[arch.model](**{name: getattr(arch, name) for name in BASELINE_FIELDS[arch.model]})
