"""Training the deblurring branch with the content loss L_c (paper Eq. 4)."""
import tensorflow as tf

from deblur3d.data.blur import centre_frame
from deblur3d.face import coeffs as coeffs_lib


# The "psnr" loss adds the square of this many grey levels to each patch's MSE: one caps a
# patch's term at 48.1 dB, so exact patches (static background) do not dominate; more
# weighs blurry patches more against them (checkpoints/README.md: the trade-off).
PSNR_FLOOR_GREY = 1.0
CHARBONNIER_EPS = 1e-3
CONTENT_LOSSES = ("norm", "mse", "psnr", "l1", "charbonnier")


def decibels(ratio):
    return 10.0 * tf.math.log(ratio) / tf.math.log(10.0)


def content_loss(output, sharp, kind="norm", psnr_floor_grey=PSNR_FLOOR_GREY):
    """Eq. 4. 'norm': the Euclidean norm of each frame's difference, averaged over frames
    (the paper); 'mse': mean squared error per pixel (the authors' release); 'psnr': minus
    the mean per-sample PSNR in dB (not in the paper: the evaluation's metric, which MSE
    pooled over a batch lets still samples lose to moving ones), each sample's MSE raised
    by `psnr_floor_grey` grey levels squared; 'l1' and 'charbonnier' (sqrt(d^2 + 1e-6) per
    value) are the usual deblurring losses, not the paper's."""
    diff = output - sharp
    per_sample = tf.reshape(diff, [tf.shape(diff)[0], -1])
    if kind == "norm":
        return tf.reduce_mean(tf.norm(per_sample, axis=-1))
    if kind == "mse":
        return tf.reduce_mean(tf.square(diff))
    if kind == "l1":
        return tf.reduce_mean(tf.abs(diff))
    if kind == "charbonnier":   # a smooth L1 (DeepDeblur, Restormer): robust, yet steady near zero
        return tf.reduce_mean(tf.sqrt(tf.square(diff) + CHARBONNIER_EPS ** 2))
    if kind == "psnr":
        mse = tf.reduce_mean(tf.square(per_sample), axis=-1)
        return tf.reduce_mean(decibels(mse + (psnr_floor_grey / 255.0) ** 2))
    raise ValueError(f"unknown content loss {kind!r}: one of {', '.join(CONTENT_LOSSES)}")


def gain_db(output, blurry, sharp):
    """PSNR of the output minus PSNR of the blurry centre frame, over the batch: above zero
    once the model beats "no deblurring". Monitoring only (TensorBoard), no gradient."""
    mse = lambda x: tf.reduce_mean(tf.square(tf.stop_gradient(x) - sharp)) + 1e-10  # noqa: E731
    return decibels(mse(centre_frame(blurry)) / mse(output))


def precomputed_priors(batch):
    """Render and identity as the authors precompute them: stored with each sample."""
    render = batch.get("render")
    coeffs = batch.get("coeffs")
    identity = None if coeffs is None else coeffs[..., coeffs_lib.SLICES["identity"]]
    return render, identity


class DeblurTask:
    """net(blurry, render, identity) -> sharp centre frame, trained with L_c.

    `priors(batch) -> (render, identity)`: `precomputed_priors`, or the reconstruction
    branch run inside the step (online priors).
    """

    def __init__(self, net, priors=precomputed_priors, content="norm", psnr_floor_grey=PSNR_FLOOR_GREY):
        self.net, self.priors, self.content, self.psnr_floor_grey = net, priors, content, psnr_floor_grey

    @property
    def trainable_variables(self):
        return self.net.trainable_variables

    def __call__(self, batch, training=False):
        render, identity = self.priors(batch)
        return self.net(batch["blurry"], render if self.net.use_render else None,
                        identity if self.net.use_identity else None, training=training)

    def losses(self, batch, training=True):
        output = self(batch, training=training)
        loss = content_loss(output, batch["sharp"], self.content, self.psnr_floor_grey)
        return {"content": loss, "gain_db": gain_db(output, batch["blurry"], batch["sharp"]), "total": loss}

    def images(self, batch):
        """blurry centre | render | output | sharp, side by side, for TensorBoard."""
        centre = centre_frame(batch["blurry"])
        render, _ = self.priors(batch)
        render = tf.zeros_like(centre) if render is None else render
        return tf.clip_by_value(tf.concat([centre, render, self(batch), batch["sharp"]], axis=2), 0, 1)
