"""tf.data over the cache: random training patches with synthesised blur, and whole frames.

A sample is a dict of float32 tensors:
    blurry    (P, P, 3 * num_frames)  blurry frames t-2..t+2 stacked on channels, frame-major
                                      (RGB of t-2, then of t-1, ...), in [0, 1]
    sharp     (P, P, 3)               sharp frame t, in [0, 1]
    points5   (5, 2), points68 (68, 2)  x, y in patch pixels (may fall outside the patch)
and, when some run of the split has them:
    render, render_mask, has_render   precomputed render (RGB, alpha), 0/1 flag; the render is
                                      (P, P, .) in "frame" space, (224, 224, .) in "aligned224"
    coeffs (239,), has_coeffs         precomputed coefficients, 0/1 flag
Runs without them give zeros and flag 0. Evaluation samples add `run` (string) and `frame`;
training samples with `face_mask` add `face` (P, P, 1), 1 inside the hull of the 68 points.

Training: the same random P x P window cuts every image of a sample, and a random horizontal
flip mirrors all of them; the flip maps x to P - 1 - x and swaps left/right point identities
(faces.FLIP_5, faces.FLIP_68) so point k keeps its meaning. An aligned224 render is flipped
too: the alignment template is nearly symmetric, so this is close to aligning the flipped
frame, not exact. Randomness is stateless, keyed on (seed, sample counter): a seed gives the
same batches whatever the parallelism.
"""
import dataclasses

import numpy as np
import tensorflow as tf

from deblur3d.data import blur, blur_settings, cache, faces, motion
from deblur3d.data.samples import SampleReader, run_hash


@dataclasses.dataclass(frozen=True)
class PipelineConfig:
    cache_dir: str | None = None        # None: cache.BuildConfig.out (cache/data)
    split: str = "train"
    batch_size: int = 16
    patch_size: int = 256
    num_frames: int = 5
    blur: object = None                 # a blur_settings.PRESETS name or a blur_settings.BlurConfig; None: the default preset
    blur_window: int | None = None      # overrides the blur's window
    sharp_fraction: float = 0.0         # training samples left unblurred (window 1); not in the paper
    photo_fraction: float = 0.0         # training samples whose stack is made of their blurry centre frame
                                        # alone, as the video tool deblurs a photo; not in the paper
    linear_light: bool | None = None    # overrides the blur's
    flip: bool = True
    seed: int = 0
    eval_batch_size: int = 1            # whole frames of different runs may differ in size
    priors_dir: str | None = None       # priors exported by experiments/export_priors.py (data/priors_store.py),
                                        # replacing the cache's
    face_mask: bool = False             # training samples add `face`, the evaluation's face region
    blur_reuse: int = 1                 # training: each motion-swept whole frame serves this many samples
                                        # (each its own crop, flip and look); 1: a sweep per sample

    @property
    def blur_config(self):
        return blur_settings.resolve(self.blur, window=self.blur_window, linear_light=self.linear_light)


def _make_sample(reader, run, t, y, x, h, w, key, patch=None, window=None, photo=None, motion_key=None):
    """Reads a window and assembles the sample dict (TF ops, so parallel maps overlap);
    `window`: blur window of this sample (default the blur's); `key`: int64 (3,), the seed
    of this sample's look and noise, and of its motion unless `motion_key` is given; `photo`
    (bool tensor; None: never): the stack becomes its centre frame alone, noise and all,
    stacked as the video tool stacks a photo (blur.photo_frames)."""
    cfg = reader.blur
    window = cfg.window if window is None else window
    frames, mixing, target, p5, p68, *rest = tf.numpy_function(
        reader.read, [run, t, y, x, h, w, window, key if motion_key is None else motion_key], reader.dtypes,
        stateful=False)
    frames = tf.ensure_shape(frames, [None, patch, patch, 3])
    n = reader.num_frames
    stack = blur.mix(frames, tf.ensure_shape(mixing, [n, None]), cfg.linear_light)   # (n, h, w, 3)
    render = None
    if reader.render_space:
        size = [224, 224] if reader.render_space == "aligned224" else [patch, patch]
        render = tf.ensure_shape(tf.cast(rest.pop(0), tf.float32) / 255.0, size + [4])
    if cfg.photometric and reader.training:   # after the average: on 6 frames instead of 25
        both = tf.concat([stack, target[None]], 0)
        if render is None:
            both = motion.photometric(both, key)
        else:
            both, render = motion.photometric(both, key, render)
        stack, target = both[:-1], both[-1]
        stack = motion.degrade(stack, cfg, key, clipped=True)   # the look's output lies in [0, 1] already
    else:
        stack = motion.degrade(stack, cfg, key)
    if photo is not None:   # made only for the samples that are photos
        stack = tf.cond(photo, lambda: tf.stack(blur.photo_frames(stack[n // 2], n), 0), lambda: stack)
    offset = tf.cast(tf.stack([x, y]), tf.float32)
    sample = dict(blurry=tf.ensure_shape(tf.reshape(tf.transpose(stack, [1, 2, 0, 3]), [h, w, 3 * n]),
                                         [patch, patch, 3 * n]),
                  sharp=tf.ensure_shape(target, [patch, patch, 3]),
                  points5=tf.ensure_shape(p5, [5, 2]) - offset,
                  points68=tf.ensure_shape(p68, [68, 2]) - offset)
    if render is not None:
        sample.update(render=render[..., :3], render_mask=render[..., 3:],
                      has_render=tf.ensure_shape(rest.pop(0), []))
    if reader.with_coeffs:
        sample.update(coeffs=tf.ensure_shape(rest.pop(0), [239]), has_coeffs=tf.ensure_shape(rest.pop(0), []))
    return sample


def _flip(sample, width):
    """Mirror every image of a sample, the x of its points, and the point identities."""
    out = dict(sample)
    for key in ("blurry", "sharp", "render", "render_mask", "face"):
        if key in out:
            out[key] = tf.reverse(out[key], axis=[1])
    for key, perm in (("points5", faces.FLIP_5), ("points68", faces.FLIP_68)):
        p = tf.gather(out[key], perm)
        out[key] = tf.stack([width - 1.0 - p[:, 0], p[:, 1]], axis=1)
    return out


def _face_mask(points68, patch):
    """(P, P, 1) float32: 1 inside the hull of the 68 points (patch pixels), as make eval's face region."""
    mask = tf.numpy_function(lambda p: faces.hull_mask(p, (patch, patch)).astype(np.float32)[..., None],
                             [points68], tf.float32, stateful=False)
    return tf.ensure_shape(mask, [patch, patch, 1])


def _setup(config, training=False):
    runs = cache.Cache(config.cache_dir).runs(config.split)
    reader = SampleReader(runs, config.num_frames, config.blur_config, config.priors_dir, training,
                          reuse=config.blur_reuse if training else 1)
    index = np.array([(i, t) for i, r in enumerate(runs) for t in range(r.meta["frames"])], np.int32)
    sizes = np.array([(r.meta["height"], r.meta["width"]) for r in runs], np.int32)
    return reader, index, sizes


def frame_key(seed, run_names, item):
    """The motion seed of an evaluation frame: (seed, run name hash, frame), so a frame gets
    the same blur whatever else is evaluated with it."""
    hashes = tf.constant([run_hash(n) for n in run_names], tf.int64)
    return tf.stack([tf.cast(seed, tf.int64), tf.gather(hashes, item[0]), tf.cast(item[1], tf.int64)])


def training_dataset(config=PipelineConfig()):
    """Endless, shuffled, seeded batches of random patches (dicts as in the module docstring).

    With `sharp_fraction`, that share of samples is not blurred (window 1: the stack is the
    sharp frames t-2..t+2), so a model also learns to leave sharp frames alone; still val
    clips punish one that sharpens everything."""
    reader, index, sizes = _setup(config, training=True)
    p = config.patch_size
    if (sizes < p).any():
        small = [r.name for r, s in zip(reader.runs, sizes) if (s < p).any()]
        raise ValueError(f"runs smaller than the {p}x{p} patch: {small}")
    sizes = tf.constant(sizes)

    reuse = config.blur_reuse
    if reuse < 1:
        raise ValueError(f"blur_reuse must be >= 1, got {reuse}")

    def sample(counter, item):
        # Per sample: crop, flip, look. Per group of `reuse` samples of one frame: window and motion.
        seed = tf.cast(config.seed, tf.int64)
        u = tf.random.stateless_uniform([4], seed=tf.stack([seed, counter]))
        shared = u if reuse == 1 else tf.random.stateless_uniform([4], seed=tf.stack([seed, counter // reuse]))
        hw = tf.gather(sizes, item[0])
        y = tf.cast(u[0] * tf.cast(hw[0] - p + 1, tf.float32), tf.int32)
        x = tf.cast(u[1] * tf.cast(hw[1] - p + 1, tf.float32), tf.int32)
        window = tf.where(shared[3] < config.sharp_fraction, 1, reader.blur.window)
        key = tf.stack([seed, tf.constant(-1, tf.int64), counter])
        # Its own stream: the draws above stay those of runs without photos.
        photo = None if config.photo_fraction == 0 else tf.random.stateless_uniform(
            [], seed=tf.stack([tf.cast(config.seed, tf.int64) + 7, counter])) < config.photo_fraction
        motion_key = None if reuse == 1 else tf.stack([seed, tf.constant(-1, tf.int64), counter // reuse])
        out = _make_sample(reader, item[0], item[1], y, x, p, p, key, patch=p, window=window, photo=photo,
                           motion_key=motion_key)
        if config.face_mask:
            out["face"] = _face_mask(out["points68"], p)
        if not config.flip:
            return out
        return tf.cond(u[2] < 0.5, lambda: _flip(out, float(p)), lambda: out)

    ds = tf.data.Dataset.from_tensor_slices(index)
    ds = ds.shuffle(len(index), seed=config.seed, reshuffle_each_iteration=True).repeat()
    if reuse > 1:   # each frame `reuse` times in a row, so that its sweep is made once
        ds = ds.map(lambda item: tf.repeat(item[None], reuse, 0)).unbatch()
    ds = ds.enumerate().map(sample, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    if reuse > 1:   # spread the samples of one sweep over several batches
        ds = ds.shuffle(4 * config.batch_size, seed=config.seed)
    return ds.batch(config.batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


def evaluation_dataset(config=PipelineConfig(split="val"), every=1, stored_blur=None):
    """One pass over the split, in order, whole frames (no crop, no flip); with `every`,
    only frames whose index in their run is a multiple of it (the others are not read).
    `stored_blur`: True keeps only runs with stored blurry frames (the authors' pairs),
    False only ours (blur synthesised), None both."""
    reader, index, sizes = _setup(config)
    index = index[index[:, 1] % every == 0]
    if stored_blur is not None:
        stored = np.array(["blurry" in a for a in reader.arrays])
        index = index[stored[index[:, 0]] == stored_blur]
    names = tf.constant([r.name for r in reader.runs])
    sizes = tf.constant(sizes)

    def sample(item):
        hw = tf.gather(sizes, item[0])
        key = frame_key(config.seed, [r.name for r in reader.runs], item)
        out = _make_sample(reader, item[0], item[1], 0, 0, hw[0], hw[1], key)
        return dict(out, run=tf.gather(names, item[0]), frame=item[1])

    ds = tf.data.Dataset.from_tensor_slices(index).map(sample, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.batch(config.eval_batch_size).prefetch(tf.data.AUTOTUNE)


_ANNOTATOR = []   # one dlib detector per process, made on first use


def _align_sample(blurry_centre, sharp, points5, points68):
    """Whole frame -> the 224 aligned crops of the reconstruction branch (numpy side), cut
    where dlib finds the face on the blurry frame, as the tool cuts it (the sharp frame's
    points where it finds none); points68, the targets, are the sharp frame's."""
    from deblur3d.data.faces import FaceAnnotator, points5_on
    from deblur3d.face.align import fit_alignment  # the face package is not needed for plain data use
    if not _ANNOTATOR:
        _ANNOTATOR.append(FaceAnnotator())
    found = points5_on(_ANNOTATOR[0], blurry_centre, cnn=False)
    a = fit_alignment(points5 if found is None else found)
    return (a.crop(blurry_centre).astype(np.float32), a.crop(sharp).astype(np.float32),
            a.to_crop(points68).astype(np.float32), np.array([a.scale, *a.center], np.float32))


def aligned_dataset(config=PipelineConfig(), shuffle=True, repeat=True):
    """Batches of 224×224 aligned crops of whole frames (deblur3d.face.align), for ReconNet.

    Each sample: `blurry` (the centre blurry frame) and `sharp`, (224, 224, 3) in [0, 1];
    `points68` (68, 2) in crop pixels; `alignment` (3,) = scale, centre x, centre y of the
    frame -> crop transform. No flips: the template is only nearly symmetric.
    """
    reader, index, sizes = _setup(config)
    sizes = tf.constant(sizes)
    centre = 3 * (config.num_frames // 2)

    def sample(counter, item):
        # Repeated (training): new motion at every visit; one pass: each frame's fixed motion.
        key = (tf.stack([tf.cast(config.seed, tf.int64), tf.constant(-2, tf.int64), counter]) if repeat
               else frame_key(config.seed, [r.name for r in reader.runs], item))
        hw = tf.gather(sizes, item[0])
        s = _make_sample(reader, item[0], item[1], 0, 0, hw[0], hw[1], key)
        blurry, sharp, points68, alignment = tf.numpy_function(
            _align_sample, [s["blurry"][..., centre:centre + 3], s["sharp"], s["points5"], s["points68"]],
            [tf.float32] * 4, stateful=False)
        out = dict(blurry=tf.ensure_shape(blurry, [224, 224, 3]), sharp=tf.ensure_shape(sharp, [224, 224, 3]),
                   points68=tf.ensure_shape(points68, [68, 2]), alignment=tf.ensure_shape(alignment, [3]))
        return dict(out, **{k: s[k] for k in ("coeffs", "has_coeffs") if k in s})   # fitted priors, if given

    ds = tf.data.Dataset.from_tensor_slices(index)
    if shuffle:
        ds = ds.shuffle(len(index), seed=config.seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    ds = ds.enumerate().map(sample, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.batch(config.batch_size, drop_remainder=repeat).prefetch(tf.data.AUTOTUNE)
