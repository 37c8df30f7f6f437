"""How much of the synthesised blur a local linear filter can undo: a floor for what a
deblurring network should learn, and a check that the data hold something to learn.

Fits, by least squares on train patches, the best linear map from a k×k neighbourhood of
the 15-channel blurry stack to the residual sharp − blurry centre, and reports its PSNR
gain over the blurry centre frame on train and val patches. When even the train gain is
a fraction of a dB, the difference between the frames is mostly what no filter can
predict (noise, compression, motion that the frame average cancels), not blur.

    python experiments/blur_headroom.py --blur_window=9 --kernel=9
"""
from absl import app, flags

flags.DEFINE_string("cache_dir", None, "Data cache (default cache/data).")
flags.DEFINE_integer("blur_window", None, "Sharp frames averaged per blurry frame (default: the cache's).")
flags.DEFINE_integer("kernel", 5, "Side of the neighbourhood the filter sees.")
flags.DEFINE_integer("patch_size", 64, "Patch side.")
flags.DEFINE_integer("batches", 40, "Batches of 8 patches per split (val uses half).")
flags.DEFINE_integer("pixels", 1000, "Pixels sampled per patch.")
FLAGS = flags.FLAGS


def samples(split, batches, seed):
    """-> (features (N, k²·15 + 1), residual targets (N, 3)) from random patches of `split`."""
    import numpy as np
    import tensorflow as tf

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
        features.append(patches[pick])
        targets.append(residual[pick])
    x = np.concatenate(features)
    return np.concatenate([x, np.ones((len(x), 1), x.dtype)], 1), np.concatenate(targets)


def main(_):
    import numpy as np
    x, y = samples("train", FLAGS.batches, seed=1)
    weights = np.linalg.lstsq(x, y, rcond=None)[0]
    print(f"linear {FLAGS.kernel}×{FLAGS.kernel} filter over the 15-channel stack, blur window "
          f"{FLAGS.blur_window or 'of the cache'}, {FLAGS.patch_size}² patches:")
    for split, (xs, ys) in {"train": (x, y), "val": samples("val", FLAGS.batches // 2, seed=2)}.items():
        before, after = np.mean(ys ** 2), np.mean((ys - xs @ weights) ** 2)
        print(f"  {split:5s} input PSNR {10 * np.log10(1 / before):6.2f} dB, "
              f"filtered {10 * np.log10(1 / after):6.2f} dB, gain {10 * np.log10(before / after):+.3f} dB")


if __name__ == "__main__":
    app.run(main)
