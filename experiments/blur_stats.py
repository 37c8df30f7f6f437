"""How blurry a blur configuration makes the val split, beside the authors' own pairs (vd001).

Prints, whole frame and face region: input PSNR of the blurry centre frame against the sharp
one (mean, median, 10th / 90th percentile, share above 40 dB), and the centre-to-neighbour
PSNR of the input stack (blurry frame t against t-1 and t+1: how different the network's
neighbours are). Our runs use the blur given; the authors' runs keep their stored blur.

    python experiments/blur_stats.py                      # the default preset
    python experiments/blur_stats.py --blur=paper         # the paper's plain 5-frame average
    python experiments/blur_stats.py --blur_set=head_speed=1:4,still_fraction=0
"""
import numpy as np
from absl import flags

import cli
import data_flags
import shared_flags
from shared_flags import Own

flags.adopt_module_key_flags(data_flags)
shared_flags.define("cache_dir", "every")
shared_flags.define("split")
shared_flags.define(seed=Own(0, "Seed of the per-frame motion (make eval uses 0)."))
flags.DEFINE_string("figure", "", "Also write a JPEG: sharp | the paper's 5-frame average | this blur, for "
                    "--figure_frames (e.g. docs/blur_examples.jpg).")
flags.DEFINE_list("figure_frames", ["mimictalk-german-00/150", "dpe-s-00/100", "livep-d19-00/100"],
                  "run/frame of the figure's rows.")
flags.DEFINE_bool("gate_scores", False, "Also print the blur score of the faces (the video tool's gate, "
                  "deblur3d/video/gate.py) and the share of faces each threshold leaves alone.")
flags.DEFINE_bool("realism", False, "Also print the noise level and the block structure (compression) of "
                  "the blurry and sharp frames, to set the noise and jpeg options against the authors' frames.")
FLAGS = flags.FLAGS


def describe(values):
    v = np.asarray(values)
    return (f"{v.mean():6.2f} {np.median(v):6.2f} {np.percentile(v, 10):6.2f} {np.percentile(v, 90):6.2f} "
            f"{100 * (v > 40).mean():5.0f}%")


def add(groups, name, stack, sharp, points68):
    """One frame's numbers into its group; neighbours identical to the centre (a clamped
    clip border) are left out of the centre-to-neighbour PSNR."""
    from deblur3d.data.frames import face_mask
    from deblur3d.eval.metrics import psnr
    centre = stack[..., 6:9]
    g = groups.setdefault(name, dict(w=[], f=[], n=[], blurry_score=[], sharp_score=[]))
    g["w"].append(psnr(centre, sharp))
    g["f"].append(psnr(centre, sharp, face_mask(sharp.shape, points68)))
    g["n"] += [psnr(centre, stack[..., k:k + 3]) for k in (3, 9) if not np.array_equal(centre, stack[..., k:k + 3])]
    if FLAGS.gate_scores:
        g["blurry_score"].append(face_blur_score(centre, points68))
        g["sharp_score"].append(face_blur_score(sharp, points68))
    if FLAGS.realism:
        for kind, image in (("blurry", centre), ("sharp", sharp)):
            g.setdefault(f"{kind}_noise", []).append(noise_sigma(image))
            g.setdefault(f"{kind}_blocks", []).append(blockiness(image))


def _grey255(image):
    return (0.299 * image[..., 0] + 0.587 * image[..., 1] + 0.114 * image[..., 2]) * 255


def noise_sigma(image):
    """Immerkaer's (1996) estimate of white noise sigma (0-255 grey levels): the image's
    response to a mask that cancels smooth structure, averaged in absolute value."""
    from scipy.signal import convolve2d
    mask = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float64)
    response = np.abs(convolve2d(_grey255(image), mask, mode="valid"))
    return float(np.sqrt(np.pi / 2) * response.mean() / 6)


def blockiness(image):
    """Mean |step| across the 8-px JPEG / H.264 block borders over the mean |step| elsewhere
    (1: no block structure; compression raises it)."""
    grey = _grey255(image)
    steps = np.abs(np.diff(grey, axis=1))   # step between columns c and c+1
    border = (np.arange(steps.shape[1]) % 8) == 7
    return float(steps[:, border].mean() / steps[:, ~border].mean())


def realism_table(groups):
    print("\nnoise sigma (grey levels, Immerkaer) and block-border ratio (1 = none), median over frames:")
    for name, g in groups.items():
        cells = [f"{kind} {np.median(g[kind + '_noise']):.2f} / {np.median(g[kind + '_blocks']):.3f}"
                 for kind in ("blurry", "sharp")]
        print(f"  {name:<24} " + "   ".join(cells))


def face_blur_score(image, points68):
    """The video tool's blur score (deblur3d/video/gate.py) of a face, cropped as the tool crops it."""
    from deblur3d.data import faces
    from deblur3d.video.gate import SCALE, face_score
    (_, _, region), = faces.crop_regions(points68[None], image.shape[:2], min_len=1)
    return face_score(faces.crop(image, region, SCALE), faces.crop_points(points68, region, SCALE))


def gate_table(groups):
    """Share of faces the video tool's gate would leave alone, for thresholds of the blur score,
    with the input PSNR of the blurred faces it would leave alone."""
    thresholds = (0.40, 0.45, 0.50, 0.55, 0.60)
    print("\nblur score of the face (0 sharp .. 1 blurry; deblur3d/video/gate.py): p10 / median / p90")
    for name, g in groups.items():
        for kind in ("sharp", "blurry"):
            v = np.array(g[f"{kind}_score"])
            print(f"  {name:<24} {kind:<6} {np.percentile(v, 10):.3f} / {np.median(v):.3f} / {np.percentile(v, 90):.3f}")
    print("share of faces left alone (score < threshold): sharp faces | blurred faces (their mean face PSNR)")
    for th in thresholds:
        cells = []
        for name, g in groups.items():
            sharp, blurry, face = (np.array(g[k]) for k in ("sharp_score", "blurry_score", "f"))
            alone = blurry < th
            psnr = f"{face[alone].mean():.1f} dB" if alone.any() else "—"
            cells.append(f"{name}: {100 * (sharp < th).mean():3.0f}% | {100 * alone.mean():3.0f}% ({psnr})")
        print(f"  {th:.2f}  " + "   ".join(cells))


def figure(path, blur_config):
    import cv2

    from deblur3d.data import blur_settings, cache, samples
    from deblur3d.eval.metrics import psnr
    runs = {r.name: r for r in cache.Cache(FLAGS.cache_dir).runs()}
    rows = []
    for item in FLAGS.figure_frames:
        name, t = item.rsplit("/", 1)
        run, t = runs[name], int(t)
        sharp = run.array("sharp")[t] / 255.0
        images = [sharp] + [next(samples.centre_blurry_frames(run, c, [t], FLAGS.seed))
                            for c in (blur_settings.PRESETS["paper"], blur_config)]
        labels = ["sharp", "paper: 5-frame mean", f"{FLAGS.blur}"]
        tiles = []
        for image, label in zip(images, labels):
            tile = np.ascontiguousarray(np.round(image * 255).astype(np.uint8)[..., ::-1])
            text = label if image is sharp else f"{label} {psnr(image, sharp):.1f} dB"
            cv2.putText(tile, text, (6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (255, 255, 255), 2, cv2.LINE_AA)
            tiles.append(tile)
        rows.append(np.concatenate(tiles, 1))
    cv2.imwrite(path, np.concatenate(rows, 0), [cv2.IMWRITE_JPEG_QUALITY, 85])
    print(f"wrote {path}")


def main(_):
    from deblur3d.data import cache, pipeline
    config = pipeline.PipelineConfig(cache_dir=FLAGS.cache_dir, split=FLAGS.split, seed=FLAGS.seed,
                                     blur=data_flags.blur_config())
    groups = {}
    for s in pipeline.evaluation_dataset(config, every=FLAGS.every):
        if not s["run"][0].numpy().decode().startswith("vd"):
            add(groups, "ours (val, every 10th)", s["blurry"][0].numpy(), s["sharp"][0].numpy(),
                s["points68"][0].numpy())
    for run in cache.Cache(FLAGS.cache_dir).runs(FLAGS.split):   # every frame of the authors' pairs
        if run.has("blurry"):
            blurry, sharp = run.array("blurry") / 255.0, run.array("sharp") / 255.0
            for t in range(len(sharp)):
                idx = pipeline.blur.window_indices(t, len(sharp), 5)
                add(groups, f"authors' {run.name}", np.concatenate(list(blurry[idx]), -1), sharp[t],
                    run.array("points68")[t])
    if FLAGS.figure:
        figure(FLAGS.figure, config.blur_config)
    print(f"blur: {config.blur_config}")
    print(f"{'frames':<24} {'n':>4} | PSNR: mean median p10 p90 >40dB  | face region: idem{'':>16} | centre-neighbour")
    for name, g in groups.items():
        print(f"{name:<24} {len(g['w']):>4} | {describe(g['w'])} | {describe(g['f'])} | {np.mean(g['n']):6.2f}")
    if FLAGS.gate_scores:
        gate_table(groups)
    if FLAGS.realism:
        realism_table(groups)


if __name__ == "__main__":
    cli.run(main)
