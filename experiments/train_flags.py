"""Optimisation flags shared by every training script -> TrainSchedule."""
from absl import flags

from deblur3d.train.config import TrainSchedule

flags.DEFINE_integer("steps", 400_000, "Training iterations (paper: 400K; CPU runs: see checkpoints/README.md).")
flags.DEFINE_integer("batch_size", 16, "Global batch size (paper: 16).")
flags.DEFINE_float("learning_rate", 1e-4, "Initial Adam learning rate (paper: 1e-4).")
flags.DEFINE_enum("schedule", "paper", ["paper", "release", "cosine"],
                  "paper: x0.3 every --decay_every; release: polynomial decay, power 0.3; cosine: linear "
                  "warm-up over --warmup_steps, then cosine to 0 (not in the paper).")
flags.DEFINE_integer("warmup_steps", 0, "Warm-up iterations of --schedule=cosine.")
flags.DEFINE_bool("jit_compile", False, "Compile the training step with XLA.")
flags.DEFINE_integer("decay_every", 50_000, "Iterations between learning-rate drops (paper: 50K).")
flags.DEFINE_integer("checkpoint_every", 500, "Iterations between checkpoints (a kill loses at most this many).")
flags.DEFINE_float("adam_epsilon", TrainSchedule.epsilon, "Adam's epsilon (default: TF1's, as the authors' release).")
flags.DEFINE_integer("seed", 0, "Seed of data order and initialisation.")
FLAGS = flags.FLAGS


def schedule():
    return TrainSchedule(steps=FLAGS.steps, batch_size=FLAGS.batch_size, learning_rate=FLAGS.learning_rate,
                         schedule=FLAGS.schedule, decay_every=FLAGS.decay_every,
                         checkpoint_every=FLAGS.checkpoint_every, seed=FLAGS.seed,
                         epsilon=FLAGS.adam_epsilon, warmup_steps=FLAGS.warmup_steps,
                         jit_compile=FLAGS.jit_compile)


def one_line_stop(fn):
    """Runs a trainer: a non-finite loss or blown-up weights end with one `error:` line
    naming the last good checkpoint, not a traceback."""
    import sys

    from deblur3d.train.loop import NonFiniteLoss
    try:
        return fn()
    except NonFiniteLoss as err:
        sys.exit(f"error: {err}")
