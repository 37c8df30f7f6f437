"""The training loop every trainer shares: resume, step, guard, summaries, checkpoints.

A run folder holds `ckpt/` (the last few checkpoints, optimizer state included) and
`tb/` (TensorBoard). Restarting with the same folder continues from the newest
checkpoint, so a killed run loses at most one checkpoint interval.
"""
import dataclasses
import math
import tempfile
import time
from pathlib import Path

import tensorflow as tf
from tqdm import tqdm

from deblur3d import devices
from deblur3d.train import report
from deblur3d.train.step import make_train_step
from deblur3d.train.strategies import is_chief


class NonFiniteLoss(RuntimeError):
    pass


@dataclasses.dataclass(frozen=True)
class LoopConfig:
    """Built by TrainSchedule.loop_config, where the defaults live (one place)."""
    run_dir: str
    total_steps: int
    checkpoint_every: int
    summary_every: int
    image_every: int
    keep_checkpoints: int
    jit_compile: bool


def build(task, optimizer, batch):
    """Create every variable (models, then optimizer slots) so a checkpoint can fill them."""
    task.losses(batch, training=False)
    optimizer.build(task.trainable_variables)


def finite_weights(task):
    return all(bool(tf.reduce_all(tf.math.is_finite(v))) for v in task.trainable_variables)


def healthy(task, batch):
    """True when every weight is finite and so is the loss they give on `batch`: what a
    checkpoint must be (a loss is computed before its update, so a finite loss does not
    prove the weights after it are usable)."""
    return finite_weights(task) and math.isfinite(float(task.losses(batch, training=False)["total"]))


def restore_healthy(manager, task, batch, log=print):
    """Restores the newest checkpoint whose weights are healthy, skipping (and saying so)
    any newer one that is not. If the loss on `batch` is non-finite with every one, the
    batch is at fault, not the weights: the newest with finite weights is restored (and
    the first step stops on the loss). NonFiniteLoss when no checkpoint is usable."""
    skipped, unreadable = [], []
    for path in reversed(manager.checkpoints):
        if not restored(manager, path):   # cut short or damaged (a disk fault, a full disk)
            log(f"skipped checkpoint {path}: it cannot be read (damaged or cut short)")
            unreadable.append(path)
            continue
        if healthy(task, batch):
            for bad in skipped:
                log(f"skipped checkpoint {bad}: its weights give a non-finite loss")
            return path
        skipped.append(path)
    for path in reversed(manager.checkpoints):
        if path not in unreadable and restored(manager, path) and finite_weights(task):
            return path
    raise NonFiniteLoss(f"no checkpoint in {manager.directory} has usable weights: start a new --run_dir")


def restored(manager, path):
    """Restores one checkpoint; False (nothing claimed) when its files cannot be read whole."""
    try:
        manager.checkpoint.restore(path).assert_existing_objects_matched()
        return True
    except (tf.errors.OpError, ValueError, IndexError, AssertionError):
        return False


def checkpoint_manager(run_dir, optimizer, models, keep=3):
    checkpoint = tf.train.Checkpoint(optimizer=optimizer, **models)
    return tf.train.CheckpointManager(checkpoint, str(Path(run_dir) / "ckpt"), max_to_keep=keep)


def train(task, optimizer, dataset, models, config, strategy=None, log=print, precision="float32",
          cpu_hint="a smaller --steps (checkpoints/README.md)"):
    """Runs `task` until `config.total_steps`; returns the last losses (floats).

    `models`: name -> trackable saved in the checkpoint. The task may define
    `images(batch) -> (B, H, W', 3)` for TensorBoard's image grid. The first line logged
    names the devices, `precision` and the strategy; after the first timed steps a line
    projects the run's time (report.py; `cpu_hint`: the flag of a CPU budget).
    """
    strategy = strategy or tf.distribute.get_strategy()
    log(report.first_line(strategy, precision))
    first = next(iter(dataset))  # also the fixed samples of the TensorBoard image grid
    with strategy.scope():
        build(task, optimizer, first)
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    batches = iter(strategy.experimental_distribute_dataset(dataset.with_options(options)))
    # Every worker takes part in saving (it is collective); only the chief's copy is kept.
    run_dir = config.run_dir if is_chief(strategy) else tempfile.mkdtemp(prefix="deblur3d-worker-")
    manager = checkpoint_manager(run_dir, optimizer, models, config.keep_checkpoints)
    last_good = "none yet"
    if manager.latest_checkpoint:
        last_good = restore_healthy(manager, task, first, log)
        log(f"resumed from {last_good} at step {int(optimizer.iterations.numpy())}")
    train_step = make_train_step(task, optimizer, strategy, jit_compile=config.jit_compile)
    writer = tf.summary.create_file_writer(str(Path(run_dir) / "tb"))
    step = int(optimizer.iterations.numpy())
    losses, first_step, timer = {}, step, None
    with writer.as_default(), tqdm(total=config.total_steps, initial=step, unit="it", dynamic_ncols=True) as bar:
        while step < config.total_steps:
            losses = {k: float(v) for k, v in train_step(next(batches)).items()}
            step = int(optimizer.iterations.numpy())
            if step == first_step + 1:   # the first step traces the graph: timing starts after it
                timer = time.perf_counter()
            elif timer is not None and report.timed_enough(step - first_step - 1, time.perf_counter() - timer):
                log(report.projection((time.perf_counter() - timer) / (step - first_step - 1),
                                      config.total_steps - step, config.total_steps, bool(devices.gpus()), cpu_hint))
                timer = None   # once
            if not all(math.isfinite(v) for v in losses.values()):
                raise NonFiniteLoss(f"non-finite loss at step {step}; stopped without saving, "
                                    f"the last good checkpoint is {last_good}")
            bar.update(1)
            bar.set_postfix(loss=f"{losses['total']:.4g}")
            if step % config.summary_every == 0:
                for name, value in losses.items():
                    tf.summary.scalar(f"loss/{name}", value, step=step)
                tf.summary.scalar("learning_rate", float(optimizer.learning_rate), step=step)
            if hasattr(task, "images") and step % config.image_every == 0:
                tf.summary.image("blurry | render | output | sharp", task.images(first), step=step, max_outputs=4)
            if step % config.checkpoint_every == 0 or step == config.total_steps:
                if not healthy(task, first):
                    raise NonFiniteLoss(f"the weights blew up at step {step} (non-finite weights or loss after "
                                        f"the update); stopped without saving, the last good checkpoint is "
                                        f"{last_good}")
                last_good = manager.save(checkpoint_number=step)
    return losses
