"""The numpy side of the data pipeline: one sample's window read from memory-mapped runs,
with its blur made (stored blurry frames, the plain average, or frames swept by motion),
and the precomputed priors read beside it (deblur3d/data/priors_store.py).
"""
import threading
import zlib

import numpy as np
import tensorflow as tf

from deblur3d.data import blur, motion
from deblur3d.data import priors_store

# Pixels read around a patch so that motion brings in real image content, not reflections.
MOTION_MARGIN = 32


class SampleReader:
    """The numpy side: memory-mapped runs and the read of one sample's window."""

    def __init__(self, runs, num_frames, blur_config, priors_dir=None, training=False, reuse=1):
        if not runs:
            raise ValueError("no runs in this split of the cache")
        self.runs, self.num_frames, self.blur, self.training = runs, num_frames, blur_config, training
        self.swept = SharedSweeps(reuse)
        self.arrays = [{k: r.array(k) for k in ("sharp", "blurry", "points5", "points68", "render", "coeffs")
                        if r.has(k)} for r in runs]
        spaces = {r.meta["render_space"] for r in runs} - {None}
        self.with_coeffs = any(r.meta["coeffs"] for r in runs)
        if priors_dir is not None:   # precomputed priors replace the cache's
            for run, arrays in zip(runs, self.arrays):
                arrays.update(priors_store.load_run(priors_dir, run.name))
            spaces, self.with_coeffs = {"frame"}, True
        if len(spaces) > 1:
            raise ValueError(f"runs of one split mix render spaces {spaces}")
        self.render_space = spaces.pop() if spaces else None

    @property
    def dtypes(self):
        return ([tf.float32, tf.float32, tf.float32, tf.float32, tf.float32]
                + [tf.uint8, tf.float32] * bool(self.render_space) + [tf.float32, tf.float32] * self.with_coeffs)

    def frames(self, run, t, y, x, h, w, window, key):
        """-> frames (K, h, w, 3) float32 to mix, mixing (n, K), target (h, w, 3): the
        stored blurry stack, the plain average of sharp frames, or frames swept by motion."""
        a, cfg = self.arrays[run], self.blur
        win = (slice(y, y + h), slice(x, x + w))
        length = self.runs[run].meta["frames"]
        if "blurry" in a:   # stored blurry frames are the input as given (docs/reproduction.md §6)
            idx = blur.window_indices(t, length, self.num_frames)
            frames = np.concatenate([a["blurry"][idx, win[0], win[1]], a["sharp"][t][win][None]])
            frames = frames.astype(np.float32) / 255.0
            return frames[:-1], blur.weights(np.arange(self.num_frames)[:, None], self.num_frames), frames[-1]
        pick = blur.stack_indices(t, length, self.num_frames, window, cfg.stride)
        lo, hi = pick.min(), pick.max()
        mixing = blur.weights(pick - lo, hi - lo + 1)
        moving = cfg.motion and window > 1
        if moving:
            span = cfg.stride * (self.num_frames // 2) + window // 2 + 0.5
            draw = lambda: motion.draw_motion(motion.sample_key(*key), cfg, span)   # noqa: E731
            sample_motion = self.swept.get(("motion", *key), draw)   # once a group when reused
            moving = not sample_motion.still
        if not moving:
            frames = a["sharp"][lo:hi + 1, win[0], win[1]].astype(np.float32) / 255.0
            return frames, mixing, frames[t - lo]
        if self.swept.reuse > 1:   # the whole frame swept and mixed once, for `reuse` samples (their own crops)
            def mixed():
                swept = self._sweep(a, t, lo, hi, sample_motion)
                if not cfg.linear_light:   # numpy's blur.mix: no TF op inside the pipeline's numpy_function
                    return np.tensordot(mixing, swept, 1)
                light = np.tensordot(mixing, blur.srgb_to_linear(swept, np), 1)
                return np.clip(blur.linear_to_srgb(light, np), 0.0, 1.0).astype(np.float32)
            stack = self.swept.get((run, t, window, *key), mixed)
            # Mixed already: the pipeline's mix gets the identity (in linear light: a round trip).
            return (np.ascontiguousarray(stack[:, win[0], win[1]]), np.eye(len(stack), dtype=np.float32),
                    _unit(a["sharp"][t][win]))
        frames, target = self._sweep(a, t, lo, hi, sample_motion, y, x, h, w)
        return frames, mixing, target

    def _sweep(self, a, t, lo, hi, sample_motion, y=0, x=0, h=None, w=None):
        """Frames lo..hi swept by the sample's motion around the window (y, x, h, w), whole
        frames by default -> (frames, target) of that window, or frames alone when whole."""
        cfg, size = self.blur, a["sharp"].shape[1:3]
        whole = h is None
        h, w = (size if whole else (h, w))
        # Read only as far around the patch as the motion reaches (at most MOTION_MARGIN).
        m = min(MOTION_MARGIN, int(np.ceil(sample_motion.reach())) + 2)
        y0, x0 = max(y - m, 0), max(x - m, 0)
        y1, x1 = min(y + h + m, size[0]), min(x + w + m, size[1])
        frames = a["sharp"][lo:hi + 1, y0:y1, x0:x1]
        cut = (slice(y - y0, y - y0 + h), slice(x - x0, x - x0 + w))
        target = _unit(frames[t - lo][cut])
        points = a["points68"][t] - np.array([x0, y0], np.float32)
        mask = motion.head_mask(points, frames.shape[1:3])
        if cfg.highlights > 1:
            frames = motion.brighten_highlights(frames.astype(np.float32) / 255.0, cfg.highlights)
        frames = motion.sweep(frames, np.arange(lo, hi + 1) - t, sample_motion, mask, points[:17].mean(0),
                              cfg.duty, cfg.linear_light, crop=cut)
        return frames if whole else (frames, target)

    def read(self, run, t, y, x, h, w, window, key):
        run, t, window = int(run), int(t), int(window)
        a = self.arrays[run]
        frames, mixing, target = self.frames(run, t, y, x, h, w, window, key)
        out = [frames, mixing, target, a["points5"][t].astype(np.float32), a["points68"][t].astype(np.float32)]
        win = (slice(y, y + h), slice(x, x + w))
        if self.render_space:
            if "render" in a:
                render = a["render"][t] if self.render_space == "aligned224" else a["render"][t][win]
                out += [np.ascontiguousarray(render), np.float32(1)]
            else:
                shape = (224, 224, 4) if self.render_space == "aligned224" else (h, w, 4)
                out += [np.zeros(shape, np.uint8), np.float32(0)]
        if self.with_coeffs:
            out += [a["coeffs"][t].astype(np.float32), np.float32(1)] if "coeffs" in a else [
                np.zeros(239, np.float32), np.float32(0)]
        return out


class SharedSweeps:
    """A group's motion and swept whole frame, each kept until the group's `reuse` samples have
    taken it (each sample asks once); parallel readers of one key wait for the first one's
    value instead of making it again."""

    def __init__(self, reuse=1):
        self.reuse, self.lock, self.entries = int(reuse), threading.Lock(), {}

    def get(self, key, make):
        with self.lock:
            entry = self.entries.setdefault(key, dict(done=threading.Event(), value=None, left=self.reuse))
            owner = entry["left"] == self.reuse
            entry["left"] -= 1
            if entry["left"] == 0:
                del self.entries[key]
        if owner:
            try:
                entry["value"] = make()
            finally:
                entry["done"].set()
        entry["done"].wait()
        if entry["value"] is None:
            raise RuntimeError(f"the shared sweep {key} failed in another reader")
        return entry["value"]


def _unit(pixels):
    """uint8 -> float32 in [0, 1], in one new array (the value of `pixels.astype(np.float32) / 255.0`)."""
    out = pixels.astype(np.float32)
    out /= np.float32(255.0)
    return out


def run_hash(name):
    """The run part of an evaluation frame's motion seed."""
    return zlib.crc32(name.encode())



def centre_blurry_frames(run, blur_config, frames, seed=0):
    """Yields the blurry centre frame of each target t in `frames` of a cache run, (H, W, 3)
    float32, blurred as evaluation blurs it (the same per-frame motion; numpy, without noise
    or JPEG). The run is opened once."""
    reader = SampleReader([run], 5, blur_config)
    for t in frames:
        stack, mixing, _ = reader.frames(0, t, 0, 0, run.meta["height"], run.meta["width"], blur_config.window,
                                         (seed, run_hash(run.name), t))
        yield np.clip(np.tensordot(mixing[reader.num_frames // 2], stack, 1), 0, 1).astype(np.float32)
