"""The 239-value coefficient vector of the paper (Sec. 3.1; docs/reproduction.md §1)."""
import collections

import tensorflow as tf

# name -> size, in storage order.
LAYOUT = (
    ("identity", 80),     # alpha
    ("expression", 64),   # beta
    ("texture", 80),      # delta
    ("rotation", 3),      # Euler angles x, y, z (radians)
    ("light", 9),         # gamma: one SH 9-vector shared by R, G, B
    ("translation", 3),
)
NUM_COEFFS = sum(size for _, size in LAYOUT)
SIZES = dict(LAYOUT)

Coeffs = collections.namedtuple("Coeffs", [name for name, _ in LAYOUT])


def _offsets():
    start, out = 0, {}
    for name, size in LAYOUT:
        out[name] = slice(start, start + size)
        start += size
    return out


SLICES = _offsets()


def split(x):
    """(..., 239) tensor -> Coeffs of (..., size) tensors."""
    x = tf.convert_to_tensor(x)
    if x.shape[-1] != NUM_COEFFS:
        raise ValueError(f"expected {NUM_COEFFS} coefficients in the last axis, got shape {x.shape}")
    return Coeffs(*tf.split(x, [size for _, size in LAYOUT], axis=-1))


def join(coeffs):
    """Coeffs (or a dict with the same keys) -> (..., 239) tensor."""
    if isinstance(coeffs, dict):
        coeffs = Coeffs(**coeffs)
    return tf.concat([tf.convert_to_tensor(part, tf.float32) for part in coeffs], axis=-1)
