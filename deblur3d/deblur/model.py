"""The deblurring branch (orange box of the paper's Figure 2).

An encoder-decoder at a single scale with additive skips: 5 blurry frames in, the sharp
centre frame out. The render is concatenated after the first convolution and the
identity vector, as a 9×9 map centred in zeros, at the bottleneck. Sizes follow the
authors' release (docs/reproduction.md §5); `use_render` / `use_identity` give paper Table 2's rows.
"""
import keras
import tensorflow as tf
from keras import layers

from deblur3d.data.blur import centre_frame


class ResBlock(layers.Layer):
    """x + ReLU(Conv5(ReLU(Conv5(x)))): the paper's Figure 2.

    `release_variant=True` drops the second ReLU, as the authors' code does. `scale` < 1
    shrinks the residual branch (EDSR's 0.1-0.2; not in the paper), so a deep stack starts
    near the identity and trains fast without normalisation.
    """

    def __init__(self, channels, release_variant=False, kernel=5, scale=1.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale
        self.conv1 = layers.Conv2D(channels, kernel, padding="same", activation="relu")
        self.conv2 = layers.Conv2D(channels, kernel, padding="same", activation=None if release_variant else "relu")

    def call(self, x):
        branch = self.conv2(self.conv1(x))
        return x + (branch if self.scale == 1.0 else self.scale * branch)


def identity_map(identity, height, width):
    """(B, 80) -> (B, height, width, 1): alpha + one zero as a 9×9 map, zero-padded at the centre."""
    tf.debugging.assert_greater_equal(tf.minimum(height, width), 9, "the bottleneck must hold a 9×9 map: "
                                      "inputs of at least 36×36 pixels")
    batch = tf.shape(identity)[0]
    grid = tf.reshape(tf.pad(identity, [[0, 0], [0, 81 - identity.shape[-1]]]), [batch, 9, 9, 1])
    top, left = (height - 9) // 2, (width - 9) // 2
    return tf.pad(grid, [[0, 0], [top, height - 9 - top], [left, width - 9 - left], [0, 0]])


class DeblurNet(keras.Model):
    """blurry (B, H, W, 15) [+ render (B, H, W, 3)] [+ identity (B, 80)] -> sharp (B, H, W, 3).

    H and W must be multiples of 4 (two stride-2 stages).

    `residual=True` adds the blurry centre frame to the output, so an untrained network
    starts near "no deblurring": not in the paper, whose network outputs the frame itself
    (the default); it lets short CPU budgets learn a useful model
    (docs/results.md#the-cpu-recipe-on-the-realistic-blur-deblur_full).
    """

    def __init__(self, use_render=True, use_identity=True, widths=(32, 64, 128), blocks=3,
                 double_input=False, release_resblock=False, residual=False, kernel=5, res_scale=1.0,
                 zero_out=False, **kwargs):
        super().__init__(**kwargs)
        self.use_render, self.use_identity, self.double_input = use_render, use_identity, double_input
        self.residual, self.widths = residual, tuple(widths)
        w1, w2, w3 = widths
        e1 = w1 + 3 * use_render          # render joins the first stage's features
        e3 = w3 + 1 * use_identity        # identity map joins the bottleneck

        def stage(channels, name):
            return [ResBlock(channels, release_resblock, kernel, res_scale, name=f"{name}_{i}") for i in range(blocks)]

        self.conv_in = layers.Conv2D(w1, kernel, padding="same", activation="relu", name="conv_in")
        self.enc1 = stage(e1, "enc1")
        self.down2 = layers.Conv2D(w2, kernel, strides=2, padding="same", activation="relu", name="down2")
        self.enc2 = stage(w2, "enc2")
        self.down3 = layers.Conv2D(w3, kernel, strides=2, padding="same", activation="relu", name="down3")
        self.enc3 = stage(w3, "enc3")
        self.dec3 = stage(e3, "dec3")
        self.up2 = layers.Conv2DTranspose(w2, 4, strides=2, padding="same", activation="relu", name="up2")
        self.dec2 = stage(w2, "dec2")
        self.up1 = layers.Conv2DTranspose(e1, 4, strides=2, padding="same", activation="relu", name="up1")
        self.dec1 = stage(e1, "dec1")
        # Linear output. With `residual`, tiny at first so training starts a few grey levels
        # from the input frame; `zero_out` starts exactly at the input (with scaled residual
        # branches the first step's gradient reaches the output layer, then every layer).
        init = ("zeros" if zero_out else keras.initializers.VarianceScaling(1e-4, "fan_avg", "uniform")
                if residual else "glorot_uniform")
        self.conv_out = layers.Conv2D(3, kernel, padding="same", name="conv_out", kernel_initializer=init)

    def start_near_identity(self, block_names, scale=1e-3):
        """Shrinks the last conv of the named ResBlocks to `scale` of its initial weights and
        zeroes its bias: a block added to a trained network (weights.load_grown) then starts
        within a hair of the identity, yet its ReLU still passes gradient (an all-zero conv
        would sit at ReLU's kink, where the gradient is zero, and never learn)."""
        blocks = {b.name: b for stage in (self.enc1, self.enc2, self.enc3, self.dec3, self.dec2, self.dec1)
                  for b in stage}
        unknown = sorted(set(block_names) - set(blocks))
        if unknown:
            raise ValueError(f"not ResBlocks of this DeblurNet: {unknown}")
        for name in block_names:
            conv = blocks[name].conv2
            conv.kernel.assign(conv.kernel * scale)
            conv.bias.assign(tf.zeros_like(conv.bias))

    def channel_maps(self, old_widths, old_render=None, old_identity=None):
        """{channel count of a network with `old_widths`: where those channels sit in this one},
        for each stage that is wider here (weights.load_grown). A stage's own channels come
        first, so the render (stage 1) and the identity map (bottleneck) move up past the new ones.
        `old_render` / `old_identity` False: the file lacks that prior, which joins here as
        added input channels (a baseline grown into a Table 2 row; default: as this network)."""
        old_render = self.use_render if old_render is None else old_render
        old_identity = self.use_identity if old_identity is None else old_identity
        if (old_render and not self.use_render) or (old_identity and not self.use_identity):
            raise ValueError("the file takes a prior this network does not: a network only grows")
        maps = {}
        groups = [(0, 0, 0), (0, 3 * self.use_render, 3 * old_render), (1, 0, 0), (2, 0, 0),
                  (2, 1 * self.use_identity, 1 * old_identity)]
        for stage, extra, old_extra in groups:
            old, new = int(old_widths[stage]), self.widths[stage]
            if old == new and extra == old_extra:
                continue
            if old > new:
                raise ValueError(f"stage {stage + 1} is {old} wide in the file, {new} here: a network only grows")
            where = list(range(old)) + list(range(new, new + old_extra))
            if maps.setdefault(old + old_extra, where) != where:
                raise ValueError(f"{old + old_extra} channels mean two places in this network: widen it in two steps")
        return maps

    @staticmethod
    def _run(blocks, x):
        for block in blocks:
            x = block(x)
        return x

    def encode(self, x, render=None):
        """-> bottleneck features and the two skips; the render joins after the first conv."""
        x = self.conv_in(x)
        if render is not None:
            x = tf.concat([x, tf.cast(render, x.dtype)], axis=-1)   # layers may compute in bfloat16
        skip1 = self._run(self.enc1, x)
        skip2 = self._run(self.enc2, self.down2(skip1))
        return self._run(self.enc3, self.down3(skip2)), (skip1, skip2)

    def decode(self, x, skips):
        skip1, skip2 = skips
        x = self._run(self.dec3, x)
        x = self._run(self.dec2, self.up2(x) + skip2)
        x = self._run(self.dec1, self.up1(x) + skip1)
        return self.conv_out(x)

    def call(self, blurry, render=None, identity=None):
        stack = tf.concat([blurry, blurry], axis=-1) if self.double_input else blurry  # the release's 30
        x, skips = self.encode(stack, render if self.use_render else None)
        if self.use_identity:
            x = tf.concat([x, tf.cast(identity_map(identity, tf.shape(x)[1], tf.shape(x)[2]), x.dtype)], axis=-1)
        out = tf.cast(self.decode(x, skips), blurry.dtype)   # the residual sum in the input's precision
        return centre_frame(blurry) + out if self.residual else out
