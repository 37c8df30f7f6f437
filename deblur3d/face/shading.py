"""Spherical-harmonics lighting (docs/reproduction.md §3): colour = albedo ⊙ (Y(n) · gamma)."""
import math

import tensorflow as tf

# Added to gamma[0] before shading, so an all-zero light vector gives a lit face (docs/reproduction.md §1).
AMBIENT = 0.8

_A = (math.pi, 2 * math.pi / math.sqrt(3.0), 2 * math.pi / math.sqrt(8.0))
_C = (1 / math.sqrt(4 * math.pi), math.sqrt(3.0) / math.sqrt(4 * math.pi),
      3 * math.sqrt(5.0) / math.sqrt(12 * math.pi))


def sh_basis(normals):
    """(..., 3) unit normals -> (..., 9) band-limited irradiance basis Y(n)."""
    nx, ny, nz = tf.unstack(normals, axis=-1)
    b1, b2 = _A[1] * _C[1], _A[2] * _C[2]
    return tf.stack([
        tf.fill(tf.shape(nx), _A[0] * _C[0]),
        -b1 * ny, b1 * nz, -b1 * nx,
        b2 * nx * ny, -b2 * ny * nz, b2 * 0.5 / math.sqrt(3.0) * (3 * nz ** 2 - 1),
        -b2 * nx * nz, b2 * 0.5 * (nx ** 2 - ny ** 2),
    ], axis=-1)


def shade(albedo, normals, light):
    """albedo (B, V, 3), normals (B, V, 3), light (B, 9) -> (B, V, 3) vertex colours.

    One 9-vector lights all three channels: the paper's 239 layout, not Deep3D's 27.
    """
    light = light + tf.constant([AMBIENT] + [0.0] * 8, light.dtype)
    irradiance = tf.einsum("bvk,bk->bv", sh_basis(normals), light)
    return albedo * irradiance[..., None]
