"""Trains the deblurring branch (paper Sec. 3.2) or a baseline: `make train`.

Defaults are the paper's (Adam 1e-4, ×0.3 every 50K, 400K iterations, batch 16, 256²
patches of 5 stacked frames). The configurations of paper Table 2: --use_render and
--use_identity (both off = the baseline without priors). Resumable: rerun with the same
--run_dir; a kill loses at most --checkpoint_every iterations.

    python experiments/train_deblur.py --run_dir=runs/deblur_full
    python experiments/train_deblur.py --run_dir=runs/deblur_baseline --nouse_render --nouse_identity
    python experiments/train_deblur.py --model=dbn --run_dir=runs/dbn
    python experiments/train_deblur.py --init_weights=checkpoints/deblur_full.weights.npz --run_dir=runs/ft ...
    python experiments/train_deblur.py --strategy=mirrored --mixed_precision   # several GPUs
"""
import dataclasses

from absl import app, flags

import train_flags

flags.adopt_module_key_flags(train_flags)

flags.DEFINE_string("run_dir", "runs/deblur", "Run folder: checkpoints (resumable), TensorBoard (tb/), exported weights.")
flags.DEFINE_string("cache_dir", None, "Data cache built by `make data` (default cache/data).")
flags.DEFINE_enum("priors", "precomputed", ["precomputed", "online", "none"],
                  "3D priors: precomputed by export_priors.py (the authors' way) or computed in the step.")
flags.DEFINE_string("priors_dir", "cache/priors", "Exported priors (experiments/export_priors.py).")
flags.DEFINE_string("recon_weights", "checkpoints/recon_ict.weights.npz", "ReconNet weights for online priors.")
flags.DEFINE_enum("face_model", "ict", ["ict", "bfm"], "3D morphable model (online priors).")
flags.DEFINE_string("model_path", None, "Face model file (default: under the data root).")
flags.DEFINE_string("data_dir", None, "Data root (default: $DEBLUR3D_DATA, else ../shared/data).")
flags.DEFINE_enum("model", "ours", ["ours", "dbn", "srn"], "ours = DeblurNet; dbn = Su et al.; srn = Tao et al.")
flags.DEFINE_bool("use_render", True, "Concatenate the rendered face after the first conv (paper Table 2).")
flags.DEFINE_bool("use_identity", True, "Concatenate the identity vector as a 9×9 map at the bottleneck.")
flags.DEFINE_bool("double_input", False, "The release's 30-channel input (the 15-channel stack twice).")
flags.DEFINE_bool("release_resblock", False, "The release's ResBlock (no ReLU after the second conv).")
flags.DEFINE_bool("residual", False, "Output = blurry centre frame + network (not in the paper; for short CPU budgets).")
flags.DEFINE_enum("content", "norm", ["norm", "mse", "psnr"],
                  "L_c: Eq. 4's per-frame Euclidean norm, the release's MSE, or minus the mean per-sample PSNR "
                  "(not in the paper: the evaluation's metric).")
flags.DEFINE_float("psnr_floor", 1.0, "With --content=psnr: grey levels added to each sample's error (caps its "
                   "term at 48 dB for 1); more weighs blurry samples more against exact ones.")
flags.DEFINE_bool("joint", False, "Train L_r and L_c together (needs --priors=online).")
flags.DEFINE_integer("patch_size", 256, "Square training patch (paper: 256).")
flags.DEFINE_integer("blur_window", None, "Sharp frames averaged per blurry frame: 5 (paper, the cache's default), 7, 9.")
flags.DEFINE_float("sharp_fraction", 0.0, "Share of training samples left unblurred, so the model learns to leave "
                   "sharp frames alone (not in the paper).")
flags.DEFINE_enum("strategy", "default", ["default", "mirrored", "multiworker"],
                  "tf.distribute: mirrored = all local GPUs; multiworker = machines in $TF_CONFIG.")
flags.DEFINE_bool("mixed_precision", False, "float16 compute (GPUs).")
flags.DEFINE_string("init_weights", None, "Start from these weights (same model and options: a fine-tune) "
                    "instead of from scratch.")
flags.DEFINE_string("export", None, "Final compact weights (default: <run_dir>/deblur.weights.npz).")
FLAGS = flags.FLAGS


def main(_):
    from deblur3d.deblur.training import DeblurTrainConfig, train
    # Every flag named like a config field sets it; the rest keep the config's defaults.
    names = [f.name for f in dataclasses.fields(DeblurTrainConfig) if f.name in FLAGS]
    train(DeblurTrainConfig(train=train_flags.schedule(), **{name: FLAGS[name].value for name in names}))


if __name__ == "__main__":
    app.run(main)
