"""Flags shared by pretrain_recon.py and finetune_recon.py -> ReconTrainConfig."""
from absl import flags

import data_flags
import train_flags
from deblur3d import paths
from deblur3d.recon.task import ReconWeights
from deblur3d.recon.training import ReconTrainConfig

flags.adopt_module_key_flags(data_flags)

flags.DEFINE_string("run_dir", None, "Run folder: checkpoints (resumable), TensorBoard (tb/), exported weights.")
flags.DEFINE_enum("face_model", "ict", ["ict", "bfm"], "3D morphable model.")
flags.DEFINE_string("model_path", None, "Face model file (default: under the data root).")
flags.DEFINE_string("skin_model", str(paths.SKIN_MODEL), "Skin colour model for the attention A ('' for none).")
flags.DEFINE_list("terms", None, "Loss terms (photometric, landmark, regularizer, albedo, distill); default: the "
                  "stage's. distill (not in the paper) teaches the fitted geometry of --priors_dir.")
flags.DEFINE_string("priors_dir", None, "Fitted priors (export_priors.py --refine_landmarks=200 --texture=basis) "
                    "whose identity, expression and pose the distill term teaches.")
_DEFAULT = ReconWeights()
flags.DEFINE_float("photometric_weight", _DEFAULT.photometric, "Weight of the photometric term (Deng et al.: 1.92).")
flags.DEFINE_float("landmark_weight", _DEFAULT.landmark, "Weight of the 68-landmark term (Deng et al.: 1.6e-3).")
flags.DEFINE_float("regularizer_weight", _DEFAULT.regularizer, "Weight of the coefficient regulariser (3e-4).")
flags.DEFINE_float("albedo_weight", _DEFAULT.albedo, "Weight of the albedo-flatness term (5).")
flags.DEFINE_float("distill_weight", _DEFAULT.distill, "Weight of the distill term (not in the paper).")
flags.DEFINE_string("export", None, "Where to write the final compact weights (default: <run_dir>/recon.weights.npz).")
FLAGS = flags.FLAGS
flags.adopt_module_key_flags(train_flags)


def config(stage, default_run_dir, init_weights=None):
    return ReconTrainConfig(
        stage=stage, run_dir=FLAGS.run_dir or default_run_dir, cache_dir=FLAGS.cache_dir,
        data_dir=FLAGS.data_dir, face_model=FLAGS.face_model, model_path=FLAGS.model_path,
        skin_model=FLAGS.skin_model or None, init_weights=init_weights,
        terms=tuple(FLAGS.terms) if FLAGS.terms else None,
        weights=ReconWeights(FLAGS.photometric_weight, FLAGS.landmark_weight, FLAGS.regularizer_weight,
                             FLAGS.albedo_weight, FLAGS.distill_weight),
        blur=data_flags.blur_config(), train=train_flags.schedule(), export=FLAGS.export, priors_dir=FLAGS.priors_dir)
