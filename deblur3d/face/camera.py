"""Pose and the perspective camera of the BFM front model (docs/reproduction.md §3).

Camera at z = 10 (decimetres) looking at the origin, focal 1015 px, principal point
(112, 112), 224×224 image. Image coordinates: x to the right, y down, in pixels, with
pixel centres at integer + 0.5 (the rasterizer's convention).
"""
import dataclasses
import math

import tensorflow as tf


@dataclasses.dataclass(frozen=True)
class Camera:
    focal: float = 1015.0
    center: float = 112.0
    distance: float = 10.0
    image_size: int = 224
    near: float = 0.01
    far: float = 50.0

    @property
    def fov_y(self):
        return 2 * math.atan(self.image_size / 2 / self.focal)

    def project(self, vertices):
        """(B, V, 3) camera-space vertices (after pose) -> (B, V, 2) pixel coordinates.

        The principal point is at the image centre, as in the rasterizer, so the two agree.
        """
        x, y, z = tf.unstack(vertices, axis=-1)
        depth = self.distance - z
        half = self.image_size / 2
        u = self.focal * x / depth + half
        v = self.focal * y / depth + half
        return tf.stack([u, self.image_size - v], axis=-1)

    def view_projection(self):
        """4×4 OpenGL-style matrix: world -> clip space for the tf-graphics rasterizer."""
        # view: camera at (0, 0, distance) looking down -z, +y up = translate by -distance.
        f = 1.0 / math.tan(self.fov_y / 2)
        n, fa = self.near, self.far
        projection = tf.constant([
            [f, 0, 0, 0],
            [0, f, 0, 0],
            [0, 0, (fa + n) / (n - fa), 2 * fa * n / (n - fa)],
            [0, 0, -1, 0],
        ], tf.float32)
        view = tf.constant([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, -self.distance], [0, 0, 0, 1]], tf.float32)
        return projection @ view


def rotation_matrix(angles):
    """(B, 3) Euler angles x, y, z -> (B, 3, 3) R = Rz·Ry·Rx."""
    x, y, z = tf.unstack(angles, axis=-1)
    one, zero = tf.ones_like(x), tf.zeros_like(x)
    rx = tf.stack([one, zero, zero, zero, tf.cos(x), -tf.sin(x), zero, tf.sin(x), tf.cos(x)], -1)
    ry = tf.stack([tf.cos(y), zero, tf.sin(y), zero, one, zero, -tf.sin(y), zero, tf.cos(y)], -1)
    rz = tf.stack([tf.cos(z), -tf.sin(z), zero, tf.sin(z), tf.cos(z), zero, zero, zero, one], -1)
    rx, ry, rz = (tf.reshape(m, [-1, 3, 3]) for m in (rx, ry, rz))
    return rz @ ry @ rx


def rigid_transform(points, rotation, translation=None):
    """Row vectors: p·Rᵀ + t. (B, V, 3), (B, 3, 3), (B, 3) -> (B, V, 3)."""
    out = tf.einsum("bvj,bij->bvi", points, rotation)
    return out if translation is None else out + translation[:, None, :]
