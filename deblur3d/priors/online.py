"""The 3D priors of a frame, computed inside the graph: the arrows of Figure 2 from the
reconstruction branch into the deblurring branch.

blurry centre frame + its five points -> 224 aligned crop -> ReconNet -> coefficients ->
render -> pasted back into the frame's geometry with the exact inverse of the crop.
`export_priors.py` stores these per frame, as the authors precomputed them; the online
mode of the deblurring trainer calls the same code inside the training step.
"""
import dataclasses

import numpy as np
import tensorflow as tf

from deblur3d import paths
from deblur3d.data.blur import centre_frame
from deblur3d.face import coeffs as coeffs_lib
from deblur3d.face.align import alignment_params, crop, uncrop
from deblur3d.priors import refine as refine_lib
from deblur3d.priors import texture as texture_lib
from deblur3d.priors.settings import PAPER_RECIPE, PriorsSettings


class OnlinePriors:
    """batch -> (render in the batch's frame geometry, identity alpha), as DeblurTask expects.

    Without `trainable`, no gradient flows back into the reconstruction branch.
    """

    def __init__(self, recon_net, renderer, trainable=False):
        self.recon_net, self.renderer, self.trainable = recon_net, renderer, trainable

    def coefficients(self, frame, points5):
        """frame (B, H, W, 3) + its five points -> ReconNet's 239 coefficients (B, 239), the
        expression in the face model's valid range."""
        return self.renderer.face_model.bound(self.recon_net(crop(frame, alignment_params(points5)), training=False))

    def render(self, coeffs, points5, height, width, albedo=None):
        """-> render (B, H, W, 3) and coverage (B, H, W, 1) in the frame geometry of `points5`;
        `albedo` (B, V, 3): a per-vertex albedo instead of the coefficients' (texture "frame")."""
        rendering = self.renderer(coeffs, albedo)
        both = uncrop(tf.concat([rendering.image, rendering.mask], -1), alignment_params(points5), height, width)
        return both[..., :3], both[..., 3:]

    def frame_priors(self, blurry, points5):
        """-> render (B, H, W, 3), coverage (B, H, W, 1), coefficients (B, 239)."""
        coeffs = self.coefficients(centre_frame(blurry), points5)
        render, coverage = self.render(coeffs, points5, tf.shape(blurry)[1], tf.shape(blurry)[2])
        return render, coverage, coeffs

    def __call__(self, batch):
        render, _, coeffs = self.frame_priors(batch["blurry"], batch["points5"])
        if not self.trainable:
            render, coeffs = tf.stop_gradient(render), tf.stop_gradient(coeffs)
        return render, coeffs[..., coeffs_lib.SLICES["identity"]]


def build_online_priors(settings=PriorsSettings(recon_weights=None), data_dir=None, trainable=False):
    """The one way the priors are assembled: ReconNet (untrained without weights) + the face
    model's renderer. Used by online training, export_priors, the frame-by-frame priors of
    evaluation and the video tool, and the benchmarks."""
    # Imported here: recon.training brings the whole training stack with it.
    from deblur3d.face import load_face_model
    from deblur3d.face.render import FaceRenderer
    from deblur3d.recon.training import build_net
    settings = settings.made_as(PAPER_RECIPE)   # what no model or export settled: the paper's
    renderer = FaceRenderer(load_face_model(settings.face_model, settings.model_path, data_dir,
                                            albedo_path=settings.albedo_path))
    return OnlinePriors(build_net(settings.recon_weights), renderer, trainable=trainable)


class OnlineFramePriors:
    """ReconNet + renderer on one frame: (1, H, W, 15), (1, 5, 2) -> render, identity alpha.

    Used where priors are computed frame by frame (evaluation, the video tool). Built by
    `available()` (False, with `reason`, when the face model cannot be loaded). Without the
    recon weights the net is untrained (`trained` False): fine for timing and tests only.
    """

    def __init__(self, settings=PriorsSettings(), data_dir=None):
        self.settings, self.data_dir = settings.made_as(PAPER_RECIPE), data_dir   # as build_online_priors
        self._fn, self.reason = None, None
        self.trained = self.settings.trained

    def available(self):
        if self._fn is None and self.reason is None:
            try:
                settings = self.settings if self.trained else dataclasses.replace(self.settings, recon_weights=None)
                online = build_online_priors(settings, self.data_dir)
            except (OSError, RuntimeError) as err:   # no face model file, no rasterizer op
                self.reason = str(err)
                return False
            # No Python control flow on tensors inside; AutoGraph would only trip on its imports.
            self._fn = tf.function(online.frame_priors, reduce_retracing=True, autograph=False)
            self._coefficients = tf.function(online.coefficients, reduce_retracing=True, autograph=False)
            self._render = tf.function(online.render, reduce_retracing=True, autograph=False)
            self._crop = tf.function(lambda f, p: crop(f, alignment_params(p)), reduce_retracing=True, autograph=False)
            self.renderer = online.renderer
            self._attention = None
            if self.settings.recipe["texture"] != "recon" and paths.SKIN_MODEL.is_file():
                from deblur3d.recon.skin import SkinModel   # Eq. 3's attention A
                # A graph: about a third faster than eager on a 224² crop, the same values.
                self._attention = tf.function(SkinModel.load(paths.SKIN_MODEL).probability,
                                              reduce_retracing=True, autograph=False)
            if self.refining:
                from deblur3d.data.faces import FaceAnnotator   # dlib: only when refining
                self._refiner = refine_lib.LandmarkRefiner(online.renderer, self.settings.recipe["refine_landmarks"])
                self._annotator = FaceAnnotator()
        return self._fn is not None

    @property
    def refining(self):
        return self.settings.recipe["refine_landmarks"] > 0

    @property
    def fitting(self):
        """True when the coefficients are fitted to the frame after ReconNet (not in the graph)."""
        return self.refining or self.settings.recipe["texture"] != "recon"

    def __call__(self, blurry, points5):
        if self.fitting:
            frames = np.asarray(centre_frame(tf.convert_to_tensor(blurry, tf.float32)))
            coeffs, albedo = self.fit(frames, points5)
            render = self.render(coeffs, points5, frames.shape[1], frames.shape[2], albedo)
            return render, tf.constant(coeffs[:, coeffs_lib.SLICES["identity"]])
        render, _, coeffs = self._fn(tf.convert_to_tensor(blurry, tf.float32),
                                     tf.convert_to_tensor(points5, tf.float32))
        return render, coeffs[:, coeffs_lib.SLICES["identity"]]

    def refine(self, coeffs, frames, points5, points68=None):
        """With `refine_landmarks`, (B, 239) coefficients refined to the 68 points of each frame
        (B, H, W, 3): `points68` (B, 68, 2) when the caller tracked them, else dlib's on the
        frame in the box it detects (or about the five points); unchanged otherwise."""
        if not self.refining:
            return coeffs
        points5 = np.asarray(points5, np.float32)
        if points68 is None:
            boxes = [refine_lib.five_point_face(p) for p in points5]
            return refine_lib.refine_to_frames(self._refiner, self._annotator, coeffs, np.asarray(frames), points5,
                                               boxes)[0]
        return self._refiner(coeffs, refine_lib.crop_points68(points68, points5))

    def fit(self, frames, points5, points68=None, hold=None):
        """(B, H, W, 3) frames + five points -> (coefficients (B, 239), per-vertex albedo or
        None): ReconNet, then the refinement to the 68 points, then light and texture fitted
        to the aligned crop, as the settings ask; with `hold` (texture.TextureHold, one per
        face track) only on the frames it says, held on the others."""
        coeffs = self.refine(self.coefficients(frames, points5), frames, points5, points68)
        if hold is not None and not hold.due():
            return hold.apply(coeffs)
        fitted = self.fit_texture(coeffs, self.aligned(frames, points5))
        return fitted if hold is None else hold.keep(*fitted)

    def aligned(self, frames, points5):
        """(B, 224, 224, 3) aligned crops of the frames, ReconNet's input and the renderer's space."""
        return self._crop(tf.convert_to_tensor(frames, tf.float32), tf.convert_to_tensor(points5, tf.float32)).numpy()

    def fit_texture(self, coeffs, crops):
        attention = None if self._attention is None else self._attention(tf.constant(crops)).numpy()
        return texture_lib.fit_texture(self.renderer, coeffs, crops, attention, self.settings.recipe["texture"])

    def coefficients(self, frame, points5):
        """(B, H, W, 3) frames + five points -> (B, 239) numpy: the first half of __call__."""
        return self._coefficients(tf.convert_to_tensor(frame, tf.float32),
                                  tf.convert_to_tensor(points5, tf.float32)).numpy()

    def render(self, coeffs, points5, height, width, albedo=None):
        """(B, 239) coefficients -> render (B, H, W, 3) where `points5` put the face: the second half."""
        args = [tf.convert_to_tensor(coeffs, tf.float32), tf.convert_to_tensor(points5, tf.float32),
                tf.constant(height, tf.int32), tf.constant(width, tf.int32)]
        render, _ = self._render(*args, *([] if albedo is None else [tf.convert_to_tensor(albedo, tf.float32)]))
        return render
