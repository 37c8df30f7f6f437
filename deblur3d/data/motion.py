"""Motion swept through sharp frames: the blur our still talking heads lack (docs/blur.md).

Our clips barely move, so the paper's 5-frame average leaves them nearly sharp (42 dB)
while the authors' 300VW pairs sit at 32.5 dB. This module adds the motion 300VW has: the
head moving in front of a still background, and for a share of samples a hand-held camera.
Neither is in the paper; `BlurConfig(motion=False)` (blur_settings.py, preset "paper") is its
plain average.

A sample's motion is one continuous trajectory over the clip's time axis, in video frames
relative to the target frame t: p(tau) = (dx, dy, angle, log scale). Frame f of the stack
is seen at tau in f - t + duty * [-1/2, 1/2] (its exposure), sampled at sub-frame steps at
most one pixel apart, and the sweep's mean is what the paper's average then mixes. p(0) = 0,
so the target, frame t at its mid-exposure, is the sharp frame itself.

Head motion moves pixels by the soft head mask m (grown from the 68 points: face, hair,
neck) times a rigid 2D motion about the face centre; outside the mask nothing moves. Camera
shake moves the whole frame along a trajectory of the same kind (inertia, Gaussian jitter,
occasional jerks, after Boracchi & Foi 2012).
"""
import dataclasses

import cv2
import numpy as np
import tensorflow as tf
from scipy import ndimage

from deblur3d.data.blur import linear_to_srgb, srgb_to_linear, window_indices

MAX_SUBSTEPS = 16
ROWS_PER_PRODUCT = 16384   # x 6 x 2 stays under OpenBLAS's threshold for threads (65536 x 4)


# --------------------------------------------------------------------------- trajectories

def sample_key(*ints):
    """A numpy Generator from integers (seed, run, frame, ...): the same key, the same motion."""
    return np.random.default_rng([int(i) & 0xFFFFFFFF for i in ints])


def _log_uniform(rng, bounds):
    lo, hi = bounds
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi)))) if hi > 0 else 0.0


def random_path(rng, span, speed, jitter, jerk_rate, steps_per_frame=8, drift=1.0, drift_frames=5):
    """A 2D path with inertia over tau in [-span, span] (frames), through 0 at tau = 0, whose
    mean speed is `speed` px per frame. With `drift` < 1 only that share of its slow part
    (a Gaussian mean over `drift_frames`) is kept. Returns (times, xy) for interpolation."""
    n = int(2 * span * steps_per_frame) + 1
    times = np.linspace(-span, span, n)
    direction = rng.uniform(0, 2 * np.pi)
    velocity = np.array([np.cos(direction), np.sin(direction)])
    dt = 1.0 / steps_per_frame
    # Velocity: a random walk (Gaussian jitter) with rare impulsive jerks.
    kicks = jitter * np.sqrt(dt) * rng.normal(size=(n, 2))
    kicks += (rng.uniform(size=(n, 1)) < jerk_rate * dt) * rng.normal(size=(n, 2)) * 1.5
    vs = velocity + np.cumsum(kicks, axis=0)
    xy = np.cumsum(vs, axis=0) * dt
    if drift < 1.0:
        slow = np.stack([ndimage.gaussian_filter1d(xy[:, k], drift_frames * steps_per_frame, mode="nearest")
                         for k in range(2)], 1)
        xy = xy - (1.0 - drift) * slow
    xy *= speed / max(np.linalg.norm(np.diff(xy, axis=0), axis=1).mean() / dt, 1e-9)
    xy -= np.array([np.interp(0.0, times, xy[:, 0]), np.interp(0.0, times, xy[:, 1])])
    return times, xy


@dataclasses.dataclass
class Motion:
    """One sample's trajectories: head (dx, dy, angle deg, log scale) and camera (dx, dy)."""
    times: np.ndarray
    head: np.ndarray      # (n, 4)
    camera: np.ndarray    # (n, 2)

    def at(self, taus):
        """(n,) times -> head (n, 4), camera (n, 2), interpolated."""
        taus = np.atleast_1d(taus)
        head = np.stack([np.interp(taus, self.times, self.head[:, k]) for k in range(4)], 1)
        cam = np.stack([np.interp(taus, self.times, self.camera[:, k]) for k in range(2)], 1)
        return head, cam

    def reach(self, radius=100.0):
        """Largest displacement, in px, of a point `radius` px from the face centre."""
        return reach(self.head, self.camera, radius)

    @property
    def still(self):
        return not (self.head.any() or self.camera.any())


def reach(head, camera, radius=100.0):
    """Largest displacement, in px, of a point `radius` px from the face centre under head
    poses (n, 4) and camera shifts (n, 2)."""
    head = np.abs(head)
    return float((np.hypot(head[:, 0], head[:, 1]) + np.deg2rad(head[:, 2]) * radius
                  + head[:, 3] * radius + np.hypot(camera[:, 0], camera[:, 1])).max())


def draw_motion(rng, config, span):
    """A sample's motion under `config`, over tau in [-span, span] frames."""
    zero = random_path(rng, span, 0.0, 0.0, 0.0)[0]
    head, camera = np.zeros((len(zero), 4)), np.zeros((len(zero), 2))
    if config.motion and rng.uniform() >= config.still_fraction:
        speed = _log_uniform(rng, config.head_speed)
        times, xy = random_path(rng, span, speed, config.jitter, config.jerk_rate, drift=config.drift,
                                drift_frames=config.stride)
        turn = random_path(rng, span, 1.0, config.jitter, config.jerk_rate)[1]   # unit-speed 2D curves:
        head = np.concatenate([xy, turn[:, :1] * config.rotation * speed / 4,    # their x as rotation,
                               turn[:, 1:] * config.zoom * speed / 4], 1)         # y as zoom
        if rng.uniform() < config.shake_fraction:
            shake = _log_uniform(rng, config.shake_speed)
            camera = random_path(rng, span, shake, config.jitter, config.jerk_rate)[1]
    return Motion(zero, head, camera)


# --------------------------------------------------------------------------- head mask

def head_mask(points68, shape, softness=0.12):
    """(H, W) float32 soft mask of the region that moves with the head: the 68 points' hull
    grown to the hair above the brows, the neck below the chin and the ears at the sides,
    feathered over `softness` of the face size. Points in pixels of the image."""
    p = np.asarray(points68, np.float64)
    brow, chin = p[17:27, 1].mean(), p[8, 1]
    face = max(chin - brow, p[:17, 0].max() - p[:17, 0].min(), 1.0)
    centre = p[:17].mean(0)
    jaw = p[:17]
    grown = centre + (jaw - centre) * 1.25                     # ears, cheeks
    hair = p[17:27] + np.array([0, -0.8 * face])               # forehead and hair
    hair[:, 0] = centre[0] + (hair[:, 0] - centre[0]) * 1.35
    neck = jaw[[4, 8, 12]] + np.array([0, 0.45 * face])
    hull = cv2.convexHull(np.concatenate([grown, hair, neck]).astype(np.float32))
    mask = np.zeros(shape, np.float32)
    cv2.fillConvexPoly(mask, np.round(hull).astype(np.int32), 1.0, lineType=cv2.LINE_AA)
    sigma = max(softness * face, 0.5)
    return cv2.GaussianBlur(mask, (0, 0), sigma)


# --------------------------------------------------------------------------- sweeping

def _affine(head, centre):
    """2x3 matrix of the head motion (dx, dy, angle, log scale) about `centre`."""
    dx, dy, angle, log_scale = head
    m = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), float(angle), float(np.exp(log_scale)))
    m[:, 2] += (dx, dy)
    return m


class Warper:
    """Backward maps for one sample's frames: output x shows scene x - camera, where the
    head region (weight m) is moved by the head's rigid motion about `centre`. A map is
    linear in six per-pixel features (x, y, m x, m y, m, 1), so the maps of all of a
    frame's sub-steps are one small matrix product. `crop` (slices of y, x): compute only
    that part of the output (a patch inside the margin read around it)."""

    def __init__(self, mask, centre, crop=None):
        h, w = mask.shape
        ys, xs = crop or (slice(0, h), slice(0, w))
        gx, gy = np.meshgrid(np.arange(w, dtype=np.float32)[xs], np.arange(h, dtype=np.float32)[ys])
        m = np.asarray(mask, np.float32)[ys, xs]
        self.shape, self.centre = m.shape, centre
        self.features = np.stack([gx, gy, m * gx, m * gy, m, np.ones_like(m)], -1).reshape(-1, 6)

    def maps(self, heads, cameras):
        """Head poses (S, 4) and camera shifts (S, 2) -> (S, h, w, 2) float32 maps."""
        coeffs = np.zeros((len(heads), 6, 2), np.float32)
        coeffs[:, 0, 0] = coeffs[:, 1, 1] = 1.0
        for s, (head, (cx, cy)) in enumerate(zip(heads, cameras)):
            (a, b, c), (d, e, f) = cv2.invertAffineTransform(_affine(head, self.centre))
            # s = g - camera; map = s + m (inv [s; 1] - s), expanded in the features.
            coeffs[s, 2:] = [[a - 1, d], [b, e - 1],
                             [c - (a - 1) * cx - b * cy, f - d * cx - (e - 1) * cy], [-cx, -cy]]
        # Row blocks keep OpenBLAS on this thread (its threads fought tf.data's: a whole frame
        # took 20x as long); each value is the same.
        out = np.empty((len(heads), len(self.features), 2), np.float32)
        for s, start in np.ndindex(len(heads), -(-len(self.features) // ROWS_PER_PRODUCT)):
            rows = slice(start * ROWS_PER_PRODUCT, (start + 1) * ROWS_PER_PRODUCT)
            np.matmul(self.features[rows], coeffs[s], out=out[s, rows])
        return out.reshape(len(heads), *self.shape, 2)


def remap(image, xy):
    """`image` sampled at the map `xy` (h, w, 2): bilinear, borders reflected."""
    return cv2.remap(image, xy, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)


def exposure_times(offset, duty, substeps):
    """Sub-frame times of a frame `offset` frames from the target, over its exposure."""
    if substeps == 1 or duty == 0:
        return np.array([float(offset)])
    return offset + duty * ((np.arange(substeps) + 0.5) / substeps - 0.5)


def sweep(frames, offsets, motion, mask, centre, duty, linear_light=False, crop=None):
    """(K, H, W, 3) frames (uint8, or float32 in [0, 1]) at `offsets` (frames from the
    target) -> (K, H, W, 3) float32 in [0, 1], each frame averaged over its exposure under
    `motion`, at sub-steps at most a pixel apart (fewer for the slower frames). Unchanged
    when there is no motion (bit for bit), so zero motion is the paper's plain average.
    `crop` (slices of y, x): only that part of the output (the rest is margin to read from)."""
    scale = 1.0 / 255.0 if frames.dtype == np.uint8 else 1.0
    if motion.still:
        frames = frames[(slice(None),) + tuple(crop)] if crop else frames
        return frames.astype(np.float32) * np.float32(scale) if scale != 1.0 else frames
    if linear_light:   # remapped and averaged as light, stored again as sRGB
        frames, scale = srgb_to_linear(frames.astype(np.float32) * np.float32(scale), np), 1.0
    warp = Warper(mask, centre, crop)
    out = np.zeros((len(frames), *warp.shape, 3), np.float32)
    for k, (frame, offset) in enumerate(zip(frames, offsets)):
        (head0, head1), (cam0, cam1) = motion.at(np.array([offset - duty / 2, offset + duty / 2]))
        moved = reach((head1 - head0)[None], (cam1 - cam0)[None])   # over the exposure
        times = exposure_times(offset, duty, int(np.clip(np.ceil(moved), 1, MAX_SUBSTEPS)))
        acc = out[k]
        for xy in warp.maps(*motion.at(times)):
            cv2.accumulate(remap(frame, xy), acc)   # uint8 remaps: half the time of float32
        acc *= np.float32(scale / len(times))
        if linear_light:
            out[k] = linear_to_srgb(acc, np)
    return out


# --------------------------------------------------------------------------- realism

def photometric(frames, key, render=None):
    """Training augmentation of a sample's (n, H, W, 3) blurry frames and target (TF ops,
    seeded by `key`, int64 (3,)), the same for all of them: brightness (down to dark
    scenes), contrast, colour balance and gamma, so a model does not learn the look of our
    few clips. Applied after the average: before it, it would differ only through the
    gamma's curvature, at five times the cost.

    `render` (H', W', 4: RGB and coverage), the sample's 3D render: it is returned too, with
    the look the last frame (the target) got, since priors fitted to the darker frame would
    have been darker (their light and albedo follow the frame); outside its coverage it stays 0.
    Without this the render's colours disagree with the frames' in training only."""
    # Seeds + 3: degrade() below draws its noise and JPEG quality from + 0..2 of the same key.
    u = tf.random.stateless_uniform([6], seed=tf.stack([key[0] * 7919 + key[1], key[2]]) + 3)
    brightness = tf.exp(np.log(0.35) + u[0] * np.log(1.25 / 0.35))   # log-uniform in [0.35, 1.25]
    gamma = tf.exp(np.log(0.75) + u[1] * np.log(1.35 / 0.75))        # log-uniform in [0.75, 1.35]
    contrast, colour = 0.75 + 0.5 * u[2], 0.88 + 0.24 * u[3:6]

    def look(images, mean):   # x ** gamma as exp(gamma log x): 5x cheaper than TF's pow, within 2e-7
        out = tf.exp(gamma * tf.math.log(tf.clip_by_value(mean + contrast * (images - mean), 0.0, 1.0)))
        return tf.clip_by_value(out * (brightness * colour), 0.0, 1.0)

    mean = tf.reduce_mean(frames, axis=[1, 2, 3], keepdims=True)
    if render is None:
        return look(frames, mean)
    coverage = render[..., 3:]
    return look(frames, mean), tf.concat([look(render[..., :3], mean[-1]) * coverage, coverage], -1)


def brighten_highlights(frames, factor):
    """Saturated pixels (>= 0.98) were brighter than stored: `factor` x before the average,
    so a moving highlight smears bright and is clipped afterwards (RSBlur)."""
    if factor <= 1.0:
        return frames
    return np.where(frames >= 0.98, frames * factor, frames).astype(np.float32)


def degrade(stack, config, key, clipped=False):
    """(n, H, W, 3) blurry frames -> clipped, with sensor noise (Poisson-Gaussian: variance
    noise^2 + noise * x / 4), JPEG at a random quality and rounding to 8 bits, per the config; TF
    ops, seeded by `key` (int64 (3,)). With none, the clip alone (`clipped`: in [0, 1] already, none)."""
    stack = stack if clipped else tf.clip_by_value(stack, 0.0, 1.0)
    seed = tf.stack([key[0] * 7919 + key[1], key[2]])
    if config.noise > 0:
        std = tf.sqrt(config.noise ** 2 + config.noise * stack / 4.0)
        sigma = tf.random.stateless_uniform([], seed=seed) * std
        stack = tf.clip_by_value(stack + sigma * tf.random.stateless_normal(tf.shape(stack), seed=seed + 1), 0.0, 1.0)
    if config.jpeg:
        lo, hi = config.jpeg
        quality = tf.cast(tf.round(lo + (hi - lo) * tf.random.stateless_uniform([], seed=seed + 2)), tf.int32)
        stack = tf.map_fn(lambda im: tf.image.adjust_jpeg_quality(im, quality), stack)
    if config.quantize:
        stack = tf.round(stack * 255.0) / 255.0
    return stack


# --------------------------------------------------------------------------- whole clips

def blur_video(sharp, points68, config, seed=0):
    """A whole clip blurred with one trajectory over its time axis (make demo).

    sharp (T, H, W, 3) float32 in [0, 1]; points68: per frame (68, 2) or None (no face:
    only the camera moves). Returns (blurry, target): blurry frame t averages frames
    t-h..t+h (clamped) each swept over its exposure, as in training; target t is sharp
    frame t at its mid-exposure position, the ground truth of blurry frame t."""
    length, hw = len(sharp), sharp.shape[1:3]
    config = dataclasses.replace(config, still_fraction=0.0)
    clip_motion = draw_motion(sample_key(seed, 0x5EED), config, length / 2 + config.window)
    middle = (length - 1) / 2
    swept, target = np.empty_like(sharp), np.empty_like(sharp)
    for f in range(length):
        if points68[f] is None:
            mask, centre = np.zeros(hw, np.float32), (hw[1] / 2, hw[0] / 2)
        else:
            mask, centre = head_mask(points68[f], hw), np.asarray(points68[f])[:17].mean(0)
        lit = brighten_highlights(sharp[f:f + 1], config.highlights)
        swept[f] = sweep(lit, [f - middle], clip_motion, mask, centre, config.duty, config.linear_light)[0]
        target[f] = sweep(sharp[f:f + 1], [f - middle], clip_motion, mask, centre, 0.0)[0]
    blurry = np.stack([swept[window_indices(t, length, config.window)].mean(0) for t in range(length)])
    return np.clip(blurry, 0, 1), target
