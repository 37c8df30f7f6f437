"""Blur synthesis (paper Sec. 4, docs/reproduction.md §6).

Blurry frame t = mean of sharp frames t-h..t+h, h = (window - 1) / 2, averaged as stored
(sRGB values, like the paper). Indices past a clip border are clamped, so edge frames repeat.
The network input for target t is the blurry frames centred on t-2s..t+2s (stride s), clamped
the same way. Motion added before the average: deblur3d/data/motion.py.

`linear_light=True` averages in linear light instead (sRGB decoded, averaged, re-encoded),
which is what a camera sensor integrating over the exposure would record; it darkens less
at the edges of moving highlights. It is an option, not the paper's protocol.
"""
import numpy as np
import tensorflow as tf


def window_indices(t, length, window=5):
    """Frames averaged into blurry frame t of a clip of `length` frames (clamped)."""
    if window < 1 or window % 2 == 0:
        raise ValueError(f"blur window must be odd and >= 1, got {window}")
    h = window // 2
    return np.clip(np.arange(t - h, t + h + 1), 0, length - 1)


def stack_indices(t, length, num_frames=5, window=5, stride=1):
    """(num_frames, window) sharp-frame indices: row k is averaged into input frame k of the
    stack for target t. Blurry frame k is centred on video frame t + stride * (k - 2) for 5
    frames: stride 1 is the paper's text (overlapping windows), stride 5 the authors' data
    (docs/reproduction.md §6: their stored frames are about 5 video frames apart). All indices clamped."""
    h = num_frames // 2
    centres = np.clip(t + stride * np.arange(-h, h + 1), 0, length - 1)
    return np.stack([window_indices(c, length, window) for c in centres])


def srgb_to_linear(x, ops=tf):
    """sRGB values in [0, 1] -> linear light (IEC 61966-2-1). The one definition, for tensors
    (`ops` tf, the pipeline's graph) and numpy arrays (`ops` np, motion.py's sweep)."""
    return ops.where(x <= 0.04045, x / 12.92, ((ops.maximum(x, 0.04045) + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(x, ops=tf):
    """Linear light -> sRGB values; below 0 reads as 0."""
    x = ops.maximum(x, 0.0)
    return ops.where(x <= 0.0031308, x * 12.92, 1.055 * ops.maximum(x, 0.0031308) ** (1 / 2.4) - 0.055)


def weights(indices, num_columns):
    """(rows, num_columns) float32 matrix whose row r averages the frames `indices[r]`, so a
    whole stack is one matrix product instead of a gather of every averaged frame."""
    indices = np.asarray(indices)
    out = np.zeros((len(indices), num_columns), np.float32)
    np.add.at(out, (np.repeat(np.arange(len(indices)), indices.shape[1]), indices.ravel()), 1.0 / indices.shape[1])
    return out


def mix(frames, weights, linear_light=False):
    """(K, H, W, C) float [0, 1] frames, (N, K) weights -> (N, H, W, C) weighted means, in
    stored values or in linear light."""
    frames = tf.convert_to_tensor(frames, tf.float32)
    if not linear_light:
        return tf.tensordot(weights, frames, 1)
    return tf.clip_by_value(linear_to_srgb(tf.tensordot(weights, srgb_to_linear(frames), 1)), 0.0, 1.0)


def blur_clip(frames, window=5, linear_light=False):
    """(T, H, W, C) sharp frames in [0, 1] -> (T, H, W, C) synthetic blurry frames."""
    length = int(frames.shape[0])
    idx = np.stack([window_indices(t, length, window) for t in range(length)])
    return mix(frames, weights(idx, length), linear_light)


def centre_frame(stack):
    """The middle RGB frame (frame t) of a (..., 3n) stack of frames t-2..t+2."""
    middle = 3 * (stack.shape[-1] // 6)
    return stack[..., middle:middle + 3]


# A photo has no neighbours. Five identical copies tell a network trained on video that
# nothing moved, so nothing is blurred, and it hands the photo back almost untouched. Copies
# moved sideways by k * PHOTO_SHIFT px (neighbour k = -2..2) look like a head in motion, and
# the committed model then corrects more: docs/video.md ("Photos"). Not in the paper; 0 gives
# the identical copies.
PHOTO_SHIFT = 2


def shifted(image, dx):
    """(..., H, W, C) image moved dx px along x (to the right for dx > 0), its edge column
    repeated into the gap (no wrap-around seam)."""
    width = tf.shape(image)[-2]
    return tf.gather(image, tf.clip_by_value(tf.range(width) - dx, 0, width - 1), axis=-2)


def photo_frames(frame, num_frames=5, shift=PHOTO_SHIFT):
    """A photo's stack as a list of num_frames frames: neighbour k (k = -2..2 for five) is
    the photo moved k * shift px along x; the centre frame is the photo itself."""
    h = num_frames // 2
    return [shifted(frame, k * shift) for k in range(-h, h + 1)]


def photo_stack(frame, num_frames=5, shift=PHOTO_SHIFT):
    """(..., H, W, 3) photo -> (..., H, W, 3 num_frames) network input, as float32 numpy."""
    return np.asarray(tf.concat(photo_frames(tf.convert_to_tensor(frame, tf.float32), num_frames, shift), -1))
