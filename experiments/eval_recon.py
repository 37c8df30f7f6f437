"""Evaluates reconstruction checkpoints on val frames the networks never saw.

Mean 68-point landmark error in pixels of the 224 aligned crops, with sharp and with
blurry input, for each given checkpoint (and the mean face, all coefficients zero), plus
a PNG sheet: blurry crop | our render | sharp crop for 6 val frames, and for frames of the
authors' vd001 sample their own render beside ours.

    python experiments/eval_recon.py --weights=pretrain=runs/recon_pretrain/recon.weights.npz,finetune=checkpoints/recon_ict.weights.npz
    python experiments/eval_recon.py --refine_landmarks=200 --sheet=   # + each refined to dlib's points
"""
import os

from absl import flags

import cli  # first: it imports TensorFlow quietly (deblur3d/__init__.py)
import tensorflow as tf
import data_flags

flags.adopt_module_key_flags(data_flags)

flags.DEFINE_list("weights", ["finetune=checkpoints/recon_ict.weights.npz"], "name=path of ReconNet weights.")
flags.DEFINE_enum("face_model", "ict", ["ict", "bfm"], "3D morphable model.")
flags.DEFINE_string("table", "results/recon_landmarks.md", "Markdown table of the errors.")
flags.DEFINE_string("sheet", "docs/recon_sheet.png", "PNG sheet ('' for none); uses the last --weights.")
flags.DEFINE_integer("refine_landmarks", 0, "Also score each ReconNet refined this many Adam steps to dlib's 68 "
                     "points on its input crop (deblur3d/priors/refine.py; not in the paper); 0: not.")
FLAGS = flags.FLAGS


def refined(net, renderer):
    """net -> a net whose coefficients are refined to dlib's 68 points on each input crop
    (found in the box dlib detects, else in the mean face's box: the crop is aligned)."""
    import numpy as np

    from deblur3d.data.faces import FaceAnnotator
    from deblur3d.priors.refine import LandmarkRefiner, blurry_points68

    refiner, annotator = LandmarkRefiner(renderer, FLAGS.refine_landmarks), FaceAnnotator()
    mean_face = renderer.landmarks(tf.zeros([1, 239])).numpy()[0]

    def run(images, training=False):
        images = np.asarray(images)
        points = np.stack([blurry_points68(annotator, image, mean_face)[0] for image in images])
        return tf.constant(refiner(np.asarray(net(images, training=False)), points))
    return run


def main(_):
    import cv2
    import numpy as np

    from deblur3d import paths
    from deblur3d.data.pipeline import PipelineConfig, aligned_dataset
    from deblur3d.face import load_face_model
    from deblur3d.face.align import fit_alignment
    from deblur3d.face.render import FaceRenderer
    from deblur3d.recon.training import build_net, landmark_errors

    renderer = FaceRenderer(load_face_model(FLAGS.face_model, data_dir=FLAGS.data_dir))
    val = aligned_dataset(PipelineConfig(cache_dir=FLAGS.cache_dir, split="val", batch_size=16,
                                         blur=data_flags.blur_config()),
                          shuffle=False, repeat=False)
    val = val.unbatch().shard(FLAGS.every, 0).batch(16)
    nets = {"mean face (zero coefficients)": lambda images, training=False: tf.zeros([images.shape[0], 239])}
    for item in FLAGS.weights:
        name, path = item.split("=", 1)
        nets[name] = build_net(path)
    if FLAGS.refine_landmarks:
        for name, net in list(nets.items()):
            nets[f"{name} + refinement ({FLAGS.refine_landmarks} steps)"] = refined(net, renderer)
    rows = []
    for name, net in nets.items():
        sharp, blurry = (landmark_errors(net, renderer, val, key) for key in ("sharp", "blurry"))
        rows.append(f"| {name} | {sharp.mean():.2f} | {blurry.mean():.2f} | {len(sharp)} |")
        print(rows[-1])
    table = (f"| ReconNet | landmark error, sharp input (px) | blurry input, {FLAGS.blur} blur (px) "
             "| val frames |\n"
             "|---|---|---|---|\n" + "\n".join(rows) + "\n")
    os.makedirs(os.path.dirname(FLAGS.table) or ".", exist_ok=True)
    with open(FLAGS.table, "w") as f:
        f.write(table)
    print(f"wrote {FLAGS.table}")

    if not FLAGS.sheet:
        return
    net = nets[list(nets)[-1]]
    batch = next(iter(val.unbatch().shard(max(1, 264 // 6), 0).batch(6)))
    renders = renderer(net(batch["blurry"])).image.numpy()
    tiles = [np.concatenate([b, r, s], 1) for b, r, s in zip(batch["blurry"].numpy(), renders, batch["sharp"].numpy())]
    sheet = [np.concatenate(tiles[i:i + 2], 1) for i in range(0, 6, 2)]
    authors = paths.data_path("300vw-sample", "vd001", root=FLAGS.data_dir)
    for name in ("00005", "00020"):
        frame = cv2.imread(str(authors / "blurry" / f"{name}.png"))[..., ::-1].astype(np.float32) / 255
        sharp = cv2.imread(str(authors / "sharp" / f"{name}.png"))[..., ::-1].astype(np.float32) / 255
        theirs = cv2.imread(str(authors / "face_render" / f"{name}.png"))[..., ::-1].astype(np.float32) / 255
        a = fit_alignment(np.loadtxt(authors / "face" / f"{name}.txt"))
        crop = a.crop(frame)
        ours = renderer(net(crop[None])).image.numpy()[0]
        sheet.append(np.concatenate([crop, ours, a.crop(sharp), crop, theirs, a.crop(sharp)], 1))
    image = (np.clip(np.concatenate(sheet, 0), 0, 1) * 255).round().astype(np.uint8)
    os.makedirs(os.path.dirname(FLAGS.sheet) or ".", exist_ok=True)
    cv2.imwrite(FLAGS.sheet, image[..., ::-1])
    print(f"wrote {FLAGS.sheet}: 3 rows of val frames (blurry | ours | sharp, twice), "
          f"then 2 rows of vd001: blurry | ours | sharp | blurry | authors' | sharp")


if __name__ == "__main__":
    cli.run(main)
