import numpy as np
import pytest
import tensorflow as tf

from deblur3d.deblur import archs
from deblur3d.deblur.baselines import DBN, SRN, MultiScaleTask
from deblur3d.deblur.model import DeblurNet
from deblur3d.deblur.task import DeblurTask


def stack(batch, height, width, seed=0):
    return tf.random.stateless_uniform([batch, height, width, 15], [seed, 1])


def test_dbn_and_srn_keep_any_input_size():
    x = stack(1, 37, 50)
    assert DBN()(x).shape == (1, 37, 50, 3)
    assert SRN(widths=(8, 16, 16), blocks=1)(x).shape == (1, 37, 50, 3)
    assert SRN(widths=(8, 16, 16), blocks=1, use_lstm=False)(x).shape == (1, 37, 50, 3)


def test_dbn_layers_follow_notes_section_7():
    net = DBN()
    net(stack(1, 16, 16))
    # (kernel, in, out) in order: F0, D1, F1×2, D2, F2×3, D3, F3×3, U1, F4×3, U2, F5×2, U3, F6×2.
    expected = ([(5, 15, 64), (3, 64, 64), (3, 64, 128), (3, 128, 128), (3, 128, 256)] + [(3, 256, 256)] * 3
                + [(3, 256, 512)] + [(3, 512, 512)] * 3 + [(4, 512, 256)] + [(3, 256, 256)] * 3
                + [(4, 256, 128), (3, 128, 128), (3, 128, 64), (4, 64, 64), (3, 64, 15), (3, 15, 3)])
    layers = [net.f0, net.d1, *net.f1, net.d2, *net.f2, net.d3, *net.f3, net.u1, *net.f4,
              net.u2, *net.f5, net.u3, *net.f6]
    got = []
    for layer in layers:
        k, _, a, b = layer.conv.kernel.shape  # transposed convs store (k, k, out, in)
        got.append((k, b, a) if layer.name[0] == "U" else (k, a, b))
        assert layer.conv.strides == ((2, 2) if layer.name[0] in "DU" else (1, 1)), layer.name
        assert not layer.conv.use_bias
    assert got == expected
    # No other conv; BatchNorm after each; ReLU everywhere but after U* (before the skip) and F6_2.
    assert sum(v.name == "kernel" for v in net.trainable_weights) == 22
    assert sum(v.name == "gamma" for v in net.trainable_weights) == 22
    assert [layer.name for layer in layers if not layer.relu] == ["U1", "U2", "U3", "F6_2"]

def test_dbn_output_is_sigmoid_of_centre_frame_plus_residual():
    net, x = DBN(), stack(2, 24, 24)
    net(x)
    for v in net.weights:
        if v.name == "kernel":
            v.assign(tf.zeros_like(v))
    # Zero kernels: every BN (inference) outputs beta = 0, so F6 adds nothing.
    np.testing.assert_allclose(net(x), tf.sigmoid(x[..., 6:9]), atol=1e-6)


def test_a_residual_zero_out_dbn_starts_exactly_at_the_input_and_learns():
    net, x = DBN(residual=True, zero_out=True), stack(2, 24, 24)
    # Training-mode BN too: F6_2's zero gamma leaves only beta = 0, whatever the batch.
    np.testing.assert_array_equal(net(x, training=True), x[..., 6:9])
    np.testing.assert_array_equal(net(x), x[..., 6:9])
    sharp = x[..., 6:9] * 0.5
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(net(x, training=True) - sharp))
    gamma = next(v for v in net.trainable_weights if "F6_2" in v.path and v.name == "gamma")
    assert float(tf.reduce_max(tf.abs(tape.gradient(loss, gamma)))) > 0   # the zero scale is not stuck
    first, last = overfit(DeblurTask(DBN(residual=True, zero_out=True), content="mse"), 30)
    assert last < 0.5 * first, (first, last)


def test_srn_shares_one_set_of_weights_across_scales():
    x = stack(2, 37, 50)
    nets = {scales: SRN(scales=scales, widths=(8, 16, 16), blocks=1) for scales in (1, 3)}
    outputs = {scales: net(x, return_all_scales=True) for scales, net in nets.items()}
    shapes = {s: [tuple(v.shape) for v in net.trainable_weights] for s, net in nets.items()}
    assert shapes[1] == shapes[3]
    assert [o.shape[1:3] for o in outputs[3]] == [(round(37 / 4), round(50 / 4)), (round(37 / 2), 25), (37, 50)]
    np.testing.assert_array_equal(nets[3](x), outputs[3][-1])  # default: the finest output


def test_the_registry_builds_every_architecture():
    assert isinstance(archs.build(archs.Arch(use_render=False)), DeblurNet)
    assert isinstance(archs.build(archs.Arch("dbn")), DBN)
    assert isinstance(archs.build(archs.Arch("srn")), SRN)
    with pytest.raises(ValueError, match="srn"):
        archs.Arch("nah")


def overfit(task, steps, lr=1e-3):
    """Losses of the first and last of `steps` Adam steps on one 2-sample batch."""
    sharp = tf.image.resize(tf.random.stateless_uniform([2, 8, 8, 3], [3, 4]), [32, 32])
    blurry = tf.concat([tf.nn.avg_pool2d(sharp, 3, 1, "SAME")] * 5, axis=-1)
    batch = {"blurry": blurry, "sharp": sharp}
    task(batch)  # builds the variables
    optimizer = tf.keras.optimizers.Adam(lr)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = task.losses(batch, training=True)["total"]
        optimizer.apply_gradients(zip(tape.gradient(loss, task.trainable_variables), task.trainable_variables))
        return loss

    losses = [float(step()) for _ in range(steps)]
    return losses[0], losses[-1]


@pytest.mark.parametrize("name", ["dbn", "srn"])
def test_baseline_overfits_two_samples(name):
    if name == "dbn":
        first, last = overfit(DeblurTask(DBN(), content="mse"), 30)
    else:
        first, last = overfit(MultiScaleTask(SRN(widths=(8, 16, 16), blocks=1)), 30)
    assert last < 0.5 * first, (first, last)
