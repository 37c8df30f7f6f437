"""An open albedo basis for the ICT model, learned from our training frames.

For each training identity: fit pose, shape, expression and light to a few sharp aligned
frames through the renderer (landmarks first, then landmarks + photometric), read the
colour under each visible vertex, divide by the shading, and average over the frames.
The mean over identities and the principal components of their spread (scaled by their
standard deviation, so delta ~ N(0, 1) like the BFM's) form the basis. Only skin vertices
are learned; the eyeballs keep their constant colours.
"""
import numpy as np
import tensorflow as tf

from deblur3d.face import coeffs as coeffs_lib
from deblur3d.recon import losses

FITTED = ("identity", "expression", "rotation", "light", "translation")


def fit_coefficients(renderer, images, points68, steps=(100, 60), learning_rate=0.02):
    """Per-image optimisation of everything but texture: (B, 239) coefficients.

    `steps`: iterations with landmarks alone, then with the photometric term added.
    """
    batch = images.shape[0]
    x = tf.Variable(tf.zeros([batch, coeffs_lib.NUM_COEFFS]))
    free = np.zeros(coeffs_lib.NUM_COEFFS, np.float32)
    for name in FITTED:
        free[coeffs_lib.SLICES[name]] = 1.0
    free = tf.constant(free)
    optimizer = tf.keras.optimizers.Adam(learning_rate)

    @tf.function
    def step(photometric_weight):
        with tf.GradientTape() as tape:
            rendering = renderer(x)
            loss = (1.6e-3 * losses.landmark_loss(rendering.landmarks, points68)
                    + photometric_weight * losses.photometric_loss(images, rendering.image, rendering.region)
                    + 3e-4 * losses.coefficient_regularizer(x))
        optimizer.apply_gradients([(tape.gradient(loss, x) * free, x)])
        return loss

    for photometric_weight, count in zip((0.0, 1.92), steps):
        for _ in range(count):
            step(tf.constant(photometric_weight))
    return x.numpy()


def observed_albedo(renderer, coeffs, images, min_facing=0.3):
    """Albedo seen under each vertex: image colour / shading. -> (B, V, 3), visibility (B, V)."""
    vertices, colors, albedo, _ = renderer.geometry(tf.constant(coeffs))
    uv = renderer.camera.project(vertices).numpy()
    shading = (colors / tf.maximum(albedo, 1e-6)).numpy()
    normals = renderer.face_model.normals(vertices).numpy()
    to_camera = np.array([0.0, 0.0, renderer.camera.distance]) - vertices.numpy()
    facing = np.einsum("bvc,bvc->bv", normals, to_camera / np.linalg.norm(to_camera, axis=-1, keepdims=True))
    size = images.shape[1]
    col = np.clip(np.round(uv[..., 0] - 0.5), 0, size - 1).astype(int)
    row = np.clip(np.round(uv[..., 1] - 0.5), 0, size - 1).astype(int)
    seen = np.stack([np.asarray(images)[b, row[b], col[b]] for b in range(len(images))])
    visible = (facing > min_facing) & (shading.min(-1) > 0.05)
    return seen / np.maximum(shading, 0.05), visible


def identity_albedo(estimates, visible, fallback):
    """Visibility-weighted mean over one identity's frames; unseen vertices take `fallback`."""
    weight = visible.astype(np.float64)[..., None]
    count = weight.sum(0)
    mean = (estimates * weight).sum(0) / np.maximum(count, 1)
    return np.where(count > 0, mean, fallback).astype(np.float32)


def build_basis(per_identity, constant_albedo, skin_mask):
    """(N, V, 3) identity albedos -> mean (V, 3), components (N-1, V, 3) scaled by std.

    Off the skin region the mean stays `constant_albedo` and the components are zero.
    """
    n = len(per_identity)
    flat = per_identity[:, skin_mask].reshape(n, -1).astype(np.float64)
    mean = flat.mean(0)
    _, s, vt = np.linalg.svd(flat - mean, full_matrices=False)
    k = max(n - 1, 0)
    components = vt[:k] * (s[:k, None] / np.sqrt(max(n - 1, 1)))
    mean_albedo = constant_albedo.copy()
    mean_albedo[skin_mask] = mean.reshape(-1, 3)
    basis = np.zeros((k,) + constant_albedo.shape, np.float32)
    basis[:, skin_mask] = components.reshape(k, -1, 3)
    return np.clip(mean_albedo, 0, 1).astype(np.float32), basis
