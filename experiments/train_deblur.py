"""Trains the deblurring branch (paper Sec. 3.2) or a baseline: `make train`.

Defaults are the paper's (Adam 1e-4, ×0.3 every 50K, 400K iterations, batch 16, 256²
patches of 5 stacked frames). The configurations of paper Table 2: --use_render and
--use_identity (both off = the baseline without priors). Resumable: rerun with the same
--run_dir; a kill loses at most --checkpoint_every iterations.

    python experiments/train_deblur.py --run_dir=runs/deblur_full
    python experiments/train_deblur.py --run_dir=runs/deblur_baseline --nouse_render --nouse_identity
    python experiments/train_deblur.py --model=dbn --run_dir=runs/dbn
    python experiments/train_deblur.py --init_weights=checkpoints/deblur_full.weights.npz --run_dir=runs/ft ...
    python experiments/train_deblur.py --strategy=mirrored --precision=mixed_float16   # several GPUs
"""
import dataclasses

from absl import flags

import cli
import data_flags
import priors_flags
import shared_flags
from shared_flags import Own
import train_flags

from deblur3d.deblur.archs import Arch
from deblur3d.deblur.losses import CONTENT_LOSSES
from deblur3d.deblur.training import CPU_RECIPE, DeblurTrainConfig
from deblur3d.priors.settings import SOURCES
from deblur3d.train.strategies import PRECISIONS

flags.adopt_module_key_flags(train_flags)
flags.adopt_module_key_flags(data_flags)
flags.adopt_module_key_flags(priors_flags)   # ReconNet of online priors / joint training
A, D = Arch(), DeblurTrainConfig()   # every default below comes from these dataclasses

shared_flags.define(run_dir=D.run_dir, priors_dir=D.priors_dir, init_weights=D.init_weights, export=D.export)
flags.DEFINE_enum("priors", D.priors, list(SOURCES),
                  "3D priors: precomputed by export_priors.py (the authors' way) or computed in the step.")
# --- the network: one flag per field of deblur3d.deblur.archs.Arch ---
flags.DEFINE_enum("model", A.model, ["ours", "dbn", "srn"], "ours = DeblurNet; dbn = Su et al.; srn = Tao et al.")
flags.DEFINE_bool("use_render", A.use_render, "Concatenate the rendered face after the first conv (paper Table 2).")
flags.DEFINE_bool("use_identity", A.use_identity, "Concatenate the identity vector as a 9×9 map at the bottleneck.")
flags.DEFINE_bool("double_input", A.double_input, "The release's 30-channel input (the 15-channel stack twice).")
flags.DEFINE_bool("release_resblock", A.release_resblock, "The release's ResBlock (no ReLU after the second conv).")
flags.DEFINE_bool("residual", A.residual, "Output = blurry centre frame + network (not in the paper; for short "
                  "CPU budgets).")
flags.DEFINE_list("widths", list(map(str, A.widths)), "Stage widths (the release's 32,64,128).")
flags.DEFINE_integer("blocks", A.blocks, "ResBlocks per stage (the release's 3).")
shared_flags.define(kernel=Own(A.kernel, "Convolution kernel size (paper: 5)."))
flags.DEFINE_float("res_scale", A.res_scale, "Scale of each ResBlock's branch (paper: 1; EDSR-style 0.1-0.2 "
                   "trains faster without normalisation).")
flags.DEFINE_bool("zero_out", A.zero_out, "Zero-initialised output layer (with --residual the net starts "
                  "exactly at the input).")
# --- the loss ---
flags.DEFINE_enum("content", D.content, list(CONTENT_LOSSES),
                  "L_c: Eq. 4's per-frame Euclidean norm, the release's MSE, minus the mean per-sample PSNR "
                  "(the evaluation's metric), L1 or Charbonnier (the last three not in the paper).")
flags.DEFINE_float("psnr_floor", D.psnr_floor, "With --content=psnr: grey levels added to each sample's error "
                   "(caps its term at 48 dB for 1); more weighs blurry samples more against exact ones.")
flags.DEFINE_float("face_weight", D.face_weight, "L_c counts each pixel inside the face hull (the 68 points) "
                   "1 + this many times; 0 = every pixel alike, the paper (not in the paper otherwise).")
flags.DEFINE_bool("joint", D.joint, "Train L_r and L_c together (needs --priors=online).")
shared_flags.define(patch_size=Own(D.patch_size, "Square training patch (paper: 256)."))
flags.DEFINE_bool("flip", D.flip, "Mirror random training samples left-right (not in the paper nor the authors' "
                  "release; --protocol=paper turns it off).")
flags.DEFINE_float("sharp_fraction", D.sharp_fraction, "Share of training samples left unblurred, so the model "
                   "learns to leave sharp frames alone (not in the paper).")
flags.DEFINE_float("photo_fraction", D.photo_fraction, "Share of training samples stacked as a photo (the blurry "
                   "centre frame alone, as data/blur.py: photo_stack stacks it), so that the video tool's photos are in the training range (not in "
                   "the paper).")
flags.DEFINE_integer("blur_reuse", D.blur_reuse, "Training samples each motion-swept whole frame serves, each "
                     "with its own crop, flip, look and noise (1: a sweep per sample). "
                     "Meant for feeding a GPU: 16 delivers 3.4-4.3x the realistic blur's samples/s on 2 cores, but a "
                     "frame then meets 16 times fewer distinct motions (docs/data.md#speed-of-the-blur-synthesis).")
flags.DEFINE_enum("strategy", D.strategy, ["default", "mirrored", "multiworker"],
                  "tf.distribute: mirrored = all local GPUs; multiworker = machines in $TF_CONFIG.")
shared_flags.define("precision", "cache_dir")
flags.DEFINE_string("grow_from", D.grow_from, "Start from a DeblurNet of the same options but fewer --blocks "
                    "per stage, narrower --widths or without the render / identity: its layers are copied, each "
                    "added block starts near the identity and added channels (and priors) start cut off from "
                    "the old ones, so training starts at the file's output (not in the paper: more capacity "
                    "for a trained CPU model, or a baseline given the priors).")
# Flag values of a whole recipe; flags given on the command line win. "cpu" learns fast on
# 2 CPU cores and departs from the paper in each of these values
# (docs/results.md#the-cpu-recipe-on-the-realistic-blur-deblur_full measures what each
# buys with bench_learning.py).
RECIPES = {"paper": {}, "cpu": CPU_RECIPE}
flags.DEFINE_enum("recipe", "paper", list(RECIPES), "paper: the paper's sizes, loss and schedule (the defaults "
                  "of every flag); cpu: the preset that learns fast on 2 CPU cores "
                  "(docs/results.md#the-cpu-recipe-on-the-realistic-blur-deblur_full). "
                  "Flags given explicitly override the recipe.")
FLAGS = flags.FLAGS


def apply_recipe():
    for name, value in RECIPES[FLAGS.recipe].items():
        if not FLAGS[name].present:
            FLAGS[name].value = [str(v) for v in value] if isinstance(value, tuple) else value


def config_from_flags():
    apply_recipe()
    data_flags.apply_protocol()
    # Every flag named like a config field sets it; the rest keep the config's defaults.
    grouped = ("arch", "blur", "train", "recon")
    names = [f.name for f in dataclasses.fields(DeblurTrainConfig) if f.name in FLAGS and f.name not in grouped]
    arch = Arch(**{f.name: FLAGS[f.name].value for f in dataclasses.fields(Arch)})
    # The flags given, for the replay config written beside the exported weights.
    given = {f.name: f.value for module in FLAGS.flags_by_module_dict().values() for f in module if f.present}
    return DeblurTrainConfig(train=train_flags.schedule(), arch=arch, blur=data_flags.blur_config(),
                             recon=priors_flags.priors_settings(), command=given,
                             **{name: FLAGS[name].value for name in names})


def main(_):
    from deblur3d.deblur.training import train
    train_flags.one_line_stop(lambda: train(config_from_flags()))


if __name__ == "__main__":
    cli.run(main)
