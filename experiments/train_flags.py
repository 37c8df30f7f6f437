"""Optimisation flags shared by every training script -> TrainSchedule."""
from absl import flags

import shared_flags
from shared_flags import Own

from deblur3d.train.config import TrainSchedule
from deblur3d.train.schedules import SCHEDULES

T = TrainSchedule()   # every default below comes from it

shared_flags.define(steps=Own(T.steps, "Training iterations (paper: 400K; CPU runs: see checkpoints/README.md)."))
shared_flags.define(batch_size=Own(T.batch_size, "Global batch size (paper: 16)."))
flags.DEFINE_float("learning_rate", T.learning_rate, "Initial Adam learning rate (paper: 1e-4).")
flags.DEFINE_enum("schedule", T.schedule, list(SCHEDULES),
                  "paper: x0.3 every --decay_every; release: polynomial decay, power 0.3; cosine: linear "
                  "warm-up over --warmup_steps, then cosine to 0 (not in the paper).")
flags.DEFINE_integer("warmup_steps", T.warmup_steps, "Warm-up iterations of --schedule=cosine.")
flags.DEFINE_bool("jit_compile", T.jit_compile, "Compile the training step with XLA (2.5x slower on this project's CPU: "
                  "docs/results.md#longer-still-deblur_full-16500-steps).")
flags.DEFINE_integer("decay_every", T.decay_every, "Iterations between learning-rate drops (paper: 50K).")
flags.DEFINE_integer("checkpoint_every", T.checkpoint_every,
                     "Iterations between checkpoints (a kill loses at most this many).")
flags.DEFINE_float("adam_epsilon", T.epsilon, "Adam's epsilon (default: TF1's, as the authors' release).")
shared_flags.define(seed=Own(T.seed, "Seed of data order and initialisation."))
flags.DEFINE_bool("force", T.force, "Resume a --run_dir although its recorded settings (run_config.json) differ from "
                  "these: model, loss or data changed mid-run (otherwise refused in one line naming them).")
flags.DEFINE_bool("allow_schedule_change", T.allow_schedule_change,
                  "Resume a --run_dir although its learning-rate schedule (--learning_rate, --schedule, "
                  "--warmup_steps, --decay_every) differs from the recorded one; any other change is still refused.")
FLAGS = flags.FLAGS


def schedule():
    return TrainSchedule(steps=FLAGS.steps, batch_size=FLAGS.batch_size, learning_rate=FLAGS.learning_rate,
                         schedule=FLAGS.schedule, decay_every=FLAGS.decay_every,
                         checkpoint_every=FLAGS.checkpoint_every, seed=FLAGS.seed,
                         epsilon=FLAGS.adam_epsilon, warmup_steps=FLAGS.warmup_steps,
                         jit_compile=FLAGS.jit_compile, force=FLAGS.force,
                         allow_schedule_change=FLAGS.allow_schedule_change)


def one_line_stop(fn):
    """Runs a trainer: a non-finite loss or blown-up weights end with one `error:` line
    naming the last good checkpoint, not a traceback."""
    import sys

    from deblur3d.train.loop import NonFiniteLoss
    try:
        return fn()
    except NonFiniteLoss as err:
        sys.exit(f"error: {err}")
