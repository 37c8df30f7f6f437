"""A 3D morphable face model behind one interface, whatever file it came from.

Eq. 1 and 2 of the paper: S = S_mean + B_id alpha + B_exp beta, T = T_mean + B_t delta.
Both the Basel model (`bfm.py`) and the open ICT model (`ict.py`) are turned into a
`FaceModel`; everything downstream (shading, rendering, losses) only sees this class.
"""
import dataclasses

import numpy as np
import tensorflow as tf

from deblur3d.face import coeffs as coeffs_lib


@dataclasses.dataclass(frozen=True, eq=False)
class FaceModel:
    """Arrays of a face model, in the units and axes of the BFM "front" model.

    Geometry is in decimetres, centred on the mean shape's centroid, +y up, the face
    looking toward +z. Albedo is linear RGB in [0, 1] (the BFM's 0-255 divided by 255).
    Bases are stored component-major, (K, V, 3), with K = 80 / 64 / 80 as in the
    239-coefficient layout; models with fewer components are zero-padded.
    """

    name: str
    mean_shape: np.ndarray      # (V, 3) float32
    id_basis: np.ndarray        # (80, V, 3) float32
    exp_basis: np.ndarray       # (64, V, 3) float32
    mean_albedo: np.ndarray     # (V, 3) float32
    albedo_basis: np.ndarray    # (80, V, 3) float32
    triangles: np.ndarray       # (T, 3) int32, 0-based
    point_buf: np.ndarray       # (V, P) int32, 0-based triangle ids; T = padding
    landmarks: np.ndarray       # (68,) int32 vertex ids
    skin_mask: np.ndarray       # (V,) bool: vertices of the albedo-flatness region
    photo_mask: np.ndarray      # (V,) bool: vertices of the photometric-loss region
    # Valid range of the expression weights: ICT's blendshapes are FACS-style weights in
    # [0, 1] (outside it an eyelid passes through the eyeball: the eye turns inside out);
    # None for a PCA basis such as the BFM's, whose coefficients are unbounded.
    expression_range: tuple | None = None

    def __post_init__(self):
        v = self.mean_shape.shape[0]
        expected = {
            "mean_shape": (v, 3),
            "id_basis": (coeffs_lib.SIZES["identity"], v, 3),
            "exp_basis": (coeffs_lib.SIZES["expression"], v, 3),
            "mean_albedo": (v, 3),
            "albedo_basis": (coeffs_lib.SIZES["texture"], v, 3),
            "triangles": (None, 3),
            "point_buf": (v, None),
            "landmarks": (68,),
            "skin_mask": (v,),
            "photo_mask": (v,),
        }
        for field, shape in expected.items():
            got = getattr(self, field).shape
            if len(got) != len(shape) or any(e is not None and e != g for e, g in zip(shape, got)):
                want = "×".join("*" if e is None else str(e) for e in shape)
                raise ValueError(f"face model {self.name!r}: {field} has shape {got}, expected ({want})")
        t = len(self.triangles)
        if self.triangles.min() < 0 or self.triangles.max() >= v:
            raise ValueError(f"face model {self.name!r}: triangle indices outside 0..{v - 1}")
        if self.point_buf.min() < 0 or self.point_buf.max() > t:
            raise ValueError(f"face model {self.name!r}: point_buf entries outside 0..{t} ({t} = padding)")
        if self.landmarks.min() < 0 or self.landmarks.max() >= v:
            raise ValueError(f"face model {self.name!r}: landmark ids outside 0..{v - 1}")

    @property
    def num_vertices(self):
        return self.mean_shape.shape[0]

    @property
    def num_triangles(self):
        return self.triangles.shape[0]

    # --- TensorFlow side: constants made once, so tf.function captures them by reference.

    @property
    def tensors(self):
        cached = self.__dict__.get("_tensors")
        if cached is None:
            with tf.init_scope():  # eager even when first asked for inside a tf.function
                cached = {
                    name: tf.constant(getattr(self, name))
                    for name in ("mean_shape", "id_basis", "exp_basis", "mean_albedo", "albedo_basis",
                                 "triangles", "point_buf", "landmarks")
                }
                cached["photo_mask"] = tf.constant(self.photo_mask, tf.float32)[:, None]
                cached["skin_mask"] = tf.constant(self.skin_mask, tf.float32)
            object.__setattr__(self, "_tensors", cached)
        return cached

    def bound_expression(self, expression):
        """Expression weights (..., 64) clipped to `expression_range` (unchanged without one)."""
        if self.expression_range is None:
            return expression
        return tf.clip_by_value(expression, *self.expression_range)

    def bound(self, coeffs):
        """(..., 239) coefficients -> tensor with the expression part in its valid range."""
        coeffs = tf.convert_to_tensor(coeffs, tf.float32)
        if self.expression_range is None:
            return coeffs
        parts = coeffs_lib.split(coeffs)._asdict()
        parts["expression"] = self.bound_expression(parts["expression"])
        return coeffs_lib.join(parts)

    def shape(self, identity, expression, vertex_ids=None):
        """(B, 80), (B, 64) -> (B, V, 3) vertices in model space (Eq. 1); with `vertex_ids`,
        only those vertices (B, len(ids), 3), computed from their rows of the bases alone.
        Expression weights outside `expression_range` act as its ends."""
        t = self.tensors
        expression = self.bound_expression(expression)
        mean, id_basis, exp_basis = t["mean_shape"], t["id_basis"], t["exp_basis"]
        if vertex_ids is not None:
            mean, id_basis, exp_basis = (tf.gather(mean, vertex_ids), tf.gather(id_basis, vertex_ids, axis=1),
                                         tf.gather(exp_basis, vertex_ids, axis=1))
        return (mean
                + tf.einsum("bk,kvc->bvc", identity, id_basis)
                + tf.einsum("bk,kvc->bvc", expression, exp_basis))

    def albedo(self, texture):
        """(B, 80) -> (B, V, 3) per-vertex albedo (Eq. 2)."""
        t = self.tensors
        return t["mean_albedo"] + tf.einsum("bk,kvc->bvc", texture, t["albedo_basis"])

    def normals(self, vertices):
        """(B, V, 3) -> (B, V, 3) unit vertex normals.

        Triangle normals are normalised, summed over each vertex's `point_buf`
        entries and normalised again (docs/reproduction.md §3); the padding id reads a zero normal.
        """
        t = self.tensors
        tri = t["triangles"]
        v0, v1, v2 = (tf.gather(vertices, tri[:, k], axis=1) for k in range(3))
        face_normals = tf.math.l2_normalize(tf.linalg.cross(v1 - v0, v2 - v1), axis=-1)
        padded = tf.pad(face_normals, [[0, 0], [0, 1], [0, 0]])
        summed = tf.reduce_sum(tf.gather(padded, t["point_buf"], axis=1), axis=2)
        return tf.math.l2_normalize(summed, axis=-1)


def point_buffer(triangles, num_vertices):
    """For each vertex, the ids of its triangles, padded with len(triangles).

    Models that do not ship a `point_buf` (the ICT model) get one built the same way.
    """
    triangles = np.asarray(triangles)
    t = len(triangles)
    owners = [[] for _ in range(num_vertices)]
    for tri_id, tri in enumerate(triangles):
        for vertex in tri:
            owners[vertex].append(tri_id)
    width = max(1, max(len(o) for o in owners))
    buf = np.full((num_vertices, width), t, np.int32)
    for vertex, tris in enumerate(owners):
        buf[vertex, :len(tris)] = tris
    return buf


def pad_components(basis, count):
    """(K, V, 3) -> (count, V, 3): keep the first `count` components, zero-fill the rest."""
    basis = np.asarray(basis, np.float32)[:count]
    if len(basis) < count:
        basis = np.concatenate([basis, np.zeros((count - len(basis),) + basis.shape[1:], np.float32)])
    return basis
