"""Losses of the reconstruction branch (paper Eq. 3; Deng et al. for the weak supervision).

Images are in [0, 1] here; the photometric loss is measured on the 0-255 scale so the
loss weights of Deng et al. (docs/reproduction.md §4) keep their balance.
"""
import numpy as np
import tensorflow as tf

from deblur3d.face import coeffs as coeffs_lib

# Nose ridge (28-30) and inner lips (60-67), 0-based, count 20 times (Deng et al.).
LANDMARK_WEIGHTS = np.ones(68, np.float32)
LANDMARK_WEIGHTS[28:31] = 20.0
LANDMARK_WEIGHTS[60:68] = 20.0


def photometric_loss(target, render, weights):
    """Eq. 3: per pixel ‖I − R‖₂ over RGB, weighted by A·M, normalised per frame, averaged.

    target, render (B, H, W, 3) in [0, 1]; weights (B, H, W, 1) = attention × face region.
    The weights carry no gradient, as in the paper.
    """
    weights = tf.stop_gradient(weights)[..., 0]
    # The epsilon keeps the gradient of the norm finite where the difference vanishes.
    distance = 255.0 * tf.sqrt(tf.reduce_sum(tf.square(target - render), axis=-1) + 1e-10)
    per_frame = tf.reduce_sum(weights * distance, [1, 2]) / tf.maximum(tf.reduce_sum(weights, [1, 2]), 1.0)
    return tf.reduce_mean(per_frame)


def landmark_distances(predicted, target):
    """Per frame (B,): weighted squared pixel distance of the 68 points, averaged over points."""
    squared = tf.reduce_sum(tf.square(predicted - target), axis=-1)
    return tf.reduce_mean(squared * LANDMARK_WEIGHTS, axis=-1)


def landmark_loss(predicted, target):
    """landmark_distances averaged over frames."""
    return tf.reduce_mean(landmark_distances(predicted, target))


def coefficient_prior(coeffs):
    """Per frame (B,): Σα² + 0.8·Σβ² + 0.017·Σδ² (Deng et al.)."""
    c = coeffs_lib.split(coeffs)
    return (tf.reduce_sum(tf.square(c.identity), -1) + 0.8 * tf.reduce_sum(tf.square(c.expression), -1)
            + 0.017 * tf.reduce_sum(tf.square(c.texture), -1))


def coefficient_regularizer(coeffs):
    """coefficient_prior averaged over the batch."""
    return tf.reduce_mean(coefficient_prior(coeffs))


def albedo_flatness(albedo, skin_mask):
    """Variance of the albedo over the skin vertices (0-255 scale / 255², i.e. [0, 1] units).

    albedo (B, V, 3); skin_mask (V,) 0/1.
    """
    mask = skin_mask[None, :, None]
    count = tf.reduce_sum(skin_mask)
    mean = tf.reduce_sum(albedo * mask, axis=1, keepdims=True) / count
    return tf.reduce_mean(tf.reduce_sum(tf.square((albedo - mean) * mask), axis=[1, 2]) / count)


# The spread of each geometry slice over the fitted priors of the cached frames
# (cache/priors_fitted, basis:200: std over frames 0.29, 0.14, 0.078, 0.11): each slice's
# error is counted in those units, so no slice outweighs the others by its size.
DISTILL_SCALES = dict(identity=0.3, expression=0.15, rotation=0.08, translation=0.1)


def distillation_loss(coeffs, target, present=None, names=tuple(DISTILL_SCALES)):
    """Distance of ReconNet's geometry (identity, expression, rotation, translation; or the
    slices `names`) to the fitted one (not in the paper: a fit as teacher): per slice the
    mean squared difference in DISTILL_SCALES units, summed over the slices, averaged over
    the samples that have a fit (`present` (B,) 0/1; None: all)."""
    per_sample = tf.add_n([tf.reduce_mean(tf.square((coeffs[..., coeffs_lib.SLICES[name]] -
                                                     target[..., coeffs_lib.SLICES[name]]) / DISTILL_SCALES[name]), -1)
                           for name in names])
    if present is None:
        return tf.reduce_mean(per_sample)
    return tf.reduce_sum(per_sample * present) / tf.maximum(tf.reduce_sum(present), 1.0)


def dense_loss(predicted, target):
    """Mean squared pixel distance of the face model's vertices tied to the teacher's 468
    points (predicted (B, 468, 2)) to those points (target (B, 468, 2+)), over points and frames."""
    return tf.reduce_mean(tf.reduce_sum(tf.square(predicted - target[..., :2]), -1))
