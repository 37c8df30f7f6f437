"""Training the reconstruction branch: weakly supervised pretraining and the L_r fine-tune.

Pretraining (Deng et al.): input and target are the same sharp crop; photometric,
landmark, coefficient and albedo-flatness terms. Fine-tuning (paper Eq. 3): the input is
the blurry crop, the photometric target the sharp one; `terms` picks which terms count.
"""
import dataclasses

import tensorflow as tf

from deblur3d.recon import losses


@dataclasses.dataclass(frozen=True)
class ReconWeights:
    """Loss weights of Deng et al. (docs/reproduction.md §4)."""
    photometric: float = 1.92
    landmark: float = 1.6e-3
    regularizer: float = 3e-4
    albedo: float = 5.0
    distill: float = 1.0   # not in the paper: the fitted geometry as teacher (losses.distillation_loss)
    dense: float = 1.6e-3  # not in the paper: the teacher's 468 points, as the 68 landmarks count


PRETRAIN_TERMS = ("photometric", "landmark", "regularizer", "albedo")
# distill needs the batch's fitted `coeffs`; dense the teacher's 468 points `mesh` (recon/labels.py)
TERMS = PRETRAIN_TERMS + ("distill", "dense")
# Not in the paper: people taught by the dense teacher (the CPU recipe; docs/model.md). No
# rendered term: light and albedo come from a closed-form solve on the frame (priors/texture.py).
TEACHER_TERMS = ("landmark", "dense", "distill", "regularizer")
TEACHER_DISTILLED = ("identity", "expression", "rotation")   # a view's crop moves its translation
FINETUNE_TERMS = ("photometric",)  # the paper fine-tunes with L_r alone
RENDERED_TERMS = {"photometric", "albedo"}   # the terms that need the rasterized image


class ReconTask:
    """net(input crop) -> coefficients -> render, compared with the target crop.

    batch: `input` and `target` keys name (B, 224, 224, 3) crops; `points68` (B, 68, 2).
    `attention(images) -> (B, H, W, 1)`: the skin probability (A of Eq. 3), or None for 1.
    """

    def __init__(self, net, renderer, attention=None, weights=ReconWeights(), terms=PRETRAIN_TERMS,
                 input_key="sharp", target_key="sharp", mesh_ids=None, distilled=None):
        unknown = set(terms) - set(TERMS)
        if unknown:
            raise ValueError(f"unknown loss terms {sorted(unknown)}; choose from {TERMS}")
        self.net, self.renderer, self.attention = net, renderer, attention
        self.weights, self.terms = weights, tuple(terms)
        self.input_key, self.target_key = input_key, target_key
        if "dense" in terms and mesh_ids is None:
            raise ValueError("the dense term needs the teacher's vertex ids (face/mediapipe_mesh.py)")
        self.mesh_ids = None if mesh_ids is None else tf.constant(mesh_ids, tf.int32)
        self.distilled = tuple(distilled or losses.DISTILL_SCALES)

    @property
    def trainable_variables(self):
        return self.net.trainable_variables

    def __call__(self, batch, training=False):
        coeffs = self.net(batch[self.input_key], training=training)
        return coeffs, self.renderer(coeffs)

    def losses(self, batch, training=True):
        if not set(self.terms) & RENDERED_TERMS:
            return self._geometry_losses(batch, training)
        coeffs, rendering = self(batch, training=training)
        target = batch[self.target_key]
        weights = rendering.region
        if self.attention is not None:
            weights = weights * self.attention(target)
        values = {
            "photometric": losses.photometric_loss(target, rendering.image, weights),
            "landmark": losses.landmark_loss(rendering.landmarks, batch["points68"]),
            "regularizer": losses.coefficient_regularizer(coeffs),
            "albedo": losses.albedo_flatness(rendering.albedo, self.renderer.face_model.tensors["skin_mask"]),
        }
        return self._with_total(values, coeffs, batch)

    def _with_total(self, values, coeffs, batch):
        if "distill" in self.terms:
            values["distill"] = losses.distillation_loss(coeffs, batch["coeffs"], batch.get("has_coeffs"),
                                                         self.distilled)
        if "dense" in self.terms:
            values["dense"] = losses.dense_loss(self.renderer.points(coeffs, self.mesh_ids), batch["mesh"])
        values["total"] = tf.add_n([getattr(self.weights, name) * values[name] for name in self.terms])
        return values

    def _geometry_losses(self, batch, training):
        """Landmark and regulariser terms only: no image is rendered (1.6 s a pretraining
        step of 8 crops here, against 2.75 s with the rendered terms)."""
        coeffs = self.net(batch[self.input_key], training=training)
        values = {"landmark": losses.landmark_loss(self.renderer.landmarks(coeffs), batch["points68"]),
                  "regularizer": losses.coefficient_regularizer(coeffs)}
        return self._with_total(values, coeffs, batch)

    def images(self, batch):
        """input | render over the target | target, for TensorBoard."""
        _, rendering = self(batch)
        target = batch[self.target_key]
        overlay = rendering.image + target * (1 - rendering.mask)
        return tf.clip_by_value(tf.concat([batch[self.input_key], overlay, target], axis=2), 0, 1)
