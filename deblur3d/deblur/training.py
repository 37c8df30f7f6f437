"""Training the deblurring branch (and, jointly, the reconstruction branch) on the shared loop."""
import dataclasses
from pathlib import Path

import keras
import tensorflow as tf

from deblur3d import paths
from deblur3d.data import blur_settings, priors_store
from deblur3d.data.pipeline import PipelineConfig, training_dataset
from deblur3d.deblur import archs
from deblur3d.deblur.baselines import MultiScaleTask
from deblur3d.deblur.header import ModelHeader
from deblur3d.deblur.losses import PSNR_FLOOR_GREY, AlignedRenderingLoss
from deblur3d.deblur.task import DeblurTask, precomputed_priors
from deblur3d.priors.settings import PAPER_RECIPE, SOURCES, PriorsSettings, recipe_of
from deblur3d.train import loop, run_config, strategies, weights
from deblur3d.train.config import TrainSchedule

# The CPU recipe (train_deblur.py --recipe=cpu), as flag values: each departs from the paper
# and is measured in docs/results.md#the-cpu-recipe-on-the-realistic-blur-deblur_full.
# bfloat16 compute needs AVX512-BF16 (this machine's); elsewhere pass --precision=float32.
CPU_RECIPE = dict(residual=True, zero_out=True, res_scale=0.2, kernel=3, blocks=2, content="charbonnier",
                  schedule="cosine", learning_rate=5e-4, warmup_steps=200, batch_size=8, patch_size=128,
                  precision="mixed_bfloat16")


@dataclasses.dataclass(frozen=True)
class DeblurTrainConfig:
    run_dir: str = "runs/deblur"
    cache_dir: str | None = None
    priors: str = "precomputed"          # the authors precompute them; "online" runs ReconNet in the step
    priors_dir: str | None = str(paths.PRIORS)
    recon: PriorsSettings = PriorsSettings()   # the ReconNet of online priors / joint training
    data_dir: str | None = None
    arch: archs.Arch = archs.Arch()      # the network (model, priors used, sizes)
    content: str = "norm"                # Eq. 4 as written; "mse" as the release; "psnr" the metric;
                                         # "charbonnier" / "l1" (not in the paper)
    psnr_floor: float = PSNR_FLOOR_GREY  # grey levels added to each sample's error by the "psnr" loss
    face_weight: float = 0.0             # L_c counts face pixels 1 + this many times (not in the paper: 0)
    joint: bool = False                  # train L_r and L_c together (online priors)
    patch_size: int = 256
    flip: bool = True                    # random horizontal flips (not in the paper nor the release)
    blur: blur_settings.BlurConfig = blur_settings.PRESETS[blur_settings.DEFAULT_PRESET]
    sharp_fraction: float = 0.0          # unblurred training samples (not in the paper; 0 = the paper)
    photo_fraction: float = 0.0          # samples stacked as a photo (data/blur.py: photo_stack; not in the paper)
    blur_reuse: int = 1                  # samples each motion-swept whole frame serves (data/pipeline.py); 1: a sweep each
    init_weights: str | None = None      # start from this weights file (a fine-tune), not from scratch
    grow_from: str | None = None         # start from a DeblurNet with fewer blocks per stage or narrower
                                         # stages: its layers copied, the added blocks near the identity,
                                         # the added channels cut off from the old ones (not in the paper)
    train: TrainSchedule = TrainSchedule()
    strategy: str = "default"
    precision: str = "float32"           # strategies.PRECISIONS: the DeblurNet's compute type (weights float32)
    export: str | None = None
    command: dict | None = None          # this run's flags (train_deblur.py): with them the export's
                                         # config is written beside it (train/run_config.py)

    @property
    def needs_priors(self):
        return self.arch.needs_priors


def _online(config, trainable):
    from deblur3d.priors.online import build_online_priors
    settings = config.recon.made_as(PAPER_RECIPE)   # in the step: the paper's ReconNet alone
    if (settings.refine_landmarks, settings.texture) != (0, "recon"):   # no dlib or fit inside the step
        raise ValueError("landmark refinement (--refine_landmarks) and fitted textures (--texture) need precomputed "
                         "priors: export them with experiments/export_priors.py and train with --priors=precomputed")
    return build_online_priors(settings, config.data_dir, trainable)


def priors_recipe(config):
    """How the priors this configuration trains on are made (weights header: refine_landmarks,
    priors_texture, priors_recon)."""
    if not config.needs_priors:
        return dict(PAPER_RECIPE)
    if config.priors == "precomputed":
        return recipe_of(config.priors_dir) or dict(PAPER_RECIPE)
    return config.recon.made_as(PAPER_RECIPE).recipe


def make_task(config):
    if config.priors not in SOURCES:
        raise ValueError(f"unknown priors {config.priors!r}: {', '.join(SOURCES)}")
    net = archs.build(config.arch, config.precision)
    if not config.needs_priors:
        priors = lambda batch: (None, None)  # noqa: E731  (baselines take no priors)
    elif config.priors == "online":
        priors = _online(config, trainable=config.joint)
    elif config.priors == "precomputed":
        priors = precomputed_priors
    else:
        raise ValueError(f"model {config.arch.model} with render/identity needs priors (precomputed or online)")
    if config.arch.model == "srn":
        if config.face_weight:
            raise ValueError("--face_weight weighs L_c; SRN trains with its own multi-scale loss")
        task = MultiScaleTask(net, priors, config.content, config.psnr_floor)
    else:
        task = DeblurTask(net, priors, config.content, config.psnr_floor, config.face_weight)
    if config.joint:
        if config.priors != "online":
            raise ValueError("joint training computes the priors in the step: use priors='online'")
        from deblur3d.train.step import JointTask
        task = JointTask(rendering=AlignedRenderingLoss(priors), deblurring=task)
    return net, task


def training_data(config):
    """The tf.data batches a configuration trains on."""
    run = config.train
    precomputed = config.needs_priors and config.priors == "precomputed"
    if precomputed and not (config.priors_dir and Path(config.priors_dir).is_dir()):
        raise FileNotFoundError(f"no precomputed priors at {config.priors_dir}: run experiments/export_priors.py "
                                "or use --priors=online")
    if precomputed and not priors_store.blur_matches(config.priors_dir, config.blur):   # as evaluation checks them
        made = (priors_store.read_index(config.priors_dir) or {}).get("blur")
        raise ValueError(f"the priors at {config.priors_dir} were read from frames blurred as "
                         f"{blur_settings.describe(made)}, not as this run's {blur_settings.describe(config.blur)}: "
                         "export them with this run's --blur / --protocol (experiments/export_priors.py) "
                         "or use --priors=online")
    return training_dataset(PipelineConfig(
        cache_dir=config.cache_dir, split="train", batch_size=run.batch_size, patch_size=config.patch_size,
        seed=run.seed, blur=config.blur, flip=config.flip, sharp_fraction=config.sharp_fraction, photo_fraction=config.photo_fraction,
        blur_reuse=config.blur_reuse, priors_dir=config.priors_dir if precomputed else None, face_mask=config.face_weight > 0))


def train(config, log=print):
    run = config.train
    tf.keras.utils.set_random_seed(run.seed)
    strategy = strategies.make_strategy(config.strategy)
    dataset = training_data(config)
    with strategy.scope():
        net, task = make_task(config)
        optimizer = run.optimizer()
        if config.precision == "mixed_float16":   # float16 gradients underflow without loss scaling
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
        if config.init_weights and config.grow_from:
            raise ValueError("give --init_weights (same network) or --grow_from (fewer blocks), not both")
        if config.init_weights or config.grow_from:   # a resumed run then overwrites these with its checkpoint
            from deblur3d.deblur.inference import build
            build(net)
        if config.init_weights:
            weights.load(net, config.init_weights)
            log(f"starting from {config.init_weights}")
        if config.grow_from:
            added = weights.load_grown(net, config.grow_from, grown_channels(net, config.grow_from))
            net.start_near_identity(added)
            log(f"grown from {config.grow_from}: added {', '.join(added) or 'nothing'}")
    models = {"net": net}
    if config.joint:
        models["recon"] = task.parts["rendering"].task.net
    losses = loop.train(task, optimizer, dataset, models, run.loop_config(config.run_dir), strategy=strategy, log=log,
                        precision=config.precision, cpu_hint="the CPU recipe, --recipe=cpu --steps=3500 (checkpoints/README.md)",
                        settings=config)
    export = config.export or str(Path(config.run_dir) / "deblur.weights.npz")
    if strategies.is_chief(strategy):
        # A fine-tune's file counts the steps of the file it started from too.
        start = config.init_weights or config.grow_from
        before = (ModelHeader.read(start).steps or 0) if start else 0
        with loop.export_space(config.run_dir, export, net.weights):
            export_weights(net, config, export, steps=before + run.steps, steps_this_run=run.steps,
                           started_from=start, final_losses=losses)
        log(f"exported {export}")
    return losses


def grown_channels(net, path):
    """Where the channels of the file's narrower stages, and of the priors it lacks, sit in
    `net` (DeblurNet.channel_maps)."""
    old = ModelHeader.read(path).arch
    if not hasattr(net, "channel_maps"):
        return None
    return net.channel_maps(old.widths, old.use_render, old.use_identity)


def export_weights(net, config, path, **extra):
    """The compact weights file: its ModelHeader (the network's `arch` whole, the blur it learnt,
    the priors' recipe), the training settings beside it; with `config.command`, the steps that
    made it (the start file's, then this run's) in the header and in its config beside it
    (train/run_config.py: with the run folder's settings)."""
    recipe, steps = priors_recipe(config), extra.pop("steps", None)
    if config.command is not None:
        extra["made_by"] = run_config.steps_of(extra.get("started_from")) + [
            dict(script="experiments/train_deblur.py", flags=config.command)]
    header = ModelHeader(config.arch, steps, dataclasses.asdict(config.blur), recipe["refine_landmarks"], recipe["texture"],
                         recipe["recon"],
                         dict(extra, sharp_fraction=config.sharp_fraction, photo_fraction=config.photo_fraction,
                              content=config.content, psnr_floor=config.psnr_floor, face_weight=config.face_weight,
                              batch_size=config.train.batch_size, patch_size=config.patch_size, priors=config.priors,
                              config=repr(config)))
    weights.save(net, path, **header.fields())
    if config.command is not None:
        run_config.export(path, extra["made_by"], config.run_dir)
