"""A trained deblurring model as a function of whole frames of any size.

    deblur = load_deblurrer("checkpoints/deblur_full.weights.npz")
    sharp = deblur(blurry_stack, render, identity)    # (B, H, W, 15) -> (B, H, W, 3)

The model is rebuilt from the weights file's header (architecture and configuration), so
a file carries everything needed to use it.
"""
from pathlib import Path

import tensorflow as tf

from deblur3d.deblur import archs
from deblur3d.deblur.baselines import pad_to_multiple
from deblur3d.deblur.header import ModelHeader
from deblur3d.face import coeffs as coeffs_lib
from deblur3d.train import weights

MULTIPLE = 8   # DeblurNet needs multiples of 4, DBN of 8; one padding serves all


class Deblurrer:
    """A built, loaded model; `header` is its weights file's ModelHeader (None: not from a file).

    `flip_ensemble` (not in the paper; twice the time): the mean of the outputs for the
    frames and for their mirror image (mirrored back), as EDSR's self-ensemble; training
    mirrors samples too, so both are inputs the model knows."""

    def __init__(self, net, header=None, flip_ensemble=False):
        self.net, self.header, self.flip_ensemble = net, header, flip_ensemble
        # One graph for every frame size: the second size generalises the trace to (None, None).
        self._run = tf.function(self._deblur, reduce_retracing=True)

    @property
    def needs_render(self):
        return bool(self.net.use_render)

    @property
    def needs_identity(self):
        return bool(self.net.use_identity)

    @property
    def needs_priors(self):
        return self.needs_render or self.needs_identity

    def _deblur(self, blurry, render, identity):
        x, (height, width) = pad_to_multiple(blurry, MULTIPLE)
        if render is not None:
            render, _ = pad_to_multiple(render, MULTIPLE)
        out = self.net(x, render, identity)
        if self.flip_ensemble:
            mirror = lambda image: None if image is None else tf.reverse(image, axis=[2])  # noqa: E731
            out = 0.5 * (out + mirror(self.net(mirror(x), mirror(render), identity)))
        return out[:, :height, :width]

    def __call__(self, blurry, render=None, identity=None):
        """blurry (B, H, W, 15) in [0, 1] [+ render (B, H, W, 3)] [+ identity (B, 80)] -> (B, H, W, 3)."""
        for name, needed, value in (("render", self.needs_render, render),
                                    ("identity", self.needs_identity, identity)):
            if needed and value is None:
                raise ValueError(f"this {type(self.net).__name__} needs the {name}")
        # Inputs the model does not use are dropped, so they neither retrace nor cost anything.
        return self._run(tf.convert_to_tensor(blurry, tf.float32),
                         tf.convert_to_tensor(render, tf.float32) if self.needs_render else None,
                         tf.convert_to_tensor(identity, tf.float32) if self.needs_identity else None)


def build_from_header(header, precision="float32"):
    """The (unloaded, built) model a ModelHeader describes; `precision` as archs.build."""
    return build(archs.build(header.arch, precision))


def build(net):
    """Creates the variables of a DeblurNet / DBN / SRN with one call on zeros; returns it."""
    size = 4 * MULTIPLE + MULTIPLE   # >= 36: the identity map needs a 9×9 bottleneck
    net(tf.zeros([1, size, size, 15]), tf.zeros([1, size, size, 3]) if net.use_render else None,
        tf.zeros([1, coeffs_lib.SIZES["identity"]]) if net.use_identity else None)
    return net


def load_deblurrer(path, precision="float32", flip_ensemble=False):
    """Weights file of DeblurNet / DBN / SRN -> Deblurrer; WeightsFileError (one line) otherwise.
    `precision="mixed_bfloat16"` computes a DeblurNet's layers in bfloat16 (faster on CPUs with
    AVX512-BF16; docs/results.md#the-cpu-recipe-on-the-realistic-blur-deblur_full measures what it
    costs); `flip_ensemble` as Deblurrer."""
    if not Path(path).is_file():
        raise weights.WeightsFileError(f"{path}: no such weights file")
    header = ModelHeader.read(path)
    try:
        net = build_from_header(header, precision)
    except ValueError as err:
        raise weights.WeightsFileError(f"{path}: {err}") from None
    weights.load(net, path)
    return Deblurrer(net, header, flip_ensemble)
