"""Flags shared by pretrain_recon.py and finetune_recon.py -> ReconTrainConfig."""
import dataclasses

from absl import flags

import data_flags
import shared_flags
import train_flags
from deblur3d import paths
from deblur3d.recon.model import PAPER_INPUT_SIZE
from deblur3d.recon.task import ReconWeights
from deblur3d.recon.training import STAGE_INPUT_SIZE, STAGE_WEIGHTS, ReconTrainConfig

WEIGHTED = [f.name for f in dataclasses.fields(ReconWeights)]

flags.adopt_module_key_flags(data_flags)

shared_flags.define("run_dir", "priors_dir", "export")
shared_flags.define("data_dir", "cache_dir", "face_model", "model_path")
flags.DEFINE_string("skin_model", str(paths.SKIN_MODEL), "Skin colour model for the attention A ('' for none).")
flags.DEFINE_list("terms", None, "Loss terms (photometric, landmark, regularizer, albedo, distill, dense); default: the "
                  "stage's. distill (not in the paper) teaches the fitted geometry of --priors_dir.")
flags.DEFINE_float("photometric_weight", None, "Weight of the photometric term (default: the stage's; Deng et al.: "
                  "1.92).")
flags.DEFINE_float("landmark_weight", None, "Weight of the 68-landmark term (default: the stage's; Deng et al.: 1.6e-3).")
flags.DEFINE_float("regularizer_weight", None, "Weight of the coefficient regulariser (default: the stage's; 3e-4).")
flags.DEFINE_float("albedo_weight", None, "Weight of the albedo-flatness term (default: the stage's; 5).")
flags.DEFINE_float("distill_weight", None, "Weight of the distill term (not in the paper; default: the stage's).")
flags.DEFINE_float("dense_weight", None, "Weight of the teacher's 468-point term (not in the paper; default: the "
                   "stage's).")
flags.DEFINE_string("labels", None, "Teacher stage: labels.npz of experiments/label_faces.py.")
flags.DEFINE_integer("input_size", None, "Side of the crop the ResNet sees (224: the paper's; the teacher stage's CPU "
                     "recipe: 128); default: the initial weights', else the stage's.")
FLAGS = flags.FLAGS
flags.adopt_module_key_flags(train_flags)


def config(stage, default_run_dir, init_weights=None):
    return ReconTrainConfig(
        stage=stage, run_dir=FLAGS.run_dir or default_run_dir, cache_dir=FLAGS.cache_dir,
        data_dir=FLAGS.data_dir, face_model=FLAGS.face_model, model_path=FLAGS.model_path,
        skin_model=FLAGS.skin_model or None, init_weights=init_weights,
        terms=tuple(FLAGS.terms) if FLAGS.terms else None,
        weights=dataclasses.replace(STAGE_WEIGHTS.get(stage, ReconWeights()), **{
            name: FLAGS[f"{name}_weight"].value for name in WEIGHTED if FLAGS[f"{name}_weight"].value is not None}),
        labels=FLAGS.labels, input_size=FLAGS.input_size or STAGE_INPUT_SIZE.get(stage, PAPER_INPUT_SIZE),
        blur=data_flags.blur_config(), train=train_flags.schedule(), export=FLAGS.export, priors_dir=FLAGS.priors_dir)
