"""The face model fitted to the teacher's 468 points: identity, bounded expression and pose.

Each teacher point is tied to one face-model vertex (face/mediapipe_mesh.py). The fit
minimises, per frame, the squared pixel distance of the projected vertices to the points in
the 224 aligned crop, plus their relative depth (the teacher's z, same pixels), plus a prior
on identity and expression; Adam on those coefficients from the mean face, projected so
ICT's expression weights stay in [0, 1]. With `shared_identity` the frames of one call are
one person (a track, or a photo's copies): their identity is held at its mean after each step.
"""
import numpy as np
import tensorflow as tf

from deblur3d.face import coeffs as coeffs_lib
from deblur3d.face.camera import rigid_transform, rotation_matrix

FITTED = ("identity", "expression", "rotation", "translation")


def _mask(names):
    m = np.zeros(coeffs_lib.NUM_COEFFS, np.float32)
    for name in names:
        m[coeffs_lib.SLICES[name]] = 1.0
    return tf.constant(m)


class MeshFitter:
    """points (B, N, 3) in the 224 crop -> coefficients (B, 239); texture and light zero.

    `vertex_ids` (N,): the vertex each point is tied to; `weights` (N,): each point's weight
    in the xy term (mean over points); `depth` (N,) 0/1: the points whose z counts (the
    teacher's; dlib's 68 points have none)."""

    def __init__(self, renderer, vertex_ids, weights=None, depth=None, steps=400, learning_rate=0.05,
                 depth_weight=0.5, identity_prior=0.02, expression_prior=0.05):
        self.renderer, self.steps, self.learning_rate = renderer, steps, learning_rate
        n = len(vertex_ids)
        self.vertex_ids = tf.constant(np.asarray(vertex_ids, np.int32))
        self.weights = tf.constant(np.ones(n, np.float32) if weights is None else np.asarray(weights, np.float32))
        self.depth = tf.constant(np.ones(n, np.float32) if depth is None else np.asarray(depth, np.float32))
        self.depth_weight, self.identity_prior, self.expression_prior = depth_weight, identity_prior, expression_prior
        # Depth is held: in the aligned crop a nearer face and a larger one project alike, and
        # the crop already scales every face alike; the identity takes the size.
        free = _mask(FITTED).numpy()
        free[coeffs_lib.SLICES["translation"].stop - 1] = 0.0
        self.free, self.identity_mask = tf.constant(free), _mask(["identity"])
        self._fit = tf.function(self._adam, reduce_retracing=True)

    def project(self, coeffs):
        """(B, 239) -> (B, N, 3): the tied vertices in crop pixels, z as the teacher's
        (toward the camera negative, in pixels at the face's distance)."""
        c = coeffs_lib.split(coeffs)
        model, camera = self.renderer.face_model, self.renderer.camera
        shape = model.shape(c.identity, c.expression, self.vertex_ids)
        posed = rigid_transform(shape, rotation_matrix(c.rotation), c.translation)
        xy = camera.project(posed)
        return tf.concat([xy, -posed[..., 2:] * camera.focal / camera.distance], -1)

    def residuals(self, coeffs, points):
        """Per frame (B,): weighted mean squared xy distance + depth_weight × mean squared
        distance of the depths (each about its mean over the points that have one)."""
        projected = self.project(coeffs)
        count = tf.reduce_sum(self.depth)

        def centred(z):
            return (z - tf.reduce_sum(z * self.depth, 1, keepdims=True) / count) * self.depth
        xy = tf.reduce_sum(tf.square(projected[..., :2] - points[..., :2]), -1)
        z = tf.square(centred(projected[..., 2]) - centred(points[..., 2]))
        return (tf.reduce_sum(xy * self.weights, -1) / tf.reduce_sum(self.weights)
                + self.depth_weight * tf.reduce_sum(z, -1) / count)

    def loss(self, coeffs, points):
        c = coeffs_lib.split(coeffs)
        return (self.residuals(coeffs, points) + self.identity_prior * tf.reduce_sum(tf.square(c.identity), -1)
                + self.expression_prior * tf.reduce_sum(tf.square(c.expression), -1))

    def _adam(self, coeffs, points, shared):
        b1, b2, eps = 0.9, 0.999, 1e-8
        model = self.renderer.face_model

        def hold(x):
            mean = tf.reduce_mean(x, 0, keepdims=True)
            return tf.where(shared, x * (1 - self.identity_mask) + mean * self.identity_mask, x)

        def step(i, x, m, v):
            with tf.GradientTape() as tape:
                tape.watch(x)
                total = tf.reduce_sum(self.loss(x, points))   # frames are independent: a sum
            g = tape.gradient(total, x) * self.free
            m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
            t = tf.cast(i + 1, tf.float32)
            rate = self.learning_rate * (1.0 - 0.9 * t / self.steps)   # down to a tenth: Adam settles
            x = x - rate * (m / (1 - b1 ** t)) / (tf.sqrt(v / (1 - b2 ** t)) + eps)
            return i + 1, hold(model.bound(x)), m, v

        zeros = tf.zeros_like(coeffs)
        _, x, _, _ = tf.while_loop(lambda i, *_: i < self.steps, step, (tf.constant(0), model.bound(coeffs), zeros, zeros))
        return x

    def __call__(self, points, init=None, shared_identity=False):
        points = tf.convert_to_tensor(points, tf.float32)
        init = tf.zeros([points.shape[0], coeffs_lib.NUM_COEFFS]) if init is None else tf.convert_to_tensor(init, tf.float32)
        return self._fit(init, points, tf.constant(bool(shared_identity))).numpy()


def joint_fitter(renderer, mesh_ids, **kwargs):
    """A MeshFitter to the teacher's 468 points (x, y, z) followed by dlib's 68 (x, y), each
    set with the same total weight: the teacher shapes the face, dlib's points keep its
    landmarks where the 68-point metric looks (alone, the teacher leaves them 5.8 px off on
    32 val stills; jointly 2.9, at 3.5 px rms from the teacher's points)."""
    n = len(mesh_ids)
    ids = np.concatenate([mesh_ids, renderer.face_model.landmarks])
    weights = np.concatenate([np.ones(n), np.full(68, n / 68)])
    depth = np.concatenate([np.ones(n), np.zeros(68)])
    return MeshFitter(renderer, ids, weights, depth, **kwargs)
