"""Training the deblurring branch with the content loss L_c (paper Eq. 4)."""
import tensorflow as tf

from deblur3d.data.blur import centre_frame
from deblur3d.deblur.losses import PSNR_FLOOR_GREY, content_loss, face_weights, gain_db
from deblur3d.face import coeffs as coeffs_lib


def precomputed_priors(batch):
    """Render and identity as the authors precompute them: stored with each sample."""
    render = batch.get("render")
    coeffs = batch.get("coeffs")
    identity = None if coeffs is None else coeffs[..., coeffs_lib.SLICES["identity"]]
    return render, identity


class DeblurTask:
    """net(blurry, render, identity) -> sharp centre frame, trained with L_c.

    `priors(batch) -> (render, identity)`: `precomputed_priors`, or the reconstruction
    branch run inside the step (online priors). `face_weight` > 0 (not in the paper) counts
    the pixels of the batch's `face` mask 1 + face_weight times in L_c.
    """

    def __init__(self, net, priors=precomputed_priors, content="norm", psnr_floor_grey=PSNR_FLOOR_GREY,
                 face_weight=0.0):
        self.net, self.priors, self.content, self.psnr_floor_grey = net, priors, content, psnr_floor_grey
        self.face_weight = face_weight

    @property
    def trainable_variables(self):
        return self.net.trainable_variables

    def __call__(self, batch, training=False):
        render, identity = self.priors(batch)
        return self.net(batch["blurry"], render if self.net.use_render else None,
                        identity if self.net.use_identity else None, training=training)

    def losses(self, batch, training=True):
        output = self(batch, training=training)
        weights = face_weights(batch["face"], self.face_weight) if self.face_weight else None
        loss = content_loss(output, batch["sharp"], self.content, self.psnr_floor_grey, weights)
        return {"content": loss, "gain_db": gain_db(output, batch["blurry"], batch["sharp"]), "total": loss}

    def images(self, batch):
        """blurry centre | render | output | sharp, side by side, for TensorBoard."""
        centre = centre_frame(batch["blurry"])
        render, _ = self.priors(batch)
        render = tf.zeros_like(centre) if render is None else render
        return tf.clip_by_value(tf.concat([centre, render, self(batch), batch["sharp"]], axis=2), 0, 1)
