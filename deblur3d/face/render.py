"""From 239 coefficients to a rendered face: the render box of the paper's Figure 2.

coefficients -> shape and albedo (model) -> pose (camera) -> SH shading -> tf-graphics
rasterizer -> 224×224 image in [0, 1] (black background) + coverage mask.
"""
import collections

import tensorflow as tf

from deblur3d.face import coeffs as coeffs_lib
from deblur3d.face import shading
from deblur3d.face.camera import Camera, rigid_transform, rotation_matrix


def _rasterizer():
    try:
        from tensorflow_graphics.rendering import triangle_rasterizer
        from tensorflow_graphics.rendering.rasterization_backend import RasterizationBackends
    except (ImportError, tf.errors.NotFoundError) as error:
        raise RuntimeError(
            "the tf-graphics rasterizer op does not load in this TensorFlow; build it with "
            "`make rasterizer` (python -m deblur3d.face.build_rasterizer)") from error
    # tf-graphics picks its backend with importlib on each call, which AutoGraph cannot
    # convert (it warns, once per trace): the rasterizer is plain TF ops, left unconverted.
    return tf.autograph.experimental.do_not_convert(triangle_rasterizer.rasterize), RasterizationBackends.CPU


# image (B, H, W, 3), mask: coverage (B, H, W, 1), region: coverage of the model's
# photometric region (M of paper Eq. 3), landmarks (B, 68, 2) in pixels, albedo (B, V, 3).
Rendering = collections.namedtuple("Rendering", ["image", "mask", "region", "landmarks", "albedo"])


class FaceRenderer:
    """Renders a batch of coefficient vectors with one face model and one camera.

    Differentiable with respect to the coefficients (not through visibility changes,
    as the rasterizer gives no gradient there); usable inside `tf.function`.
    """

    def __init__(self, face_model, camera=None, cull_back_faces=False):
        self.face_model = face_model
        self.camera = camera or Camera()
        self.cull_back_faces = cull_back_faces
        self._rasterize, self._backend = _rasterizer()
        self._view = None   # view()'s graph, traced on first use

    def geometry(self, coeffs, albedo=None):
        """Posed vertices, shaded vertex colours, albedo (B, V, 3 each), landmarks (B, 68, 2).
        `albedo` (B, V, 3): a per-vertex albedo instead of the model's (priors/texture.py)."""
        c = coeffs_lib.split(coeffs)
        model = self.face_model
        shape = model.shape(c.identity, c.expression)
        rotation = rotation_matrix(c.rotation)
        vertices = rigid_transform(shape, rotation, c.translation)
        normals = rigid_transform(model.normals(shape), rotation)
        albedo = model.albedo(c.texture) if albedo is None else tf.convert_to_tensor(albedo, tf.float32)
        colors = shading.shade(albedo, normals, c.light)
        landmarks = self.camera.project(tf.gather(vertices, model.tensors["landmarks"], axis=1))
        return vertices, colors, albedo, landmarks

    def landmarks(self, coeffs):
        """(B, 68, 2) pixels: the landmarks of `geometry` from their 68 vertices alone,
        without the whole mesh, its shading or the rasterizer."""
        return self.points(coeffs, self.face_model.tensors["landmarks"])

    def points(self, coeffs, vertex_ids):
        """(B, N, 2) pixels of the posed vertices `vertex_ids` (N,), computed from them alone."""
        c = coeffs_lib.split(tf.convert_to_tensor(coeffs, tf.float32))
        shape = self.face_model.shape(c.identity, c.expression, vertex_ids)
        return self.camera.project(rigid_transform(shape, rotation_matrix(c.rotation), c.translation))

    def rasterize(self, vertices, attributes):
        """Posed vertices (B, V, 3) + per-vertex attributes {name: (B, V, C)} -> images
        {name: (B, H, W, C)} and "mask" (B, H, W, 1), row 0 on top."""
        batch = vertices.shape[0]
        if batch is None:
            raise ValueError("FaceRenderer needs a static batch size (the CPU rasterizer loops over it)")
        size = self.camera.image_size
        view_projection = tf.tile(self.camera.view_projection()[None], [batch, 1, 1])
        out = self._rasterize(vertices, self.face_model.tensors["triangles"], attributes, view_projection,
                              (size, size), enable_cull_face=self.cull_back_faces, backend=self._backend)
        # The rasterizer's row 0 is the bottom of the image (OpenGL); images have it on top.
        return {k: tf.reverse(out[k], axis=[1]) for k in list(attributes) + ["mask"]}

    def view(self, coeffs):
        """What the camera sees of each vertex, for reading a frame's colours (priors/texture.py):
        posed vertices (B, V, 3), unit normals (B, V, 3), pixel positions (B, V, 2) and the
        z-buffer (B, H, W), the depth of the nearest surface (1e6 off the face). One traced
        graph: the rasterizer retraces itself at every eager call."""
        if self._view is None:
            self._view = tf.function(self._view_graph, autograph=False)   # one trace per batch size
        return [t.numpy() for t in self._view(tf.convert_to_tensor(coeffs, tf.float32))]

    def _view_graph(self, coeffs):
        vertices = self.geometry(coeffs)[0]
        out = self.rasterize(vertices, {"depth": self.camera.distance - vertices[..., 2:]})
        zbuffer = tf.where(out["mask"][..., 0] > 0, out["depth"][..., 0], 1e6)
        return vertices, self.face_model.normals(vertices), self.camera.project(vertices), zbuffer

    def __call__(self, coeffs, albedo=None):
        coeffs = tf.convert_to_tensor(coeffs, tf.float32)
        vertices, colors, albedo, landmarks = self.geometry(coeffs, albedo)
        region = tf.tile(self.face_model.tensors["photo_mask"][None], [coeffs.shape[0] or 1, 1, 1])
        out = self.rasterize(vertices, {"color": colors, "region": region})
        image, mask, region = out["color"], out["mask"], out["region"]
        return Rendering(image=image * mask, mask=mask, region=region * mask, landmarks=landmarks, albedo=albedo)
