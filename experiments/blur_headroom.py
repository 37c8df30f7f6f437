"""How much of the synthesised blur a local linear filter can undo: a floor for what a
deblurring network should learn, and a check that the data hold something to learn.

Fits, by least squares on train patches, the best linear map from a k×k neighbourhood of
the 15-channel blurry stack to the residual sharp − blurry centre, and reports its PSNR
gain over the blurry centre frame on train and val patches. With --shared_channels one
k×k×5 filter serves red, green and blue alike (each colour sees its own 5 frames): 15×
fewer weights, so a short fit says what generalises rather than what overfits. When even
the train gain is a fraction of a dB, the difference between the frames is mostly what no
filter can predict (noise, compression, motion that the frame average cancels), not blur.

    python experiments/blur_headroom.py --blur_window=9 --kernel=9
    python experiments/blur_headroom.py --blur_window=9 --kernel=5 --shared_channels
"""
from absl import flags

import cli  # first: it imports TensorFlow quietly (deblur3d/__init__.py)
import shared_flags
from shared_flags import Own
import tensorflow as tf

shared_flags.define("cache_dir")
flags.DEFINE_integer("blur_window", None, "Frames averaged per blurry frame (default: the blur preset's).")
shared_flags.define(kernel=Own(5, "Side of the neighbourhood the filter sees."))
shared_flags.define(patch_size=Own(64, "Patch side."))
shared_flags.define(batches=Own(40, "Batches of 8 patches per split (val uses half)."))
flags.DEFINE_integer("pixels", 1000, "Pixels sampled per patch.")
flags.DEFINE_bool("shared_channels", False, "One k×k×5 filter for all three colours (else one per colour "
                  "over all 15 channels).")
FLAGS = flags.FLAGS


def by_colour(features, targets):
    """(N, k²·15) neighbourhoods, (N, 3) targets -> (3N, k²·5), (3N, 1): a row per pixel and
    colour. A neighbourhood is ordered (row, column, channel) and the stack's channels are
    frame-major (RGB of t-2, then of t-1, ...), so the colour is the fastest index."""
    n = len(features)
    return features.reshape(n, -1, 3).transpose(0, 2, 1).reshape(3 * n, -1), targets.reshape(3 * n, 1)


def samples(split, batches, seed):
    """-> (features, residual targets) from random patches of `split`: (N, k²·15 + 1), (N, 3),
    or with --shared_channels (3N, k²·5 + 1), (3N, 1), one row per pixel and colour."""
    import numpy as np

    from deblur3d.data.blur import centre_frame
    from deblur3d.data.pipeline import PipelineConfig, training_dataset
    k, rng = FLAGS.kernel, np.random.default_rng(seed)
    dataset = training_dataset(PipelineConfig(cache_dir=FLAGS.cache_dir, split=split, batch_size=8, seed=seed,
                                              patch_size=FLAGS.patch_size, blur_window=FLAGS.blur_window))
    features, targets = [], []
    for batch in dataset.take(batches):
        patches = tf.image.extract_patches(batch["blurry"], [1, k, k, 1], [1] * 4, [1] * 4, "VALID").numpy()
        residual = (batch["sharp"] - centre_frame(batch["blurry"])).numpy()[:, k // 2:-(k // 2), k // 2:-(k // 2)]
        patches, residual = patches.reshape(-1, patches.shape[-1]), residual.reshape(-1, 3)
        pick = rng.choice(len(patches), FLAGS.pixels * 8, replace=False)
        patches, residual = patches[pick], residual[pick]
        if FLAGS.shared_channels:
            patches, residual = by_colour(patches, residual)
        features.append(patches)
        targets.append(residual)
    x = np.concatenate(features)
    return np.concatenate([x, np.ones((len(x), 1), x.dtype)], 1), np.concatenate(targets)


def main(_):
    import numpy as np
    x, y = samples("train", FLAGS.batches, seed=1)
    weights = np.linalg.lstsq(x, y, rcond=None)[0]
    print(f"linear {FLAGS.kernel}×{FLAGS.kernel} filter over the 15-channel stack"
          f"{' (shared by the colours)' if FLAGS.shared_channels else ''}, blur window "
          f"{FLAGS.blur_window or 'of the preset'}, {FLAGS.patch_size}² patches:")
    for split, (xs, ys) in {"train": (x, y), "val": samples("val", FLAGS.batches // 2, seed=2)}.items():
        before, after = np.mean(ys ** 2), np.mean((ys - xs @ weights) ** 2)
        print(f"  {split:5s} input PSNR {10 * np.log10(1 / before):6.2f} dB, "
              f"filtered {10 * np.log10(1 / after):6.2f} dB, gain {10 * np.log10(before / after):+.3f} dB")


if __name__ == "__main__":
    cli.run(main)
