"""Optimisation settings shared by every trainer (paper Sec. 4.1 defaults)."""
import dataclasses

from deblur3d.train import loop, report, schedules


@dataclasses.dataclass(frozen=True)
class TrainSchedule:
    steps: int = report.PAPER_STEPS
    batch_size: int = 16
    learning_rate: float = 1e-4
    schedule: str = "paper"          # x0.3 every decay_every; "release": polynomial, power 0.3;
                                     # "cosine": warm-up then cosine (not in the paper)
    decay_every: int = 50_000
    warmup_steps: int = 0            # "cosine" only
    jit_compile: bool = False        # XLA-compile the training step
    checkpoint_every: int = 500
    summary_every: int = 25
    image_every: int = 250
    keep_checkpoints: int = 3
    seed: int = 0
    epsilon: float = schedules.EPSILON
    force: bool = False              # resume a run folder whose recorded settings differ
    allow_schedule_change: bool = False   # resume one whose learning-rate schedule alone differs

    def optimizer(self):
        return schedules.adam(schedules.learning_rate(self.schedule, self.learning_rate, self.decay_every,
                                                      total_steps=self.steps, warmup_steps=self.warmup_steps),
                              self.epsilon)

    def loop_config(self, run_dir):
        return loop.LoopConfig(run_dir=run_dir, total_steps=self.steps, checkpoint_every=self.checkpoint_every,
                               summary_every=self.summary_every, image_every=self.image_every,
                               keep_checkpoints=self.keep_checkpoints, jit_compile=self.jit_compile,
                               force=self.force, allow_schedule_change=self.allow_schedule_change)
