"""Mixed precision of the DeblurNet: bfloat16 layers inside a float32 model."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from deblur3d.deblur import archs, training
from deblur3d.deblur.inference import build
from deblur3d.deblur.task import DeblurTask
from deblur3d.train import loop, schedules, strategies
from deblur3d.train.config import TrainSchedule
from deblur3d.train.step import make_train_step

CPU_ARCH = archs.Arch(use_render=True, use_identity=True, residual=True, zero_out=True, kernel=3, blocks=1,
                      res_scale=0.2, widths=(8, 16, 16))


def inputs(seed=0, size=40):
    rng = np.random.default_rng(seed)
    return (tf.constant(rng.uniform(size=(2, size, size, 15)), tf.float32),
            tf.constant(rng.uniform(size=(2, size, size, 3)), tf.float32),
            tf.constant(rng.normal(size=(2, 80)), tf.float32))


def test_bfloat16_layers_inside_a_float32_model():
    net = build(archs.build(CPU_ARCH, "mixed_bfloat16"))
    assert keras.mixed_precision.global_policy().name == "float32"   # the scope is restored
    assert net.dtype_policy.name == "float32"
    assert net.conv_in.dtype_policy.name == "mixed_bfloat16" and net.conv_in.kernel.dtype == tf.float32
    blurry, render, identity = inputs()
    out = net(blurry, render, identity)
    # Zero-initialised output: exactly the centre frame, in float32, not rounded to bfloat16.
    assert out.dtype == tf.float32
    np.testing.assert_array_equal(out.numpy(), blurry.numpy()[..., 6:9])


def test_bfloat16_output_is_the_float32_output_to_bfloat16_accuracy():
    tf.keras.utils.set_random_seed(3)
    arch = archs.Arch(**{**CPU_ARCH.header(), "zero_out": False, "residual": False})
    full = build(archs.build(arch))
    half = build(archs.build(arch, "mixed_bfloat16"))
    half.set_weights(full.get_weights())
    a, b = (net(*inputs(1)).numpy() for net in (full, half))
    assert np.abs(a).max() > 0.05                 # not a trivially zero output
    error = np.abs(a - b).max() / np.abs(a).max()
    assert 0 < error < 0.05                        # bfloat16 keeps 8 bits of mantissa


def test_bfloat16_training_step_overfits_two_samples():
    tf.keras.utils.set_random_seed(0)
    net = archs.build(archs.Arch(**{**CPU_ARCH.header(), "use_render": False, "use_identity": False}),
                      "mixed_bfloat16")
    task = DeblurTask(net, content="charbonnier")
    blurry, _, _ = inputs(2, 32)
    batch = {"blurry": blurry, "sharp": tf.clip_by_value(blurry[..., 6:9] * 1.3 - 0.1, 0, 1)}
    optimizer = schedules.adam(1e-3)
    loop.build(task, optimizer, batch)
    step = make_train_step(task, optimizer)
    first = float(step(batch)["total"])
    for _ in range(150):
        last = float(step(batch)["total"])
    assert np.isfinite(last) and last < 0.5 * first
    assert all(v.dtype == tf.float32 for v in net.trainable_variables)


def test_float16_trains_with_loss_scaling(tmp_path, monkeypatch):
    seen = []
    original = training.loop.train

    def spy(task, optimizer, *args, **kwargs):
        seen.append(optimizer)
        return original(task, optimizer, *args, **kwargs)

    monkeypatch.setattr(training.loop, "train", spy)
    monkeypatch.setattr(training, "training_data", lambda config: tf.data.Dataset.from_tensors(
        {"blurry": inputs(4, 32)[0], "sharp": inputs(5, 32)[1][..., :3]}).repeat())
    config = training.DeblurTrainConfig(
        priors="none", arch=archs.Arch(**{**CPU_ARCH.header(), "use_render": False, "use_identity": False}),
        patch_size=32, precision="mixed_float16", run_dir=str(tmp_path / "run"), export=str(tmp_path / "w.npz"),
        train=TrainSchedule(steps=2, batch_size=2, learning_rate=1e-3, checkpoint_every=1))
    losses = training.train(config, log=lambda *a: None)
    assert isinstance(seen[0], keras.optimizers.LossScaleOptimizer)
    assert np.isfinite(float(losses["total"]))


def test_precision_is_checked():
    with pytest.raises(ValueError, match="precision"):
        with strategies.compute_precision("float8"):
            pass
    with pytest.raises(ValueError, match="DeblurNet"):
        archs.build(archs.Arch("dbn"), "mixed_bfloat16")


def test_a_weights_file_runs_in_bfloat16_at_inference(tmp_path):
    from deblur3d.deblur.inference import load_deblurrer
    from deblur3d.priors.settings import PriorsSettings
    from deblur3d.train import weights
    from deblur3d.video.model import ModelSpec, untrained_weights

    path = untrained_weights(tmp_path / "net.npz", use_priors=False, seed=2)
    blurry = inputs(6, 44)[0]
    full, half = (load_deblurrer(path, p) for p in ("float32", "mixed_bfloat16"))
    a, b = full(blurry).numpy(), half(blurry).numpy()
    assert a.shape == b.shape == (2, 44, 44, 3)
    assert 0 < np.abs(a - b).max() < 0.05 * np.abs(a).max()
    spec = ModelSpec(path, PriorsSettings(recon_weights=None), precision="mixed_bfloat16")
    assert spec.get().deblurrer.net.conv_in.dtype_policy.name == "mixed_bfloat16"
    dbn = tmp_path / "dbn.npz"
    weights.save(build(archs.build(archs.Arch("dbn"))), dbn, architecture="dbn")
    with pytest.raises(weights.WeightsFileError, match="dbn.npz: precision"):
        load_deblurrer(dbn, "mixed_bfloat16")
