"""Texture and light fitted to the frame: the photometric term of Eq. 3, solved per frame.

ReconNet, trained here on 2 CPU cores from 11 identities, gives every face about the same
colour and light. Once the geometry fits the frame (refine.py), the render's colour under
each visible vertex is linear in the light for a fixed albedo (colour = albedo ⊙ Y(n)·γ,
shading.py) and linear in the albedo coefficients for a fixed light, so both are found by
alternating least squares on the vertices, weighted like Eq. 3 by the skin attention A
and the coefficient prior of Deng et al. (a ridge on δ): no rendering, a few ms a frame.

Two textures (`PriorsSettings.texture`):
- "basis": the model's albedo basis, δ fitted (the paper's priors, fitted instead of
  regressed);
- "frame": the person's own texture, read from the frame under each visible vertex and
  divided by the fitted shading, the basis fit where the vertex is not seen. Not in the
  paper: it makes the render look like this person whatever the basis holds, at the cost
  of carrying the frame's blur into the texture (docs/model.md).
"recon" keeps ReconNet's own texture and light (the paper's way).
"""
import functools

import cv2
import numpy as np
import tensorflow as tf

from deblur3d.face import coeffs as coeffs_lib
from deblur3d.face import shading
from deblur3d.priors.settings import TEXTURES
MIN_FACING = 0.2     # cosine between normal and view ray below which a vertex is not read
FULL_FACING = 0.5    # ... above which the frame's colour is taken whole ("frame")
OCCLUSION = 0.015    # model units (dm): a vertex this far behind the z-buffer is hidden
RIDGE = 0.01         # weight of Σδ² against the squared colour error; chosen on val frames (eval_priors.py:
                     # photometric 10.5 at 3, 9.9 at 0.3, 9.7 at 0.01)


class VertexView:
    """What a frame shows of each vertex: colour (B, V, 3) sampled where it projects,
    facing (B, V) cosine towards the camera, sh (B, V, 9) the irradiance basis Y(n)."""

    def __init__(self, renderer, coeffs, images):
        v, normals, uv, zbuffer = renderer.view(coeffs)
        ray = np.array([0.0, 0.0, renderer.camera.distance], np.float32) - v
        self.facing = np.einsum("bvc,bvc->bv", normals, ray / np.linalg.norm(ray, axis=-1, keepdims=True))
        self.sh = shading.sh_basis(tf.constant(normals)).numpy()
        self.uv = uv
        self.colour = np.stack([sample(image, points) for image, points in zip(np.asarray(images, np.float32), uv)])
        size = np.asarray(images).shape[1:3]
        inside = (uv >= 0).all(-1) & (uv[..., 0] < size[1]) & (uv[..., 1] < size[0])
        # Seen: facing the camera, and not more than OCCLUSION behind the z-buffer where it
        # projects. The z-buffer's farthest depth over 3x3 pixels is used: a vertex by an
        # occluder's edge is not hidden by a neighbour pixel, and one by the silhouette (the
        # background within a pixel) is not read.
        kernel = np.ones((3, 3), np.uint8)
        behind = np.stack([cv2.dilate(z, kernel)[np.clip(p[:, 1].astype(int), 0, z.shape[0] - 1),
                                                 np.clip(p[:, 0].astype(int), 0, z.shape[1] - 1)]
                           for z, p in zip(zbuffer, uv)])
        depth = renderer.camera.distance - v[..., 2]
        self.visible = (self.facing > MIN_FACING) & inside & (behind < 1e5) & (depth < behind + OCCLUSION)


def sample(image, points):
    """Bilinear colours (N, C) of an (H, W, C) image at pixel positions (N, 2) (centres at +0.5)."""
    xy = (np.asarray(points, np.float32) - 0.5).reshape(-1, 1, 2)
    out = cv2.remap(np.asarray(image, np.float32), xy[..., 0], xy[..., 1], cv2.INTER_LINEAR,
                    borderMode=cv2.BORDER_REPLICATE)
    return out.reshape(len(xy), -1)


@functools.lru_cache(maxsize=4)
def used_albedo_basis(model):
    """The slots of a model's albedo basis that are not all zero, and those components flat,
    (K, V·3): found once per model, not per frame (the scan reads the whole basis)."""
    basis = model.albedo_basis
    used = np.flatnonzero(np.abs(basis).reshape(len(basis), -1).max(1) > 0)
    return used, np.ascontiguousarray(basis[used].reshape(len(used), -1))


def fit_light_and_albedo(model, colour, sh, weight, iterations=4, ridge=None):
    """One frame's light γ (9,) and albedo coefficients δ (80,) by alternating weighted
    least squares on its vertices: colour (V, 3), sh (V, 9), weight (V,) = attention ×
    visibility. The basis's unused slots stay zero."""
    ridge = RIDGE if ridge is None else ridge
    used, flat = used_albedo_basis(model)
    rows = np.flatnonzero(weight > 0)
    w = np.sqrt(weight[rows])
    columns = (3 * rows[:, None] + np.arange(3)).reshape(-1)   # the rows' (vertex, channel) entries
    mean, b, y, c = model.mean_albedo[rows], flat[:, columns], sh[rows], colour[rows]
    delta = np.zeros(len(used))
    light = np.zeros(9)
    for _ in range(iterations):
        albedo = mean + (delta @ b).reshape(-1, 3)
        # colour = albedo ⊙ (Y·γ): one γ for the three channels
        design = (albedo[:, :, None] * y[:, None, :]) * w[:, None, None]
        light = np.linalg.lstsq(design.reshape(-1, 9), (c * w[:, None]).reshape(-1), rcond=None)[0]
        irradiance = y @ light
        if not len(used):   # a constant albedo: the light is all there is to fit
            break
        # colour − mean ⊙ irradiance = Σ_k δ_k B_k ⊙ irradiance, each vertex's rows weighted by w
        scaled = b * np.repeat(irradiance * w, 3)
        target = ((c - mean * irradiance[:, None]) * w[:, None]).reshape(-1)
        delta = np.linalg.solve(scaled @ scaled.T + ridge * np.eye(len(used)), scaled @ target)
    full = np.zeros(coeffs_lib.SIZES["texture"], np.float32)
    full[used] = delta
    light = light.astype(np.float32)
    light[0] -= shading.AMBIENT   # the renderer adds it back
    return light, full


def fit_texture(renderer, coeffs, images, attention=None, texture="basis"):
    """(B, 239) coefficients whose geometry fits `images` (B, 224, 224, 3) in [0, 1] ->
    (coefficients with light and texture fitted, per-vertex albedo (B, V, 3) or None).

    `attention` (B, 224, 224, 1): Eq. 3's skin attention A (None: 1). The albedo is
    returned for texture="frame" only (the person's own texture, beyond the paper)."""
    coeffs = np.array(coeffs, np.float32, copy=True)
    if texture == "recon":
        return coeffs, None
    if texture not in TEXTURES:
        raise ValueError(f"unknown texture {texture!r}: use one of {', '.join(TEXTURES)}")
    model = renderer.face_model
    view = VertexView(renderer, coeffs, images)
    skin = model.skin_mask & model.photo_mask
    if attention is not None:
        a = np.stack([sample(att, points)[:, 0] for att, points in zip(np.asarray(attention, np.float32), view.uv)])
    else:
        a = np.ones(view.facing.shape, np.float32)
    albedos = []
    for i in range(len(coeffs)):
        light, delta = fit_light_and_albedo(model, view.colour[i], view.sh[i], a[i] * (view.visible[i] & skin))
        coeffs[i, coeffs_lib.SLICES["light"]] = light
        coeffs[i, coeffs_lib.SLICES["texture"]] = delta
        if texture == "frame":
            used, flat = used_albedo_basis(model)
            fitted = model.mean_albedo + (delta[used] @ flat).reshape(-1, 3)
            irradiance = np.maximum(view.sh[i] @ (light + np.eye(9, dtype=np.float32)[0] * shading.AMBIENT), 0.05)
            seen = np.clip(view.colour[i] / irradiance[:, None], 0, 1)
            trust = np.clip((view.facing[i] - MIN_FACING) / (FULL_FACING - MIN_FACING), 0, 1)[:, None]
            trust = trust * view.visible[i][:, None]
            albedos.append((trust * seen + (1 - trust) * fitted).astype(np.float32))
    return coeffs, (np.stack(albedos) if albedos else None)


class TextureHold:
    """Light and texture of one face along its track (the video tool's; batches of one frame):
    fitted on one frame in `every` and held between. The face's albedo does not change from
    frame to frame, nor the room's light (the renderer turns the normals with the head, so a
    held light still shades a turning face), and the fit is a tenth of a frame's time.
    `every=1` fits every frame, as the priors of training and evaluation are made."""
    HELD = ("texture", "light")

    def __init__(self, every):
        if every < 1:
            raise ValueError(f"every must be >= 1, got {every}")
        self.every, self.frames, self.kept = every, 0, None

    def due(self):
        """Whether this frame's light and texture are to be fitted (counts the frame)."""
        due = self.kept is None or self.frames % self.every == 0
        self.frames += 1
        return due

    def keep(self, coeffs, albedo):
        self.kept = ({name: np.array(coeffs[:, coeffs_lib.SLICES[name]], copy=True) for name in self.HELD},
                     None if albedo is None else np.array(albedo))
        return coeffs, albedo

    def apply(self, coeffs):
        """(1, 239) coefficients with the held light and texture -> (coefficients, albedo)."""
        coeffs = np.array(coeffs, np.float32, copy=True)
        for name, value in self.kept[0].items():
            coeffs[:, coeffs_lib.SLICES[name]] = value
        return coeffs, self.kept[1]
