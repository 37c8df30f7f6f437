"""Builds what ReconNet is taught (deblur3d/recon/labels.py): the faces corpus and the train
clips, each face with dlib's 68 points, the MediaPipe teacher's 468 and the face model
fitted to both, seen sharp and blurred, every view aligned from points found on itself.

    .venv/bin/python experiments/label_faces.py --split=train   # -> cache/recon_labels/train.npz
    .venv/bin/python experiments/label_faces.py --split=val     # stills + val clips, for scoring
"""
from pathlib import Path

from absl import flags

import cli
import data_flags
import shared_flags
from shared_flags import Own
from deblur3d.recon import labels

flags.adopt_module_key_flags(data_flags)
shared_flags.define("cache_dir", "data_dir", "faces_dir", split="train")
shared_flags.define(out=Own("cache/recon_labels", "Folder of the labels; writes <out>/<split>.npz."))
flags.DEFINE_integer("blurry_views", 2, "Blurred views of each face, besides the sharp one.")
flags.DEFINE_integer("clip_every", 4, "One cached clip frame in this many (0: no clip frames).")
flags.DEFINE_integer("max_stills", None, "At most this many stills (quick builds).")
shared_flags.define(seed=Own(0, "Seed of the blur of each view."))
FLAGS = flags.FLAGS


def faces(split, blur):
    """(image uint8, 68 points or None, identity, blurred(k, points68) -> k-th blurry view) of the corpus
    stills (blurred as a still: recon/labels.py), then of the cached clip frames (blurred as
    evaluation blurs their centre frame, with seed k)."""
    import numpy as np

    from deblur3d import paths
    from deblur3d.data import stills
    from deblur3d.data.cache import Cache
    from deblur3d.data.samples import centre_blurry_frames
    rows = stills.corpus(FLAGS.faces_dir or paths.data_path("faces", root=FLAGS.data_dir), split)
    for n, row in enumerate(rows[:FLAGS.max_stills]):
        image = stills.read_rgb(row.path)
        yield image, None, row.identity, (
            lambda k, p68, image=image, n=n: labels.blurred_still(image, p68, blur, (FLAGS.seed, n, k)))
    if FLAGS.clip_every:
        for run in Cache(FLAGS.cache_dir).runs(split):
            if run.has("blurry"):   # the authors' vd001: a test set, never a label
                continue
            sharp, points = run.array("sharp"), run.array("points68")
            frames = list(range(0, run.meta["frames"], FLAGS.clip_every))
            views = [centre_blurry_frames(run, blur, frames, FLAGS.seed + k) for k in range(FLAGS.blurry_views)]
            for t in frames:
                blurry = [labels.to_uint8(next(v)) for v in views]   # in step with t: the run is opened once
                yield np.asarray(sharp[t]), np.asarray(points[t], np.float32), run.name, (
                    lambda k, _, blurry=blurry: blurry[k])


def main(_):
    import numpy as np
    from tqdm import tqdm

    from deblur3d.data.faces import FaceAnnotator
    from deblur3d.face import load_face_model
    from deblur3d.face.mediapipe_mesh import vertex_ids
    from deblur3d.face.render import FaceRenderer
    from deblur3d.recon.mesh_fit import joint_fitter
    from deblur3d.recon.teacher import FaceMesh

    model = load_face_model("ict", data_dir=FLAGS.data_dir)
    renderer = FaceRenderer(model)
    mesh_ids = vertex_ids(model, FLAGS.data_dir)
    annotator, teacher, blur = FaceAnnotator(), FaceMesh(), data_flags.blur_config()
    out = {k: [] for k in labels.FIELDS}
    identities, skipped, undetected = [], 0, 0
    for n, (image, points68, identity, blurred) in enumerate(tqdm(faces(FLAGS.split, blur), desc="faces", unit="face")):
        found = labels.sharp_points(annotator, teacher, image, points68)
        if found is None:
            skipped += 1
            continue
        points68, mesh = found
        views = [(image, False)] + [(blurred(k, points68), True) for k in range(FLAGS.blurry_views)]
        for view_image, blurry in views:
            crop, p68, m, detected, _ = labels.view(annotator, view_image, points68, mesh)
            undetected += not detected
            for key, value in zip(("inputs", "points68", "mesh", "group", "blurry"), (crop, p68, m, n, blurry)):
                out[key].append(value)
        identities.append(identity)
    arrays = {k: np.stack(v) for k, v in out.items() if v}
    print(f"{len(identities)} faces ({skipped} without a face skipped), {len(arrays['inputs'])} views, "
          f"{undetected} aligned in the sharp points' box (dlib found no face on them); fitting the face model")
    arrays["coeffs"] = labels.fit_groups(joint_fitter(renderer, mesh_ids), arrays["points68"], arrays["mesh"],
                                         arrays["group"], arrays["blurry"])
    path = Path(FLAGS.out) / f"{FLAGS.split}.npz"
    labels.save(path, **arrays)
    print(f"wrote {path}")


if __name__ == "__main__":
    cli.run(main)
