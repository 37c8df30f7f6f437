"""Pretraining and fine-tuning the reconstruction branch on the shared training loop."""
import dataclasses
from pathlib import Path

import numpy as np
import tensorflow as tf

from deblur3d import paths
from deblur3d.data.pipeline import PipelineConfig, aligned_dataset
from deblur3d.face import load_face_model
from deblur3d.face.render import FaceRenderer
from deblur3d.recon.model import ReconNet
from deblur3d.recon import labels
from deblur3d.recon.model import PAPER_INPUT_SIZE
from deblur3d.recon.task import (FINETUNE_TERMS, PRETRAIN_TERMS, TEACHER_DISTILLED, TEACHER_TERMS, ReconTask,
                                 ReconWeights)
from deblur3d.train import loop, weights
from deblur3d.train.config import TrainSchedule

STAGES = {
    # stage: (input crop, photometric target, default loss terms)
    "pretrain": ("sharp", "sharp", PRETRAIN_TERMS),   # weakly supervised, Deng et al.
    "finetune": ("blurry", "sharp", FINETUNE_TERMS),  # paper Eq. 3 on blurry/sharp pairs
    "teacher": ("inputs", "inputs", TEACHER_TERMS),   # people and the dense teacher (recon/labels.py)
}

# The teacher stage's CPU recipe (not in the paper): the distill term a tenth of its weight
# elsewhere, so the 68 points still lead; a 128 input, a quarter of the paper's cost.
STAGE_WEIGHTS = {"teacher": ReconWeights(distill=0.1)}
STAGE_INPUT_SIZE = {"teacher": 128}


@dataclasses.dataclass(frozen=True)
class ReconTrainConfig:
    stage: str = "pretrain"
    run_dir: str = "runs/recon_pretrain"
    cache_dir: str | None = None
    data_dir: str | None = None
    face_model: str = "ict"
    model_path: str | None = None
    skin_model: str | None = str(paths.SKIN_MODEL)   # None: attention 1 everywhere
    init_weights: str | None = None                         # e.g. the pretrained model for finetune
    terms: tuple | None = None                              # None: the stage's default
    weights: ReconWeights = ReconWeights()
    blur: object = None                                     # blur_settings preset or BlurConfig; None: the default
    train: TrainSchedule = TrainSchedule()
    export: str | None = None                               # compact weights written at the end
    priors_dir: str | None = None                           # fitted priors whose coefficients the distill term
                                                            # teaches (export_priors.py --texture=basis ...)
    labels: str | None = None                               # the teacher stage's labels.npz (label_faces.py)
    input_size: int = PAPER_INPUT_SIZE                      # the side ReconNet's ResNet sees (recon/model.py)


def build_net(path=None, input_size=None):
    """A built ReconNet, filled from `path` if given; its input size is the file's (header
    `input_size`; the paper's 224 for files without one), else `input_size`."""
    if path:
        input_size = weights.read_header(path).get("input_size", PAPER_INPUT_SIZE)
    net = ReconNet(input_size or PAPER_INPUT_SIZE)
    net(tf.zeros([1, 224, 224, 3]))
    if path:
        weights.load(net, path)
    return net


def attention_model(path):
    if not path:
        return None
    from deblur3d.recon.skin import SkinModel
    return SkinModel.load(path).probability


def make_task(config, net):
    input_key, target_key, default_terms = STAGES[config.stage]
    if "distill" in (config.terms or ()) and not config.priors_dir:
        raise ValueError("the distill term needs fitted priors to learn from: pass --priors_dir")
    model = load_face_model(config.face_model, config.model_path, config.data_dir)
    terms = config.terms or default_terms
    mesh_ids = None
    if "dense" in terms:
        from deblur3d.face.mediapipe_mesh import vertex_ids
        mesh_ids = vertex_ids(model, config.data_dir)
    distilled = TEACHER_DISTILLED if config.stage == "teacher" else None
    attention = attention_model(config.skin_model) if "photometric" in terms else None
    return ReconTask(net, FaceRenderer(model), attention, config.weights, terms, input_key, target_key,
                     mesh_ids, distilled)


def training_data(config):
    run = config.train
    if config.stage == "teacher":
        if not config.labels:
            raise ValueError("the teacher stage learns from labels: pass --labels (experiments/label_faces.py)")
        return labels.dataset(labels.load(config.labels), run.batch_size, run.seed)
    return aligned_dataset(PipelineConfig(cache_dir=config.cache_dir, split="train", batch_size=run.batch_size,
                                          seed=run.seed, blur=config.blur, priors_dir=config.priors_dir))


def train(config, log=print):
    if config.stage not in STAGES:
        raise ValueError(f"unknown stage {config.stage!r}: {', '.join(STAGES)}")
    run = config.train
    tf.keras.utils.set_random_seed(run.seed)
    net = build_net(config.init_weights, config.input_size)
    task = make_task(config, net)
    losses = loop.train(task, run.optimizer(), training_data(config), {"net": net}, run.loop_config(config.run_dir),
                        log=log, settings=config)
    export = config.export or str(Path(config.run_dir) / "recon.weights.npz")
    with loop.export_space(config.run_dir, export, net.weights):
        weights.save(net, export, stage=config.stage, steps=run.steps, batch_size=run.batch_size,
                     face_model=config.face_model, input_size=net.input_size, config=repr(config),
                     final_losses=losses)
    log(f"exported {export}")
    return losses


def landmark_errors(net, renderer, dataset, input_key):
    """Mean 68-point distance in pixels of 224 crops, per frame, over a finite dataset."""
    errors = []
    for batch in dataset:
        landmarks = renderer.geometry(net(batch[input_key], training=False))[3]  # no rasterizing needed
        errors.append(np.linalg.norm(landmarks.numpy() - batch["points68"].numpy(), axis=-1).mean(-1))
    return np.concatenate(errors)
