"""How a blurry input stack is made: the settings and their named presets (docs/blur.md).

The paper's protocol is the preset "paper"; "authors" is their data as measured; "realistic"
(the default) adds the motion of deblur3d/data/motion.py, which the paper does not have.
"""
import dataclasses


@dataclasses.dataclass(frozen=True)
class BlurConfig:
    """How a blurry input stack is made. Presets: `PRESETS` below."""
    window: int = 5                 # video frames averaged into one blurry frame (paper: 5)
    stride: int = 1                 # video frames between neighbouring blurry frames of the stack
    motion: bool = False            # add head motion / camera shake (not in the paper)
    duty: float = 1.0               # share of the frame interval the shutter is open
    head_speed: tuple = (0.5, 6.0)  # px per frame at the 320 crop: log-uniform range per sample
    still_fraction: float = 0.1     # samples whose added motion is zero (nearly sharp frames)
    rotation: float = 0.4           # degrees per frame of in-plane rotation per px/frame of speed / 4
    zoom: float = 0.004             # log-scale change per frame, same scaling
    shake_fraction: float = 0.3     # samples whose whole frame moves too (hand-held camera)
    shake_speed: tuple = (0.3, 3.0) # px per frame, log-uniform
    jitter: float = 0.3             # velocity noise per frame, relative to the speed
    jerk_rate: float = 0.05         # impulsive velocity changes per frame
    drift: float = 1.0              # share of the slow (over `stride` frames) head drift kept; less
                                    # makes the head sway back and forth about its place
    linear_light: bool = False      # average in linear light (a sensor) instead of stored values
    noise: float = 0.0              # Gaussian read noise sigma (0-1 scale); shot noise scales with it
    jpeg: tuple = ()                # (lo, hi) JPEG quality of the blurry frames; () none
    quantize: bool = False          # blurry frames rounded to 8 bits, as stored video frames are
    highlights: float = 1.0         # > 1: saturated pixels are this much brighter before the average
    photometric: bool = False       # training only: random brightness / contrast / colour / gamma


PRESETS = {
    # The paper's protocol as written: overlapping 5-frame windows one frame apart (docs/reproduction.md §6).
    "paper": BlurConfig(),
    # The authors' data as measured: windows 5 frames apart (docs/reproduction.md §6).
    "authors": BlurConfig(stride=5),
    # Ours: the authors' stacks plus head motion and camera shake, calibrated on vd001
    # with experiments/blur_stats.py (docs/blur.md).
    "realistic": BlurConfig(stride=5, motion=True, head_speed=(1.5, 3.5), still_fraction=0.05, drift=0.0,
                            photometric=True),
}
DEFAULT_PRESET = "realistic"


def resolve(blur=None, **overrides):
    """A preset name or a BlurConfig (None: the default preset), with fields replaced."""
    if isinstance(blur, str) and blur not in PRESETS:
        raise ValueError(f"unknown blur preset {blur!r}: {', '.join(PRESETS)}")
    config = blur if isinstance(blur, BlurConfig) else PRESETS[blur or DEFAULT_PRESET]
    return dataclasses.replace(config, **{k: v for k, v in overrides.items() if v is not None})


def describe(blur):
    """A BlurConfig (or its dict, as stored) in words: its preset's name, with the fields that
    differ from it; 'no recorded blur' for None."""
    if blur is None:
        return "no recorded blur"
    fields = blur if isinstance(blur, dict) else dataclasses.asdict(blur)
    fields = {k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()}

    def changed(name):
        return {k: v for k, v in fields.items() if dataclasses.asdict(PRESETS[name]).get(k) != v}
    best = min(PRESETS, key=lambda name: len(changed(name)))
    extra = ", ".join(f"{k}={v}" for k, v in changed(best).items())
    return f"--blur={best}" + (f" with {extra}" if extra else "")


def parse_overrides(items):
    """['duty=0.5', 'jpeg=60:95', 'motion=false'] -> dict of BlurConfig fields, typed."""
    fields = {f.name: f for f in dataclasses.fields(BlurConfig)}
    out = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or key not in fields:
            raise ValueError(f"bad blur setting {item!r}: use KEY=VALUE with KEY in {', '.join(fields)}")
        default = getattr(BlurConfig(), key)
        if isinstance(default, bool):
            out[key] = value.lower() in ("1", "true", "yes")
        elif isinstance(default, tuple):
            out[key] = tuple(float(v) for v in value.split(":") if v)
        else:
            out[key] = type(default)(value)
    return out
