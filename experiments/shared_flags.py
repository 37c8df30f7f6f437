"""Flags that several scripts of experiments/ take, each defined here once, and the range of
every numeric flag of experiments/, checked in one place (cli.run registers RANGES).

A script (or a *_flags module) takes shared flags with `shared_flags.define("face_model",
...)`: each is defined once per process and listed in the asking module's --help. A script
passes its own default as `define(split="train")`. Some names mean something of each script's
own (its output, its timed steps): one kind and one range here, and each script gives its
default and help with `define(out=Own("face.png", "Output PNG."))`. Flags of one script stay in it.
"""
import dataclasses
import math

from absl import flags

flags.disclaim_key_flags()   # a flag defined below belongs to the module that asked for it (its --help)


@dataclasses.dataclass(frozen=True)
class Own:
    """A script's own default and help for a shared name (the kind and the range stay shared)."""
    default: object
    text: str | None = None   # None: the shared help


# name -> (kind of DEFINE_, help); the defaults are _defaults()', an enum's choices _choices()'.
_FLAGS = {
    "data_dir": ("string", "Data root (default: $DEBLUR3D_DATA, else ../shared/data; docs/data.md says where each "
                 "input comes from)."),
    "cache_dir": ("string", "Data cache built by `make data` (default cache/data)."),
    "every": ("integer", "Use one frame in this many of each run (make eval's 10: 106 of the 1,056 val frames; "
              "1: all)."),
    "split": ("string", "Split of the data cache (and the faces corpus) to read: train or val."),
    "faces_dir": ("string", "Faces corpus: a folder of face images, subfolders included, one face each, with a "
                  "manifest.csv of their splits (default: <data_dir>/faces)."),
    "face_model": ("enum", "3D morphable model (of the ReconNet, the render or the fit)."),
    "model_path": ("string", "Face model file (.npz for ict, front .mat for bfm; default: under the data root)."),
    "recon_weights": ("string", "ReconNet weights for the 3D priors (models that use them; 'default': the one the "
                      "deblurring model's priors were made with, as its weights header says, and "
                      "checkpoints/recon_people.weights.npz for export; '': an untrained ReconNet, for timing)."),
    "refine_landmarks": ("integer", "Adam steps refining ReconNet's pose, shape and expression to dlib's 68 points on "
                         "the blurry frame (not in the paper; deblur3d/priors/refine.py); 0: ReconNet alone, as the "
                         "paper; unset: as the deblurring model's priors were made (its weights header), 0 for "
                         "export."),
    "priors_dir": ("string", "3D priors exported by experiments/export_priors.py (the ones a model trains or is scored "
                   "on; for the ReconNet trainers the fitted priors the distill term teaches)."),
    "authors_dir": ("string", "A folder in the authors' layout (blurry/ sharp/ face/ bbox.txt); default <data root>/"
                    "300vw-sample/vd001 when it exists; empty: none."),
    "run_dir": ("string", "Run folder: checkpoints (resumable), TensorBoard (tb/), the run's settings "
                "(run_config.json) and the exported weights."),
    "export": ("string", "Where the final compact weights are written (default: in --run_dir)."),
    "init_weights": ("string", "Start from these weights (same network and options: a fine-tune) instead of from "
                     "scratch."),
    "precision": ("enum", "DeblurNet compute type (weights and output stay float32): mixed_bfloat16 for CPUs with "
                  "AVX512-BF16 (faster; its cost: docs/results.md#the-cpu-recipe-on-the-realistic-blur-deblur_full), "
                  "mixed_float16 for GPUs (training with loss scaling)."),
    "photo_shift": ("integer", "A photo has no neighbours: its 5-frame stack is the photo moved sideways by this many "
                    "px per neighbour (not in the paper; docs/video.md#photos); 0: five identical copies, which the "
                    "model hands back almost untouched."),
    "flip_ensemble": ("bool", "Average the output with that of the mirrored frames, mirrored back (EDSR's "
                      "self-ensemble, not in the paper; twice the time); evaluate.py scores it as an extra row "
                      "<name>+flip."),
    "detect_side": ("integer", "Frames are reduced to this for face detection; dlib finds faces of ~80 px there, i.e. "
                    "of 80 x frame side / detect_side px in the frame: raise it for small faces."),
    "max_frames": ("integer", "Use only the first N frames of each input (0: every frame)."),
    # Names each script gives its own meaning (define(name=Own(default, help))):
    "out": ("string", "Where the output is written."),
    "weights": ("string", "Weights file (.npz)."),
    "seed": ("integer", "Random seed."),
    "table": ("string", "Markdown table of the scores."),
    "sheet": ("string", "Picture of the results ('' for none)."),
    "steps": ("integer", "Steps."),
    "repeats": ("integer", "Timed calls after the warm-up."),
    "photos": ("bool", "Take each input frame as a photo."),
    "patch_size": ("integer", "Square patch side (px)."),
    "kernel": ("integer", "Convolution kernel side."),
    "crop_size": ("integer", "Face crop side (px)."),
    "budgets": ("list", "batch x patch pairs to time."),
    "batches": ("integer", "Batches."),
    "batch_size": ("integer", "Batch size."),
}


def _defaults():
    """Each shared flag's default, from the code that owns the setting."""
    from deblur3d import paths
    from deblur3d.data.blur import PHOTO_SHIFT
    from deblur3d.priors.settings import PriorsSettings
    from deblur3d.video.tracks import TrackConfig
    priors = PriorsSettings()
    return dict(data_dir=None, cache_dir=None, every=10, split="val", faces_dir=None, face_model=priors.face_model,
                model_path=priors.model_path, recon_weights=priors.recon_weights,
                refine_landmarks=priors.refine_landmarks, priors_dir=str(paths.PRIORS), authors_dir=None,
                run_dir=None, export=None, init_weights=None, precision="float32", photo_shift=PHOTO_SHIFT,
                flip_ensemble=False, detect_side=TrackConfig.detect_side, max_frames=None)


def _choices(name):
    from deblur3d.train.strategies import PRECISIONS
    return {"face_model": ["ict", "bfm"], "precision": list(PRECISIONS)}[name]


def define(*names, **defaults):
    """Defines the named shared flags (once per process) as key flags of the calling module;
    `defaults` (name=value, or name=Own(value, help)) replace the shared default (and help)
    for this script."""
    for name in (*names, *defaults):
        if name in flags.FLAGS:
            flags.declare_key_flag(name)
            continue
        kind, text = _FLAGS[name]
        default = defaults[name] if name in defaults else _defaults().get(name, Own)
        if default is Own:
            raise TypeError(f"--{name} means something of each script's own: define({name}=Own(default, help))")
        if isinstance(default, Own):
            default, text = default.default, default.text or text
        if kind == "enum":
            flags.DEFINE_enum(name, default, _choices(name), text)
        else:
            getattr(flags, f"DEFINE_{kind}")(name, default, text)


INF = math.inf
# Every numeric flag of experiments/ (tests/test_faults.py checks none is missing):
# name -> (low, high, whether low itself is refused). None (an unset flag) is always allowed.
RANGES = {
    "adam_epsilon": (0, INF, True), "albedo_weight": (0, INF, False), "batch": (1, INF, False),
    "batch_size": (1, INF, False), "batches": (1, INF, False), "blocks": (1, INF, False),
    "blur_reuse": (1, INF, False), "blur_window": (1, INF, False), "blurry_views": (0, INF, False), "clip_every": (0, INF, False),
    "dense_weight": (0, INF, False), "input_size": (32, INF, False), "max_stills": (1, INF, False), "checkpoint_every": (1, INF, False), "crop_scale": (0, INF, True),
    "crop_size": (16, 4096, False), "decay_every": (1, INF, False), "detect_max_side": (32, INF, False),
    "detect_side": (32, INF, False), "distill_weight": (0, INF, False), "eval_minutes": (0, INF, True),
    "every": (1, INF, False), "face_weight": (0, INF, False), "feather": (0, 0.5, False), "figures": (0, INF, False),
    "fit_steps": (0, INF, False), "fps": (0, 1000, True), "frames": (1, INF, False),
    "frames_per_identity": (1, INF, False), "frames_per_run": (1, INF, False), "gate": (0, 1, False),
    "kernel": (1, 31, False), "landmark_weight": (0, INF, False), "learning_rate": (0, INF, True),
    "max_frames": (0, INF, False), "max_frames_per_clip": (1, INF, False), "max_gap": (0, INF, False),
    "max_side": (16, INF, False), "max_upscale": (0, INF, True), "min_face": (1, INF, False),
    "min_run_frames": (1, INF, False), "minutes": (0, INF, True), "patch_size": (16, 4096, False),
    "photo_fraction": (0, 1, False), "photo_shift": (0, 16, False), "photometric_weight": (0, INF, False),
    "pitch": (-math.pi, math.pi, False), "pixels": (1, INF, False), "pixels_per_class": (100, INF, False),
    "psnr_floor": (0, INF, False), "refine_landmarks": (0, INF, False), "regularizer_weight": (0, INF, False),
    "repeats": (1, INF, False), "rounds": (1, INF, False), "res_scale": (0, INF, True), "seed": (0, 2**32 - 1, False),
    "sharp_fraction": (0, 1, False), "sheet_frames": (1, INF, False), "skin_prior": (0, 1, True),
    "smooth_radius": (0, INF, False), "stabilise": (0, 1, False), "stabilise_sigma": (0, INF, True),
    "steps": (1, INF, False), "stride": (1, INF, False), "texture_every": (1, INF, False),
    "timing_repeats": (1, INF, False), "tone_std": (0, INF, False), "warmup": (0, INF, False), "warmup_steps": (0, INF, False),
}


def range_text(name):
    low, high, open_low = RANGES[name]
    shown = lambda v: "inf" if v == INF else f"{v:.4g}"   # noqa: E731
    return f"{'(' if open_low else '['}{shown(low)}, {shown(high)}]".replace("inf]", "inf)")


def in_range(name, value):
    low, high, open_low = RANGES[name]
    return value is None or (low < value if open_low else low <= value) and value <= high


def register_ranges():
    """A validator for every numeric flag defined in this process (cli.run calls this once all
    are defined): an out-of-range value ends in one error line, before any work."""
    for name in RANGES:
        if name in flags.FLAGS:
            flags.register_validator(name, lambda v, n=name: in_range(n, v),
                                     f"--{name} must lie in {range_text(name)}")
