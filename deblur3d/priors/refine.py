"""ReconNet's coefficients refined per frame to the 68 points dlib finds on the blurry frame.

Not in the paper, whose ReconNet alone gives the priors. Ours, trained on 2 CPU cores, does
not beat the mean face on landmarks (8.1 px against 7.6 in the 224 crop), so its render
carries no pose or expression beyond the five-point alignment. A few hundred Adam steps
on pose, shape and expression (texture and light stay ReconNet's) toward dlib's 68 points
on the blurry frame bring the model's landmarks to 2.6 px of the sharp frame's (docs/model.md).
`PriorsSettings(refine_landmarks=0)` is the paper's way.
"""
import numpy as np
import tensorflow as tf

from deblur3d.face import coeffs as coeffs_lib
from deblur3d.face.align import fit_alignment
from deblur3d.recon import losses

REFINED = ("identity", "expression", "rotation", "translation")


class LandmarkRefiner:
    """coeffs (B, 239) + target 68 points in the 224 crop (B, 68, 2) -> refined coeffs (B, 239).

    Minimises, per frame, the weighted landmark distance (Eq. 3's landmark term) plus the
    coefficient regulariser, by Adam on the REFINED coefficients, from ReconNet's values."""

    def __init__(self, renderer, steps=200, learning_rate=0.01, landmark_weight=1.6e-3, regularizer=3e-4):
        self.renderer, self.steps, self.learning_rate = renderer, steps, learning_rate
        self.landmark_weight, self.regularizer = landmark_weight, regularizer
        free = np.zeros(coeffs_lib.NUM_COEFFS, np.float32)
        for name in REFINED:
            free[coeffs_lib.SLICES[name]] = 1.0
        self.free = tf.constant(free)
        self._fit = tf.function(self._adam, reduce_retracing=True)

    def loss(self, coeffs, target):
        """Per-frame objective (B,): landmark term + regulariser (its texture part is fixed here)."""
        return (self.landmark_weight * losses.landmark_distances(self.renderer.landmarks(coeffs), target)
                + self.regularizer * losses.coefficient_prior(coeffs))

    def _adam(self, coeffs, target):
        b1, b2, eps = 0.9, 0.999, 1e-8

        def step(i, x, m, v):
            with tf.GradientTape() as tape:
                tape.watch(x)
                total = tf.reduce_sum(self.loss(x, target))   # frames are independent: a sum, not a mean
            g = tape.gradient(total, x) * self.free
            m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
            t = tf.cast(i + 1, tf.float32)
            x = x - self.learning_rate * (m / (1 - b1 ** t)) / (tf.sqrt(v / (1 - b2 ** t)) + eps)
            return i + 1, self.renderer.face_model.bound(x), m, v   # projected: ICT's weights stay in [0, 1]

        zeros = tf.zeros_like(coeffs)
        start = self.renderer.face_model.bound(coeffs)
        _, x, _, _ = tf.while_loop(lambda i, *_: i < self.steps, step, (tf.constant(0), start, zeros, zeros))
        return x

    def __call__(self, coeffs, target):
        coeffs = tf.convert_to_tensor(coeffs, tf.float32)
        if self.steps <= 0:
            return coeffs.numpy()
        return self._fit(coeffs, tf.convert_to_tensor(target, tf.float32)).numpy()


def crop_points68(points68, points5):
    """Frame-pixel 68 points (B, 68, 2) -> the 224 aligned crop of each frame's five points."""
    return np.stack([fit_alignment(p5).to_crop(p68) for p68, p5 in zip(points68, points5)]).astype(np.float32)


def blurry_points68(annotator, frame, fallback):
    """dlib's 68 points on a blurry frame ((H, W, 3) float in [0, 1]) -> ((68, 2), found): in the
    box dlib detects (the largest), else in the box of `fallback` points (68, 2)."""
    rgb = np.round(np.clip(frame, 0, 1) * 255).astype(np.uint8)
    boxes = annotator.detect(rgb)
    found = len(boxes) > 0
    fallback = np.asarray(fallback, np.float32)
    box = boxes[0] if found else np.concatenate([fallback.min(0), fallback.max(0)])
    return annotator.landmarks(rgb, box), found


def refine_to_frames(refiner, annotator, coeffs, frames, points5, fallbacks):
    """(B, 239) coefficients refined to dlib's 68 points on each frame (B, H, W, 3), found in
    the box dlib detects or else in the box of that frame's `fallbacks` points ->
    (refined coefficients, frames without a detection)."""
    found = [blurry_points68(annotator, frame, fallback) for frame, fallback in zip(frames, fallbacks)]
    points68 = np.stack([points for points, _ in found])
    return refiner(coeffs, crop_points68(points68, points5)), sum(not f for _, f in found)


def five_point_face(points5, scale=2.0):
    """Five points -> five points spread `scale` times about their centroid, whose box is
    about the face's (data.frames.FIVE_POINT_FACE_SCALE): a box for dlib's 68 points."""
    p = np.asarray(points5, np.float32)
    return p.mean(0) + scale * (p - p.mean(0))
