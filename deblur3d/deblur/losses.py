"""The deblurring branch's losses: L_c (paper Eq. 4) and its variants, SRN's multi-scale
loss, the gain over the input that the trainers log, and L_r (Eq. 3) on a deblurring batch
for joint training."""
import tensorflow as tf

from deblur3d.data.blur import centre_frame
from deblur3d.face import align

# The "psnr" loss adds the square of this many grey levels to each patch's MSE: one caps a
# patch's term at 48.1 dB, so exact patches (static background) do not dominate; more
# weighs blurry patches more against them (the trade-off:
# docs/results.md#measured-the-first-cpu-reference-val-identities-never-trained-on).
PSNR_FLOOR_GREY = 1.0
CHARBONNIER_EPS = 1e-3
CONTENT_LOSSES = ("norm", "mse", "psnr", "l1", "charbonnier")


def decibels(ratio):
    return 10.0 * tf.math.log(ratio) / tf.math.log(10.0)


def content_loss(output, sharp, kind="norm", psnr_floor_grey=PSNR_FLOOR_GREY, weights=None):
    """Eq. 4. 'norm': the Euclidean norm of each frame's difference, averaged over frames
    (the paper); 'mse': mean squared error per pixel (the authors' release); 'psnr': minus
    the mean per-sample PSNR in dB (not in the paper: the evaluation's metric, which MSE
    pooled over a batch lets still samples lose to moving ones), each sample's MSE raised
    by `psnr_floor_grey` grey levels squared; 'l1' and 'charbonnier' (sqrt(d^2 + 1e-6) per
    value) are the usual deblurring losses, not the paper's.

    `weights` (B, H, W, 1), optional: per-pixel weights, scaled to mean 1 over the batch so
    the loss keeps its size; each pixel's error (|d|, or d^2 under the root) is multiplied."""
    diff = output - sharp
    w = 1.0 if weights is None else weights / tf.reduce_mean(weights)
    square = tf.square(diff) * w
    per_sample = tf.reshape(square, [tf.shape(diff)[0], -1])
    if kind == "norm":
        return tf.reduce_mean(tf.sqrt(tf.reduce_sum(per_sample, axis=-1)))
    if kind == "mse":
        return tf.reduce_mean(square)
    if kind == "l1":
        return tf.reduce_mean(tf.abs(diff) * w)
    if kind == "charbonnier":   # a smooth L1 (DeepDeblur, Restormer): robust, yet steady near zero
        return tf.reduce_mean(tf.sqrt(tf.square(diff) + CHARBONNIER_EPS ** 2) * w)
    if kind == "psnr":
        mse = tf.reduce_mean(per_sample, axis=-1)
        return tf.reduce_mean(decibels(mse + (psnr_floor_grey / 255.0) ** 2))
    raise ValueError(f"unknown content loss {kind!r}: one of {', '.join(CONTENT_LOSSES)}")


def face_weights(face_mask, face_weight):
    """1 + face_weight inside the face hull, 1 elsewhere: the loss counts a face pixel
    1 + face_weight times (not in the paper; the face is what the tool is judged on)."""
    return 1.0 + face_weight * face_mask


def gain_db(output, blurry, sharp):
    """PSNR of the output minus PSNR of the blurry centre frame, over the batch: above zero
    once the model beats "no deblurring". Monitoring only (TensorBoard), no gradient."""
    mse = lambda x: tf.reduce_mean(tf.square(tf.stop_gradient(x) - sharp)) + 1e-10  # noqa: E731
    return decibels(mse(centre_frame(blurry)) / mse(output))


def multiscale_l2(outputs, sharp):
    """Tao et al.'s loss: the sum over levels of the mean squared error to the resized sharp frame."""
    return tf.add_n([tf.reduce_mean(tf.square(out - tf.image.resize(sharp, tf.shape(out)[1:3])))
                     for out in outputs])


class AlignedRenderingLoss:
    """L_r (Eq. 3) on the aligned crops of a deblurring batch, for joint training."""

    def __init__(self, online, skin_model=None):
        from deblur3d.recon.task import FINETUNE_TERMS, ReconTask
        from deblur3d.recon.training import attention_model
        self.task = ReconTask(online.recon_net, online.renderer, attention_model(skin_model),
                              terms=FINETUNE_TERMS, input_key="blurry", target_key="sharp")

    @property
    def trainable_variables(self):
        return self.task.trainable_variables

    def losses(self, batch, training=True):
        params = align.alignment_params(batch["points5"])
        s, cx, cy = tf.unstack(params[:, None, :], axis=-1)
        points = tf.stack([(batch["points68"][..., 0] - cx) * s, (batch["points68"][..., 1] - cy) * s], -1)
        aligned = {"blurry": align.crop(centre_frame(batch["blurry"]), params),
                   "sharp": align.crop(batch["sharp"], params),
                   "points68": points + align.CROP_SIZE / 2}
        out = self.task.losses(aligned, training=training)
        return {"rendering": out["photometric"], "total": out["total"]}
