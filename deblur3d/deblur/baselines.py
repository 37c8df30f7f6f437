"""Baselines of paper Table 1 with DeblurNet's call signature (registered in archs.py).

- DBN: Su et al. 2017, deep video deblurring (docs/reproduction.md §7).
- SRN: Tao et al. 2018, scale-recurrent network, on the 5-frame stack.

Neither uses the 3D priors (`use_render = use_identity = False`), so DeblurTask passes None.
"""
import keras
import tensorflow as tf
from keras import layers

from deblur3d.data.blur import centre_frame
from deblur3d.deblur.losses import gain_db, multiscale_l2
from deblur3d.deblur.model import DeblurNet
from deblur3d.deblur.task import DeblurTask


def pad_to_multiple(x, multiple):
    """Pads the bottom and right edges by mirroring; returns the padded tensor and (H, W)."""
    height, width = tf.shape(x)[1], tf.shape(x)[2]
    padding = [[0, 0], [0, -height % multiple], [0, -width % multiple], [0, 0]]
    return tf.pad(x, padding, mode="SYMMETRIC"), (height, width)


def run(blocks, x, training=False):
    for block in blocks:
        x = block(x, training=training)
    return x


class ConvBN(layers.Layer):
    """Conv (or transposed conv) -> BatchNorm [-> ReLU]; BN's beta stands in for the conv bias."""

    def __init__(self, filters, kernel=3, strides=1, transpose=False, relu=True, gamma="ones", **kwargs):
        super().__init__(**kwargs)
        conv = layers.Conv2DTranspose if transpose else layers.Conv2D
        self.conv = conv(filters, kernel, strides=strides, padding="same", use_bias=False)
        self.bn = layers.BatchNormalization(gamma_initializer=gamma)
        self.relu = relu

    def call(self, x, training=False):
        x = self.bn(self.conv(x), training=training)
        return tf.nn.relu(x) if self.relu else x


class DBN(keras.Model):
    """Su et al. 2017 (docs/reproduction.md §7): 5-frame stack (B, H, W, 15) -> sharp centre frame (B, H, W, 3).

    Any H, W: the input is mirror-padded to a multiple of 8 and the output cropped back.
    `residual` (not in Su et al.'s figure; public re-implementations do the same) drops the
    sigmoid: output = centre frame + F6, so a short run starts near the input instead of at
    sigmoid(image), half-grey; `zero_out` starts F6's last scale (BN gamma) at zero, i.e.
    exactly at the input.
    """

    use_render = use_identity = False

    def __init__(self, residual=False, zero_out=False, **kwargs):
        super().__init__(**kwargs)
        self.residual = residual

        def convs(widths, name):
            return [ConvBN(w, name=f"{name}_{i + 1}") for i, w in enumerate(widths)]

        def up(filters, name):  # BN, then the skip is added, then ReLU (in call)
            return ConvBN(filters, 4, 2, transpose=True, relu=False, name=name)

        self.f0 = ConvBN(64, 5, name="F0")
        self.d1, self.f1 = ConvBN(64, 3, 2, name="D1"), convs([128, 128], "F1")
        self.d2, self.f2 = ConvBN(256, 3, 2, name="D2"), convs([256] * 3, "F2")
        self.d3, self.f3 = ConvBN(512, 3, 2, name="D3"), convs([512] * 3, "F3")
        self.u1, self.f4 = up(256, "U1"), convs([256] * 3, "F4")
        self.u2, self.f5 = up(128, "U2"), convs([128, 64], "F5")
        self.u3 = up(64, "U3")
        self.f6 = [ConvBN(15, name="F6_1"), ConvBN(3, relu=False, gamma="zeros" if zero_out else "ones", name="F6_2")]

    def call(self, blurry, render=None, identity=None, training=False):
        x, (height, width) = pad_to_multiple(blurry, 8)
        f0 = self.f0(x, training=training)
        f1 = run([self.d1, *self.f1], f0, training)
        f2 = run([self.d2, *self.f2], f1, training)
        x = run([self.d3, *self.f3], f2, training)
        x = run(self.f4, tf.nn.relu(self.u1(x, training=training) + f2), training)
        x = run(self.f5, tf.nn.relu(self.u2(x, training=training) + f1), training)
        x = run(self.f6, tf.nn.relu(self.u3(x, training=training) + f0), training)
        x = centre_frame(blurry) + x[:, :height, :width]
        return x if self.residual else tf.sigmoid(x)


class ConvLSTMCell(layers.Layer):
    """One convolutional LSTM step; SRN carries its state (h, c) from scale to scale."""

    def __init__(self, channels, kernel=3, **kwargs):
        super().__init__(**kwargs)
        self.channels = channels
        self.gates = layers.Conv2D(4 * channels, kernel, padding="same", name="gates")

    def call(self, x, state):
        h, c = state
        i, f, o, g = tf.split(self.gates(tf.concat([x, h], -1)), 4, axis=-1)
        c = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
        h = tf.sigmoid(o) * tf.tanh(c)
        return h, (h, c)


class SRN(DeblurNet):
    """Tao et al. 2018 scale-recurrent network on the 5-frame stack (B, H, W, 15).

    `scales` levels (factor 0.5, bilinear), coarse to fine, one encoder-decoder shared by all
    levels (DeblurNet's layout: widths 32/64/128, ResBlocks, additive skips; Tao's ResBlock has
    no second ReLU). Each level sees the stack at its size and the previous level's output
    upsampled (the centre frame at the coarsest). `use_lstm=True` (default, tested) puts a
    ConvLSTM at the bottleneck whose state is resized and carried to the next level, as Tao et
    al. do; False gives their recurrence-free variant.
    """

    def __init__(self, scales=3, widths=(32, 64, 128), blocks=3, use_lstm=True, **kwargs):
        # DeblurNet's encoder-decoder without priors; Tao's ResBlock has no second ReLU.
        super().__init__(use_render=False, use_identity=False, widths=widths, blocks=blocks,
                         release_resblock=True, **kwargs)
        self.scales, self.use_lstm = scales, use_lstm
        self.lstm = ConvLSTMCell(widths[2], name="lstm") if use_lstm else None

    def scale_sizes(self, height, width):
        """(h, w) of every level, coarse to fine: round(size · 0.5^k), as Tao et al."""
        def size(n, k):
            return tf.cast(tf.round(tf.cast(n, tf.float32) * 0.5 ** k), tf.int32)
        return [(size(height, k), size(width, k)) for k in reversed(range(self.scales))]

    def _level(self, x, state):
        x, (height, width) = pad_to_multiple(x, 4)
        x, skips = self.encode(x)
        if self.use_lstm:
            if state is None:
                state = (tf.zeros_like(x), tf.zeros_like(x))
            else:
                state = tuple(tf.image.resize(s, tf.shape(x)[1:3]) for s in state)
            x, state = self.lstm(x, state)
        return self.decode(x, skips)[:, :height, :width], state

    def call(self, blurry, render=None, identity=None, training=False, return_all_scales=False):
        outputs, state = [], None
        previous = centre_frame(blurry)
        for size in self.scale_sizes(tf.shape(blurry)[1], tf.shape(blurry)[2]):
            # Tao et al. do not backpropagate through the upsampled previous output.
            previous = tf.stop_gradient(tf.image.resize(previous, size))
            previous, state = self._level(tf.concat([tf.image.resize(blurry, size), previous], -1), state)
            outputs.append(previous)
        return outputs if return_all_scales else outputs[-1]


class MultiScaleTask(DeblurTask):
    """DeblurTask for SRN trained with `multiscale_l2` over all its levels."""

    def losses(self, batch, training=True):
        outputs = self.net(batch["blurry"], training=training, return_all_scales=True)
        loss = multiscale_l2(outputs, batch["sharp"])
        return {"content": loss, "gain_db": gain_db(outputs[-1], batch["blurry"], batch["sharp"]), "total": loss}
