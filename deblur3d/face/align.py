"""Five-point alignment of a face to the 224×224 crop the reconstruction network sees.

As in Deep3DFaceReconstruction (docs/reproduction.md §3): the five image points are fitted by least
squares to a 3D five-point template under a scaled orthographic camera; the frame is
scaled by 102/s and a 224 crop is cut around the fitted template origin. The result is
a similarity without rotation, kept as an `Alignment`, so a render made in the crop
goes back into the frame with the exact inverse.

Deep3D resizes to whole-pixel image sizes and crops at whole pixels; we keep the
transform in floating point instead, which moves the crop by under a pixel and makes
the inverse exact.
"""
import dataclasses

import cv2
import numpy as np
import tensorflow as tf

# Left eye, right eye, nose tip, left and right mouth corners ("left" = image left),
# from Deep3D's `similarity_Lm3D_all.mat`: nose = point 31, eyes = mean of 37/40 and
# 43/46, mouth = 49 and 55 (1-based). Units of the BFM template, +y up.
TEMPLATE_5 = np.array([
    [-0.31148657, 0.29036078, 0.13377953],
    [0.30979887, 0.28972036, 0.13179526],
    [0.00325350, -0.04617932, 0.55244243],
    [-0.25216928, -0.38133916, 0.22405732],
    [0.24846619, -0.38128236, 0.22235769],
])
TEMPLATE_SIZE = 102.0  # template scale in crop pixels
CROP_SIZE = 224


@dataclasses.dataclass(frozen=True)
class Alignment:
    """crop = (frame - center) * scale + size / 2, for points in pixels (x right, y down)."""

    scale: float
    center: tuple
    size: int = CROP_SIZE

    def matrix(self):
        """2×3 affine matrix, frame -> crop."""
        s, (cx, cy), h = self.scale, self.center, self.size / 2
        return np.array([[s, 0, h - s * cx], [0, s, h - s * cy]], np.float64)

    def to_crop(self, points):
        points = np.asarray(points, np.float64)
        return (points - np.asarray(self.center)) * self.scale + self.size / 2

    def to_frame(self, points):
        points = np.asarray(points, np.float64)
        return (points - self.size / 2) / self.scale + np.asarray(self.center)

    def crop(self, frame, interpolation=cv2.INTER_CUBIC):
        """Frame (H, W, C) -> (size, size, C) crop; outside the frame reads black."""
        out = cv2.warpAffine(np.ascontiguousarray(frame), self.matrix(), (self.size, self.size),
                             flags=interpolation, borderMode=cv2.BORDER_CONSTANT)
        return out.reshape(self.size, self.size, -1) if frame.ndim == 3 else out

    def uncrop(self, image, frame_shape, interpolation=cv2.INTER_LINEAR):
        """(size, size, C) image in crop space -> frame_shape[:2] image, zero outside the crop."""
        h, w = frame_shape[:2]
        out = cv2.warpAffine(np.ascontiguousarray(image), self.matrix(), (w, h),
                             flags=interpolation | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_CONSTANT)
        return out.reshape(h, w, -1) if image.ndim == 3 else out

    def paste(self, frame, image, mask):
        """Blend a crop-space image into the frame where `mask` (size×size, 0..1) is set."""
        frame = np.asarray(frame, np.float32)
        image = self.uncrop(np.asarray(image, np.float32), frame.shape)
        alpha = self.uncrop(np.asarray(mask, np.float32).reshape(self.size, self.size), frame.shape)
        alpha = alpha.reshape(alpha.shape[:2] + (1,) * (frame.ndim - 2))
        return frame * (1 - alpha) + image.reshape(frame.shape) * alpha


def _camera_solver(template=TEMPLATE_5):
    """(8, 2n) matrix: the least-squares affine camera is this times the stacked points."""
    template = np.asarray(template, np.float64)
    design = np.zeros((2 * len(template), 8))
    design[0::2, 0:3], design[0::2, 3] = template, 1
    design[1::2, 4:7], design[1::2, 7] = template, 1
    return np.linalg.pinv(design)


SOLVER = _camera_solver()


def fit_alignment(points5, template=TEMPLATE_5, size=CROP_SIZE):
    """Five (x, y) image points (order of TEMPLATE_5) -> Alignment.

    Least squares for an affine camera p = [R1; R2]·P + t on the template, with image
    y flipped to point up like the template; s = mean norm of R1 and R2.
    """
    points5 = np.asarray(points5, np.float64).reshape(-1, 2)
    solver = SOLVER if template is TEMPLATE_5 else _camera_solver(template)
    k = solver @ np.stack([points5[:, 0], -points5[:, 1]], axis=1).reshape(-1)
    s = (np.linalg.norm(k[0:3]) + np.linalg.norm(k[4:7])) / 2
    if not np.isfinite(s) or s <= 0:
        raise ValueError(f"degenerate five points, cannot align: {points5.tolist()}")
    return Alignment(scale=TEMPLATE_SIZE / s, center=(float(k[3]), float(-k[7])), size=size)


def alignment_params(points5):
    """TensorFlow twin of fit_alignment for batches: (B, 5, 2) -> (B, 3) scale, centre x, y.

    The template is fixed, so the fit is one matrix product; usable inside tf.function.
    """
    flipped = tf.reshape(tf.stack([points5[..., 0], -points5[..., 1]], axis=-1), [-1, 10])
    k = tf.matmul(tf.cast(flipped, tf.float64), tf.constant(SOLVER.T))
    s = (tf.norm(k[:, 0:3], axis=-1) + tf.norm(k[:, 4:7], axis=-1)) / 2
    return tf.cast(tf.stack([TEMPLATE_SIZE / s, k[:, 3], -k[:, 7]], axis=-1), tf.float32)


# --- the same crop and its inverse as TF ops, inside the graph (priors, joint training);

def _warp(images, transforms, height, width):
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images, transforms=transforms, output_shape=tf.stack([height, width]),
        fill_value=0.0, interpolation="BILINEAR", fill_mode="CONSTANT")


def crop(images, params, size=CROP_SIZE):
    """Frames (B, H, W, C) -> aligned crops (B, size, size, C); params (B, 3) = scale, cx, cy."""
    s, cx, cy = tf.unstack(params, axis=-1)
    zero, half = tf.zeros_like(s), size / 2
    # Maps each output (crop) pixel to the frame pixel it reads.
    transforms = tf.stack([1 / s, zero, cx - half / s, zero, 1 / s, cy - half / s, zero, zero], axis=-1)
    return _warp(images, transforms, size, size)


def uncrop(crops, params, height, width):
    """Aligned crops (B, size, size, C) -> frame geometry (B, height, width, C), zero outside."""
    s, cx, cy = tf.unstack(params, axis=-1)
    zero, half = tf.zeros_like(s), crops.shape[1] / 2
    transforms = tf.stack([s, zero, half - s * cx, zero, s, half - s * cy, zero, zero], axis=-1)
    return _warp(crops, transforms, height, width)
