"""Scores ReconNet on people it never saw: the mean 68-point landmark error in pixels of the
224 aligned crop, with sharp and with blurry input, each face aligned from points found on
the image it shows (deblur3d/eval/recon_sets.py), for the mean face, each --weights, the
teacher fit (MediaPipe's 468 points, the face model fitted to them) and optionally each
refined to dlib's 68 points.

    python experiments/eval_recon.py                      # val clips, val stills, vd001
    python experiments/eval_recon.py --faces_dir=my_faces --json=errors.json   # any folder
"""
import json
import os

from absl import flags

import cli
import data_flags
import shared_flags
from shared_flags import Own

flags.adopt_module_key_flags(data_flags)

shared_flags.define(weights=Own(None, "name=path,... of ReconNet weights (default: the ReconNet taught on people, "
                                      "checkpoints/recon_people.weights.npz, then the one the committed "
                                      "DeblurNets' priors use)."))
flags.DEFINE_list("sets", ["clips", "stills", "authors"], "What to score: clips (the val clips, --every), stills "
                  "(--faces_dir), authors (--authors_dir). With --faces_dir alone: stills only.")
shared_flags.define("faces_dir")
flags.DEFINE_string("faces_split", "val", "With a manifest.csv in --faces_dir: score only this split.")
shared_flags.define("authors_dir", "cache_dir", "data_dir", "every")
flags.DEFINE_bool("teacher", True, "Also score the teacher fit (MediaPipe's 468 points on the crop, fitted).")
shared_flags.define(refine_landmarks=0)
shared_flags.define(table=Own("results/recon_landmarks.md", "Markdown table of the errors."))
shared_flags.define(sheet=Own("docs/recon_sheet.jpg", "Figure 3 sheet of the first --weights ('' for none): blurry "
                                                      "crop | its render (light and albedo solved on the crop) | "
                                                      "the authors' (vd001) | sharp."))
flags.DEFINE_string("json", None, "Also write {row: {\"sharp\": px, \"blurry\": px}} of the first set scored.")
FLAGS = flags.FLAGS
MEAN_FACE = "mean face"


def face_sets(annotator):
    from deblur3d import paths
    from deblur3d.data import stills
    from deblur3d.eval import recon_sets
    sets = ["stills"] if FLAGS["faces_dir"].present and not FLAGS["sets"].present else FLAGS.sets
    unknown = set(sets) - {"clips", "stills", "authors"}
    if unknown:
        raise ValueError(f"--sets: unknown {sorted(unknown)}; choose from clips, stills, authors")
    blur = data_flags.blur_config()
    for name in sets:
        if name == "clips":
            yield recon_sets.clips_set(FLAGS.cache_dir, "val", FLAGS.every, blur, annotator)
        elif name == "stills":
            folder = FLAGS.faces_dir or paths.data_path("faces", root=FLAGS.data_dir)
            rows = stills.folder(folder, FLAGS.faces_split)
            yield recon_sets.stills_set(rows, blur, annotator, name=f"stills ({folder})")
        else:
            yield recon_sets.authors_set(FLAGS.authors_dir or paths.data_path("300vw-sample", "vd001",
                                                                              root=FLAGS.data_dir), annotator)


def predictors(renderer, annotator):
    """{row name: images (B, 224, 224, 3) float -> coefficients (B, 239)}."""
    import numpy as np
    import tensorflow as tf

    from deblur3d import paths
    from deblur3d.recon.training import build_net
    rows = {MEAN_FACE: lambda images: np.zeros([len(images), 239], np.float32)}
    for item in (FLAGS.weights.split(",") if FLAGS.weights else
                 [f"default={paths.RECON_PEOPLE}", f"committed before (10 faces)={paths.RECON_WEIGHTS}"]):
        name, sep, path = item.partition("=")
        if not sep:
            raise ValueError(f"--weights: {item!r} is not name=path")
        net = build_net(path)
        rows[name] = lambda images, net=net: net(tf.constant(images), training=False).numpy()
    if FLAGS.teacher:
        from deblur3d.priors.mesh_priors import TeacherFit
        rows["teacher fit (MediaPipe 468 points, fitted)"] = TeacherFit(renderer, data_dir=FLAGS.data_dir)
    if FLAGS.refine_landmarks:
        from deblur3d.priors.refine import LandmarkRefiner, blurry_points68
        refiner = LandmarkRefiner(renderer, FLAGS.refine_landmarks)
        mean_face = renderer.landmarks(tf.zeros([1, 239])).numpy()[0]
        for name, predict in list(rows.items()):
            def refined(images, predict=predict):
                rgb = [np.ascontiguousarray(im) for im in images]
                points = np.stack([blurry_points68(annotator, im, mean_face)[0] for im in rgb])
                return refiner(predict(images), points)
            rows[f"{name} + refinement ({FLAGS.refine_landmarks} steps)"] = refined
    return rows


def sheet_tiles(faces, predict, renderer, count=2):
    """`count` rows of a set: blurry crop | render | the authors' render (their set) or black | sharp crop;
    `renderer` has the rich albedo basis the texture is solved in."""
    import numpy as np

    from deblur3d.priors.texture import fit_texture
    picks = np.linspace(0, len(faces.blurry) - 1, count).astype(int)
    blurry = faces.blurry[picks].astype(np.float32) / 255
    coeffs, _ = fit_texture(renderer, renderer.face_model.bound(predict(blurry)).numpy(), blurry)
    renders = np.clip(renderer(coeffs).image.numpy(), 0, 1)
    theirs = faces.theirs[picks] if faces.theirs is not None else np.zeros_like(faces.blurry[picks])
    return [np.concatenate([faces.blurry[i], np.round(r * 255).astype(np.uint8), t, faces.sharp[i]], 1)
            for i, r, t in zip(picks, renders, theirs)]


def write_sheet(rows):
    import cv2
    import numpy as np
    os.makedirs(os.path.dirname(FLAGS.sheet) or ".", exist_ok=True)
    cv2.imwrite(FLAGS.sheet, np.concatenate(rows, 0)[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 88])
    print(f"wrote {FLAGS.sheet}: blurry | ReconNet's render (light and albedo solved on the crop) | authors' "
          "(vd001 rows) | sharp")


def main(_):
    from deblur3d import paths
    from deblur3d.data.faces import FaceAnnotator
    from deblur3d.eval.recon_sets import landmark_error
    from deblur3d.face import load_face_model
    from deblur3d.face.render import FaceRenderer

    renderer, annotator = FaceRenderer(load_face_model("ict", data_dir=FLAGS.data_dir)), FaceAnnotator()
    rows = predictors(renderer, annotator)
    tables, first, sheet_rows = [], None, []
    rich = FLAGS.sheet and load_face_model("ict", data_dir=FLAGS.data_dir, albedo_path=paths.ICT_ALBEDO_RICH)
    sheet_renderer = FaceRenderer(rich) if rich else None
    for faces in face_sets(annotator):
        scores = {}
        for name, predict in rows.items():
            scores[name] = {view: float(landmark_error(predict, renderer, getattr(faces, view),
                                                       getattr(faces, f"{view}_points")).mean())
                            for view in ("sharp", "blurry")}
            print(f"{faces.name}: {name}: sharp {scores[name]['sharp']:.2f} px, blurry {scores[name]['blurry']:.2f} px",
                  flush=True)
        mean = scores[MEAN_FACE]
        lines = [f"| {name} | {s['sharp']:.2f} ({s['sharp'] / mean['sharp']:.2f}×) | "
                 f"{s['blurry']:.2f} ({s['blurry'] / mean['blurry']:.2f}×) |" for name, s in scores.items()]
        tables.append(f"**{faces.name}**: {len(faces.sharp)} faces; {faces.undetected} blurry ones dlib found no face "
                      "on (aligned in the sharp points' box)\n\n| ReconNet | sharp input: px (× mean face) | blurry "
                      f"input ({FLAGS.blur} blur; the authors' on their frames) |\n|---|---|---|\n" + "\n".join(lines) + "\n")
        first = first or scores
        if FLAGS.sheet and len(rows) > 1:
            sheet_rows.extend(sheet_tiles(faces, rows[list(rows)[1]], sheet_renderer))
    if sheet_rows:
        write_sheet(sheet_rows)
    os.makedirs(os.path.dirname(FLAGS.table) or ".", exist_ok=True)
    with open(FLAGS.table, "w") as f:
        f.write("\n".join(tables))
    print(f"wrote {FLAGS.table}")
    if FLAGS.json:
        with open(FLAGS.json, "w") as f:
            json.dump(first, f, indent=1)
        print(f"wrote {FLAGS.json}")


if __name__ == "__main__":
    cli.run(main)
