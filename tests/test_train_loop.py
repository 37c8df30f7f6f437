"""The shared training loop on the deblurring task: overfit, resume, NaN guard."""
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from deblur3d.deblur.model import DeblurNet
from deblur3d.deblur.losses import content_loss, face_weights, gain_db
from deblur3d.deblur.task import DeblurTask
from deblur3d.train import loop, schedules
from deblur3d.train.config import TrainSchedule


def tiny_batch(seed=0, size=48):
    rng = np.random.default_rng(seed)
    sharp = tf.constant(rng.uniform(size=(2, size, size, 3)), tf.float32)
    blurry = tf.concat([tf.nn.avg_pool2d(sharp, 3, 1, "SAME")] * 5, axis=-1)
    return {"blurry": blurry, "sharp": sharp, "render": 0.5 * sharp,
            "coeffs": tf.constant(rng.normal(size=(2, 239)), tf.float32)}


def test_gain_over_the_input_by_hand():
    sharp = tf.fill([2, 8, 8, 3], 0.5)
    blurry = tf.concat([sharp + 0.2] * 5, axis=-1)          # centre frame 0.2 off: MSE 0.04
    np.testing.assert_allclose(float(gain_db(sharp + 0.1, blurry, sharp)), 20 * np.log10(2), atol=1e-4)
    np.testing.assert_allclose(float(gain_db(sharp + 0.2, blurry, sharp)), 0.0, atol=1e-6)
    assert np.isfinite(float(gain_db(sharp, tf.concat([sharp] * 5, -1), sharp)))   # a perfect patch


def make_task():
    tf.keras.utils.set_random_seed(0)
    return DeblurTask(DeblurNet(widths=(16, 32, 64), blocks=2))


def run(task, run_dir, steps, batch=None, lr=1e-3, **kwargs):
    optimizer = schedules.adam(schedules.learning_rate("paper", initial=lr))
    dataset = tf.data.Dataset.from_tensors(batch or tiny_batch()).repeat()
    config = TrainSchedule(steps=steps, **kwargs).loop_config(str(run_dir))
    return loop.train(task, optimizer, dataset, {"net": task.net}, config, log=lambda *_: None), optimizer


def test_content_loss_by_hand():
    out = tf.zeros([2, 2, 2, 3])
    sharp = tf.concat([tf.fill([1, 2, 2, 3], 1.0), tf.fill([1, 2, 2, 3], 2.0)], 0)
    # per frame: sqrt(12 · d²) = d·sqrt(12); mean over frames 1.5·sqrt(12)
    np.testing.assert_allclose(content_loss(out, sharp, "norm"), 1.5 * np.sqrt(12), rtol=1e-6)
    np.testing.assert_allclose(content_loss(out, sharp, "mse"), 2.5, rtol=1e-6)
    # per sample: MSE 1 and 4, floored by one grey level squared; minus the mean PSNR (peak 1)
    floor = (1 / 255) ** 2
    np.testing.assert_allclose(content_loss(out, sharp, "psnr"),
                               5 * (np.log10(1 + floor) + np.log10(4 + floor)), rtol=1e-5)
    # a floor of 100 grey levels: (100/255)² = 0.1538 added to each MSE
    np.testing.assert_allclose(content_loss(out, sharp, "psnr", psnr_floor_grey=100),
                               5 * (np.log10(1.1538) + np.log10(4.1538)), rtol=1e-4)


def test_two_sample_overfit_lowers_the_content_loss_tenfold(tmp_path):
    task = make_task()
    batch = tiny_batch()
    before = float(task.losses(batch)["total"])
    losses, _ = run(task, tmp_path, steps=250, batch=batch, checkpoint_every=1000)
    assert losses["total"] < before / 10, (before, losses)


def test_resume_restores_step_weights_and_optimizer_state(tmp_path):
    task = make_task()
    _, optimizer = run(task, tmp_path, steps=6, checkpoint_every=3)
    saved = [v.numpy() for v in optimizer.variables]
    weights = [w.numpy() for w in task.net.weights]

    resumed = make_task()  # fresh weights: everything must come from the checkpoint
    optimizer2 = schedules.adam(schedules.learning_rate("paper", initial=1e-3))
    loop.build(resumed, optimizer2, tiny_batch())
    manager = loop.checkpoint_manager(tmp_path, optimizer2, {"net": resumed.net})
    manager.checkpoint.restore(manager.latest_checkpoint).assert_existing_objects_matched()
    assert int(optimizer2.iterations) == 6
    assert len(saved) == len(optimizer2.variables)
    for a, b in zip(saved, optimizer2.variables):
        np.testing.assert_array_equal(a, b.numpy())
    for a, b in zip(weights, resumed.net.weights):
        np.testing.assert_array_equal(a, b.numpy())
    # And the loop itself continues from step 6 rather than starting over.
    _, optimizer3 = run(make_task(), tmp_path, steps=8, checkpoint_every=3)
    assert int(optimizer3.iterations) == 8


def test_nan_loss_stops_with_the_step_and_keeps_the_good_checkpoint(tmp_path):
    task = make_task()
    run(task, tmp_path, steps=2, checkpoint_every=2)
    bad = tiny_batch()
    bad["sharp"] = bad["sharp"] * np.nan
    with pytest.raises(loop.NonFiniteLoss, match="step 3"):
        run(task, tmp_path, steps=5, batch=bad, checkpoint_every=1)
    assert tf.train.latest_checkpoint(str(tmp_path / "ckpt")).endswith("ckpt-2")


def test_l1_and_charbonnier_by_hand():
    out = tf.zeros([1, 1, 2, 3])
    sharp = tf.constant([[[[0.5] * 3, [-0.1] * 3]]])
    np.testing.assert_allclose(content_loss(out, sharp, "l1"), 0.3, rtol=1e-6)
    # sqrt(d² + 1e-6) per value: (sqrt(0.25 + 1e-6) + sqrt(0.01 + 1e-6)) / 2
    np.testing.assert_allclose(content_loss(out, sharp, "charbonnier"),
                               (np.sqrt(0.25 + 1e-6) + np.sqrt(0.01 + 1e-6)) / 2, rtol=1e-6)
    np.testing.assert_allclose(content_loss(sharp, sharp, "charbonnier"), 1e-3, rtol=1e-4)   # its floor: eps


def test_pixel_weights_by_hand():
    out = tf.zeros([1, 1, 2, 3])
    sharp = tf.constant([[[[0.5] * 3, [-0.1] * 3]]])
    weights = face_weights(tf.constant([[[[0.0], [1.0]]]]), 2.0)     # 1 and 3, scaled to 0.5 and 1.5
    np.testing.assert_allclose(weights, [[[[1.0], [3.0]]]])
    np.testing.assert_allclose(content_loss(out, sharp, "l1", weights=weights), (0.5 * 0.5 + 1.5 * 0.1) / 2,
                               rtol=1e-6)
    np.testing.assert_allclose(content_loss(out, sharp, "mse", weights=weights), (0.5 * 0.25 + 1.5 * 0.01) / 2,
                               rtol=1e-6)
    np.testing.assert_allclose(content_loss(out, sharp, "norm", weights=weights),
                               np.sqrt(3 * (0.5 * 0.25 + 1.5 * 0.01)), rtol=1e-6)
    # Equal weights, whatever their size, are the unweighted loss.
    for kind in ("norm", "mse", "psnr", "l1", "charbonnier"):
        np.testing.assert_allclose(content_loss(out, sharp, kind, weights=tf.fill([1, 1, 2, 1], 7.0)),
                                   content_loss(out, sharp, kind), rtol=1e-6)


def test_face_weight_steers_the_gradient_to_the_face():
    task = make_task()
    batch = tiny_batch()
    face = np.zeros((2, 48, 48, 1), np.float32)
    face[:, :24] = 1.0                                            # the top half is "face"
    task.face_weight = 9.0
    with tf.GradientTape() as tape:
        output = task(batch, training=True)
        tape.watch(output)
        loss = content_loss(output, batch["sharp"], "norm", weights=face_weights(tf.constant(face), 9.0))
    grad = np.abs(tape.gradient(loss, output).numpy())
    assert grad[:, :24].mean() > 5 * grad[:, 24:].mean()
    weighted = float(task.losses({**batch, "face": tf.constant(face)})["content"])
    task.face_weight = 0.0
    assert weighted != pytest.approx(float(task.losses(batch)["content"]), rel=1e-4)


def test_cosine_schedule_warms_up_linearly_then_decays_to_zero():
    lr = schedules.learning_rate("cosine", initial=4e-4, total_steps=1100, warmup_steps=100)
    np.testing.assert_allclose([float(lr(s)) for s in (0, 50, 100, 600, 1100)], [0, 2e-4, 4e-4, 2e-4, 0],
                               atol=1e-9)
    with pytest.raises(ValueError, match="cosine"):
        schedules.learning_rate("linear")


def test_the_cpu_recipe_overfits_two_samples(tmp_path):
    # Scaled residual branches, zero-initialised output, Charbonnier, XLA-compiled step.
    tf.keras.utils.set_random_seed(0)
    task = DeblurTask(DeblurNet(use_render=False, use_identity=False, widths=(16, 32, 64), blocks=2, kernel=3,
                                res_scale=0.2, residual=True, zero_out=True), content="charbonnier")
    batch = tiny_batch()
    before = float(task.losses(batch)["total"])
    losses, _ = run(task, tmp_path, steps=300, batch=batch, lr=1e-3, checkpoint_every=1000, jit_compile=True)
    assert losses["total"] < before / 2 and losses["gain_db"] > 5, (before, losses)


def test_a_blow_up_at_a_checkpoint_step_is_not_saved_and_resume_skips_bad_checkpoints(tmp_path):
    task = make_task()
    run(task, tmp_path, steps=2, checkpoint_every=2)   # ckpt-2: good

    class Exploding(tf.keras.optimizers.schedules.LearningRateSchedule):
        """1e-3, then 1e25 from step 3: the loss of step 3 is finite, its update is not usable."""
        def __call__(self, step):
            return tf.where(step >= 2, 1e25, 1e-3)

    optimizer = schedules.adam(Exploding())
    dataset = tf.data.Dataset.from_tensors(tiny_batch()).repeat()
    config = TrainSchedule(steps=4, checkpoint_every=3).loop_config(str(tmp_path))
    with pytest.raises(loop.NonFiniteLoss, match=r"blew up at step 3.*ckpt-2"):
        loop.train(task, optimizer, dataset, {"net": task.net}, config, log=lambda *_: None)
    assert tf.train.latest_checkpoint(str(tmp_path / "ckpt")).endswith("ckpt-2")
    # A bad checkpoint on disk (as older versions saved them) is skipped on resume.
    manager = loop.checkpoint_manager(tmp_path, optimizer, {"net": task.net})
    for v in task.net.trainable_variables:
        v.assign(tf.fill(v.shape, 1e30))
    manager.save(checkpoint_number=3)
    said = []
    task2 = make_task()
    optimizer2 = schedules.adam(schedules.learning_rate("paper", initial=1e-3))
    config = TrainSchedule(steps=3, checkpoint_every=1).loop_config(str(tmp_path))
    loop.train(task2, optimizer2, dataset, {"net": task2.net}, config, log=said.append)
    assert any("skipped checkpoint" in s and "ckpt-3" in s for s in said)
    assert any("resumed from" in s and "ckpt-2" in s for s in said)
    assert all(np.isfinite(v.numpy()).all() for v in task2.net.trainable_variables)


def test_a_checkpoint_cut_short_is_skipped_on_resume_with_one_line(tmp_path):
    task = make_task()
    run(task, tmp_path, steps=4, checkpoint_every=2)   # ckpt-1 (step 2), ckpt-2 (step 4)
    newest = tf.train.latest_checkpoint(str(tmp_path / "ckpt"))
    data = next(p for p in (tmp_path / "ckpt").iterdir() if p.name.startswith(Path(newest).name + ".data"))
    data.write_bytes(data.read_bytes()[:len(data.read_bytes()) // 3])   # as after a disk fault
    said = []
    task2 = make_task()
    optimizer = schedules.adam(schedules.learning_rate("paper", initial=1e-3))
    dataset = tf.data.Dataset.from_tensors(tiny_batch()).repeat()
    config = TrainSchedule(steps=5, checkpoint_every=1).loop_config(str(tmp_path))
    loop.train(task2, optimizer, dataset, {"net": task2.net}, config, log=said.append)
    assert any("skipped checkpoint" in s and Path(newest).name in s and "cannot be read" in s for s in said), said
    assert any("resumed from" in s for s in said)
