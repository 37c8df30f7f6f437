"""The training loop every trainer shares: resume, step, guard, summaries, checkpoints.

A run folder holds `ckpt/` (the last few checkpoints, optimizer state included) and
`tb/` (TensorBoard). Restarting with the same folder continues from the newest
checkpoint, so a killed run loses at most one checkpoint interval.
"""
import contextlib
import dataclasses
import errno
import math
import shutil
import tempfile
import time
from pathlib import Path

import tensorflow as tf
from tqdm import tqdm

from deblur3d import devices
from deblur3d.train import report
from deblur3d.train import run_config
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
    force: bool = False   # resume although the run's recorded settings differ (run_config.py)
    allow_schedule_change: bool = False   # resume although its learning-rate schedule differs


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
    """Restores one checkpoint; False (nothing claimed) when its files cannot be read whole;
    OtherSettings when they are whole but shaped for another configuration (not damage)."""
    try:
        manager.checkpoint.restore(path).assert_existing_objects_matched()
        return True
    except ValueError as err:
        if "incompatible tensor" in str(err):
            raise run_config.OtherSettings(
                f"{path} was made with other settings: its weights do not fit this configuration's "
                f"({str(err).splitlines()[0][:160]}); resume with the run's own settings or start a new "
                "--run_dir") from None
        return False
    except (tf.errors.OpError, IndexError, AssertionError):
        return False


def forget_newer(manager, path, make_manager):
    """After resuming from `path`, the newer checkpoints (damaged, or with unusable weights)
    are deleted and forgotten, so that rotation, which keeps the newest few, never deletes
    `path` to keep them. Returns the manager to go on with."""
    names = manager.checkpoints
    newer = names[names.index(path) + 1:]
    if not newer:
        return manager
    for bad in newer:
        for file in Path(bad).parent.glob(Path(bad).name + ".*"):
            file.unlink(missing_ok=True)
    tf.compat.v1.train.update_checkpoint_state(manager.directory, path,
                                               all_model_checkpoint_paths=names[:names.index(path) + 1])
    return make_manager()


def remove_partial_saves(directory):
    """TensorFlow writes a checkpoint in <name>_temp/ first; one cut off is never used."""
    for partial in Path(directory).glob("*_temp*"):
        shutil.rmtree(partial, ignore_errors=True) if partial.is_dir() else partial.unlink(missing_ok=True)


def nbytes(variables, itemsize=None):
    """Bytes of `variables` stored at their own dtype's size (or `itemsize`)."""
    return sum(math.prod(v.shape) * (itemsize or tf.as_dtype(v.dtype).size) for v in variables)


def _mb(n_bytes):
    return f"{n_bytes / 2**20:.0f}" if n_bytes >= 10 * 2**20 else f"{n_bytes / 2**20:.2g}"


@contextlib.contextmanager
def space_for(run_dir, what, needed, where=None, then="", cleanup=lambda: None):
    """A write of about `needed` bytes (into `where`, default the run folder) that fails on a
    full disk ends in one line naming the run folder, the space free and the space needed."""
    try:
        yield
    except (tf.errors.ResourceExhaustedError, OSError) as err:
        if isinstance(err, OSError) and err.errno != errno.ENOSPC:
            raise
        cleanup()
        where = next(p for p in (Path(where or run_dir).absolute(), *Path(where or run_dir).absolute().parents)
                     if p.exists())
        raise OSError(f"{run_dir}: no space left on the device to {what} ({_mb(shutil.disk_usage(where).free)} MB "
                      f"free, it needs about {_mb(needed)} MB){then}") from None


def save(manager, step, variables, last_good):
    """The checkpoint of `step`; a full disk is one line (space_for), with nothing half-written
    left behind."""
    with space_for(Path(manager.directory).parent, f"save the checkpoint of step {step}", nbytes(variables),
                   then=f"; the last good checkpoint is {last_good}",
                   cleanup=lambda: remove_partial_saves(manager.directory)):
        return manager.save(checkpoint_number=step)


def export_space(run_dir, path, variables):
    """space_for an exported weights file (float16, with its config beside it)."""
    return space_for(run_dir, f"export the weights to {path}", nbytes(variables, itemsize=2), where=Path(path).parent,
                     then="; its checkpoints are kept: free some space and run the same command again to export")


def checkpoint_manager(run_dir, optimizer, models, keep=3):
    checkpoint = tf.train.Checkpoint(optimizer=optimizer, **models)
    return tf.train.CheckpointManager(checkpoint, str(Path(run_dir) / "ckpt"), max_to_keep=keep)


def train(task, optimizer, dataset, models, config, strategy=None, log=print, precision="float32",
          cpu_hint="a smaller --steps (checkpoints/README.md)", settings=None):
    """Runs `task` until `config.total_steps`; returns the last losses (floats).

    `models`: name -> trackable saved in the checkpoint. The task may define
    `images(batch) -> (B, H, W', 3)` for TensorBoard's image grid. The first line logged
    names the devices, `precision` and the strategy; after the first timed steps a line
    projects the run's time (report.py; `cpu_hint`: the flag of a CPU budget). `settings`:
    the trainer's configuration (a dataclass), which the run folder records and a resume
    must match.
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
    make_manager = lambda: checkpoint_manager(run_dir, optimizer, models, config.keep_checkpoints)  # noqa: E731
    manager = make_manager()
    remove_partial_saves(manager.directory)   # what a full disk or a kill cut off before
    last_good = "none yet"
    if settings is not None and is_chief(strategy):
        run_config.check_and_record(run_dir, settings, manager.latest_checkpoint is not None, config.force,
                                    config.allow_schedule_change)
    if manager.latest_checkpoint:
        last_good = restore_healthy(manager, task, first, log)
        manager = forget_newer(manager, last_good, make_manager)
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
                last_good = save(manager, step, optimizer.variables + [v for m in models.values()
                                                                       for v in m.variables], last_good)
    return losses
