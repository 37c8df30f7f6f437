import numpy as np
import pytest
import tensorflow as tf

from deblur3d.recon import losses


def test_photometric_loss_by_hand():
    target = tf.ones([2, 2, 2, 3])
    render = tf.concat([tf.zeros([1, 2, 2, 3]), tf.fill([1, 2, 2, 3], 0.5)], 0)
    weights = np.zeros([2, 2, 2, 1], np.float32)
    weights[0, 0, 0] = 1.0           # frame 0: one pixel, distance 255·√3
    weights[1, :, :] = 2.0           # frame 1: every pixel, distance 255·√(3·0.25)
    got = losses.photometric_loss(target, render, tf.constant(weights))
    np.testing.assert_allclose(got, (255 * np.sqrt(3) + 255 * np.sqrt(0.75)) / 2, rtol=1e-5)


def test_photometric_weights_carry_no_gradient():
    weights = tf.Variable(tf.ones([1, 2, 2, 1]))
    with tf.GradientTape() as tape:
        loss = losses.photometric_loss(tf.ones([1, 2, 2, 3]), tf.zeros([1, 2, 2, 3]), weights)
    assert tape.gradient(loss, weights) is None


def test_landmark_loss_weights_nose_and_inner_lips_twenty_times():
    predicted = np.zeros([1, 68, 2], np.float32)
    target = np.zeros([1, 68, 2], np.float32)
    target[0, 30] = [3, 4]           # nose: 25 px², weight 20
    target[0, 5] = [1, 0]            # jaw: 1 px², weight 1
    np.testing.assert_allclose(losses.landmark_loss(predicted, target), (25 * 20 + 1) / 68, rtol=1e-6)
    assert losses.LANDMARK_WEIGHTS[28:31].tolist() == [20] * 3 and losses.LANDMARK_WEIGHTS[60:68].tolist() == [20] * 8
    assert losses.LANDMARK_WEIGHTS.sum() == 68 + 19 * 11


def test_coefficient_regularizer_by_hand():
    x = np.zeros([2, 239], np.float32)
    x[0, :80], x[0, 80:144], x[0, 144:224] = 1, 1, 1
    x[0, 224:] = 5                   # pose and light are not regularised
    np.testing.assert_allclose(losses.coefficient_regularizer(x), (80 + 0.8 * 64 + 0.017 * 80) / 2, rtol=1e-6)


def test_albedo_flatness_by_hand():
    albedo = tf.constant([[[0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [9.0, 9.0, 9.0]]])
    skin = tf.constant([1.0, 1.0, 0.0])  # the third vertex is off the skin region
    # mean 0.5 per channel; Σ (±0.5)² over 2 vertices × 3 channels = 1.5; / 2 skin vertices
    np.testing.assert_allclose(losses.albedo_flatness(albedo, skin), 0.75, rtol=1e-6)


def test_landmark_and_photometric_loss_fall_on_a_two_frame_overfit(ict_model):
    """ReconNet learns to reproduce two renders of known coefficients."""
    from deblur3d.face.render import FaceRenderer
    from deblur3d.recon.model import ReconNet
    from deblur3d.recon.task import ReconTask
    from deblur3d.train import schedules
    from deblur3d.train.loop import build
    from deblur3d.train.step import make_train_step

    tf.keras.utils.set_random_seed(0)
    renderer = FaceRenderer(ict_model)
    truth = np.zeros([2, 239], np.float32)
    truth[:, 224:227] = [[0.1, 0.4, 0.0], [-0.1, -0.3, 0.1]]   # two poses
    truth[:, 227:230] = [[0.2, 0.3, 0.3], [-0.2, -0.3, 0.2]]   # two lights
    target = renderer(truth)
    batch = {"sharp": target.image, "points68": target.landmarks}
    task = ReconTask(ReconNet(), renderer, terms=("photometric", "landmark"))
    optimizer = schedules.adam(schedules.learning_rate(initial=1e-4))
    build(task, optimizer, batch)
    step = make_train_step(task, optimizer)
    # Losses as the step sees them (BatchNorm in training mode: 2 frames make poor moving averages).
    history = [{k: float(v) for k, v in step(batch).items()} for _ in range(20)]
    before, after = history[0], min(history[-3:], key=lambda h: h["total"])
    assert after["total"] < 0.7 * before["total"], (before, after)
    assert after["photometric"] < before["photometric"], (before, after)


def test_geometry_terms_skip_the_render_and_match_it(ict_model):
    """Landmark + regulariser only: the same values as through the whole render, with the
    rasterizer never called, and gradients reaching the network."""
    from deblur3d.face.render import FaceRenderer
    from deblur3d.recon.model import ReconNet
    from deblur3d.recon.task import ReconTask

    renderer = FaceRenderer(ict_model)
    rng = np.random.default_rng(0)
    batch = {"sharp": tf.constant(rng.uniform(size=[2, 224, 224, 3]), tf.float32),
             "points68": tf.constant(rng.uniform(60, 160, size=[2, 68, 2]), tf.float32)}
    net = ReconNet()
    rendered = ReconTask(net, renderer, terms=("landmark", "regularizer", "photometric"))
    geometric = ReconTask(net, renderer, terms=("landmark", "regularizer"))
    full = rendered.losses(batch, training=False)
    calls = []
    renderer._rasterize = lambda *a, **k: calls.append(1)   # would fail if called
    with tf.GradientTape() as tape:
        alone = geometric.losses(batch, training=False)
    assert not calls and set(alone) == {"landmark", "regularizer", "total"}
    for name in ("landmark", "regularizer"):
        np.testing.assert_allclose(alone[name], full[name], rtol=1e-4)
    np.testing.assert_allclose(alone["total"], geometric.weights.landmark * full["landmark"]
                               + geometric.weights.regularizer * full["regularizer"], rtol=1e-4)
    grads = tape.gradient(alone["total"], net.trainable_variables)
    assert all(g is not None for g in grads[-2:]) and float(tf.norm(grads[-2])) > 0


def test_distillation_by_hand_counts_only_samples_with_a_fit():
    from deblur3d.face import coeffs as coeffs_lib
    target = np.zeros([2, 239], np.float32)
    coeffs = np.zeros([2, 239], np.float32)
    coeffs[0, coeffs_lib.SLICES["rotation"]] = 0.08                     # 1 scale unit on each of 3 angles
    coeffs[1, coeffs_lib.SLICES["identity"]] = 0.3                      # a sample without a fit
    coeffs[:, coeffs_lib.SLICES["texture"]] = 5.0                       # texture and light are not taught
    np.testing.assert_allclose(losses.distillation_loss(coeffs, target, np.array([1.0, 0.0], np.float32)), 1.0,
                               rtol=1e-5)
    np.testing.assert_allclose(losses.distillation_loss(coeffs, target), 1.0, rtol=1e-5)   # (1 + 1) / 2


def test_distillation_lowers_its_loss_on_a_two_sample_overfit(ict_model):
    """ReconNet learns the fitted geometry of two crops from the distill term alone."""
    from deblur3d.face.render import FaceRenderer
    from deblur3d.recon.model import ReconNet
    from deblur3d.recon.task import ReconTask
    from deblur3d.train import schedules
    from deblur3d.train.loop import build
    from deblur3d.train.step import make_train_step

    tf.keras.utils.set_random_seed(0)
    rng = np.random.default_rng(1)
    fits = np.zeros([2, 239], np.float32)
    fits[:, :80] = rng.normal(scale=0.3, size=(2, 80))                 # identity
    fits[:, 224:227] = [[0.1, 0.3, 0.0], [-0.1, -0.2, 0.1]]            # rotation
    batch = {"sharp": tf.constant(rng.uniform(size=[2, 224, 224, 3]), tf.float32),
             "points68": tf.zeros([2, 68, 2]), "coeffs": tf.constant(fits), "has_coeffs": tf.ones([2])}
    task = ReconTask(ReconNet(), FaceRenderer(ict_model), terms=("distill",))
    optimizer = schedules.adam(schedules.learning_rate(initial=1e-4))
    build(task, optimizer, batch)
    step = make_train_step(task, optimizer)
    history = [float(step(batch)["distill"]) for _ in range(20)]
    assert min(history[-3:]) < 0.5 * history[0], history
