"""The dense teacher: MediaPipe's face-mesh network read through tf.lite, its crop, the
canonical mesh's correspondence with ICT, the ICT fit to 468 points, and the training step."""
import numpy as np
import pytest
import tensorflow as tf

from deblur3d.recon import teacher


def test_the_teacher_crop_and_its_inverse_round_trip_exactly():
    a = teacher.box_crop((40.5, 60.0, 140.5, 170.0))
    assert a.size == teacher.INPUT_SIZE
    # The square crop is 1.5 × the box's longer side (110 px), centred on the box.
    np.testing.assert_allclose(a.scale, 192 / 165.0)
    np.testing.assert_allclose(a.to_crop([[90.5, 115.0]]), [[96.0, 96.0]])
    points = np.random.default_rng(0).uniform(0, 300, size=(50, 2))
    np.testing.assert_allclose(a.to_frame(a.to_crop(points)), points, atol=1e-9)
    with pytest.raises(ValueError):
        teacher.box_crop((10, 10, 10, 10))


@pytest.fixture(scope="module")
def vd001_face(data_root):
    from deblur3d.data import readers
    from deblur3d.data.faces import FaceAnnotator
    a = readers.read_authors(data_root / "300vw-sample" / "vd001")
    image = np.ascontiguousarray(a["sharp"][0])
    annotator = FaceAnnotator()
    box = annotator.detect(image)[0]
    return image, box, annotator.landmarks(image, box)


def test_the_teacher_finds_468_points_on_a_real_face_inside_its_box(vd001_face):
    image, box, points68 = vd001_face
    points, presence = teacher.FaceMesh()(image.astype(np.float32) / 255, box)
    assert points.shape == (468, 3) and presence > 0
    x0, y0, x1, y1 = box
    margin = 0.25 * (x1 - x0)   # dlib's box is tight on the brows and chin
    assert (points[:, 0] > x0 - margin).all() and (points[:, 0] < x1 + margin).all()
    assert (points[:, 1] > y0 - margin).all() and (points[:, 1] < y1 + margin).all()
    # Its nose tip and outer eye corners land near dlib's (the two never agree exactly).
    for mesh_id, dlib_id in ((1, 30), (33, 36), (263, 45)):
        assert np.linalg.norm(points[mesh_id, :2] - points68[dlib_id]) < 0.1 * (x1 - x0)


@pytest.fixture(scope="module")
def mesh_ids(ict_model, data_root):
    from deblur3d.face.mediapipe_mesh import vertex_ids
    return vertex_ids(ict_model, data_root)


def test_the_correspondence_ties_the_named_points_to_their_ict_landmarks(ict_model, mesh_ids):
    from deblur3d.face.mediapipe_mesh import DLIB_ANCHORS, MESH_ANCHORS
    shape = ict_model.mean_shape
    assert mesh_ids.shape == (468,) and ict_model.photo_mask[mesh_ids].all()
    width = shape[:, 0].max() - shape[:, 0].min()
    for mesh_id, dlib_id in zip(MESH_ANCHORS, DLIB_ANCHORS):
        gap = np.linalg.norm(shape[mesh_ids[mesh_id]] - shape[ict_model.landmarks[dlib_id]])
        assert gap < 0.06 * width, (mesh_id, dlib_id, gap)


def test_the_ict_fit_recovers_identity_expression_and_pose_from_468_points(ict_model, mesh_ids):
    """Points made from known coefficients give them back: the pose, and the face's shape due
    to identity and to expression (as shapes: ICT's bases also move the back of the head and
    the neck, which no face point sees, so their coefficients are not unique)."""
    from deblur3d.face import coeffs as coeffs_lib
    from deblur3d.face.render import FaceRenderer
    from deblur3d.recon.mesh_fit import MeshFitter

    rng = np.random.default_rng(3)
    truth = np.zeros([2, 239], np.float32)
    truth[:, :10] = rng.normal(scale=0.8, size=(2, 10))                 # identity
    face = np.flatnonzero(ict_model.photo_mask)
    # Blendshapes that move the face a lot (a blink moves it too little to judge).
    big = np.argsort(-np.linalg.norm(ict_model.exp_basis[:, face], axis=-1).mean(1))[:6]
    truth[0, 80 + big[0]], truth[0, 80 + big[3]], truth[1, 80 + big[1]], truth[1, 80 + big[5]] = 0.6, 0.6, 0.4, 0.4
    truth[:, coeffs_lib.SLICES["rotation"]] = [[0.1, -0.25, 0.05], [-0.05, 0.2, -0.1]]
    truth[:, coeffs_lib.SLICES["translation"]] = [[0.05, -0.03, 0.0], [-0.04, 0.02, 0.0]]
    fitter = MeshFitter(FaceRenderer(ict_model), mesh_ids, steps=800, identity_prior=1e-5, expression_prior=1e-5)
    points = fitter.project(tf.constant(truth)).numpy()
    fitted = fitter(points)
    np.testing.assert_allclose(fitter.project(tf.constant(fitted)).numpy()[..., :2], points[..., :2], atol=0.5)
    for name, tolerance in (("rotation", 0.015), ("translation", 0.005)):
        np.testing.assert_allclose(fitted[:, coeffs_lib.SLICES[name]], truth[:, coeffs_lib.SLICES[name]],
                                   atol=tolerance)
    zero_id, zero_exp = np.zeros([2, 80], np.float32), np.zeros([2, 64], np.float32)

    def shape(identity, expression):
        return ict_model.shape(tf.constant(identity), tf.constant(expression), face).numpy()
    for part, (a, b) in {"identity": ((truth[:, :80], zero_exp), (fitted[:, :80], zero_exp)),
                         "expression": ((truth[:, :80], truth[:, 80:144]), (truth[:, :80], fitted[:, 80:144]))}.items():
        base = shape(zero_id, zero_exp) if part == "identity" else shape(truth[:, :80], zero_exp)
        moved = np.linalg.norm(shape(*a) - base, axis=-1).mean(1)
        error = np.linalg.norm(shape(*b) - shape(*a), axis=-1).mean(1)
        assert (error < 0.25 * moved).all(), (part, error, moved)


def test_one_identity_is_held_across_the_frames_of_a_track(ict_model, mesh_ids):
    from deblur3d.face.render import FaceRenderer
    from deblur3d.recon.mesh_fit import MeshFitter
    fitter = MeshFitter(FaceRenderer(ict_model), mesh_ids, steps=30)
    points = fitter.project(tf.zeros([3, 239])).numpy() + np.random.default_rng(0).normal(size=(3, 468, 3))
    fitted = fitter(points, shared_identity=True)
    np.testing.assert_allclose(fitted[1:, :80], np.repeat(fitted[:1, :80], 2, 0), atol=1e-6)
    assert np.abs(fitter(points)[:, :80] - fitted[:, :80]).max() > 1e-4   # not shared unless asked


def test_a_two_sample_overfit_of_the_teacher_step_lowers_the_dense_term(ict_model, mesh_ids):
    from deblur3d.face.render import FaceRenderer
    from deblur3d.recon.model import ReconNet
    from deblur3d.recon.task import TEACHER_DISTILLED, TEACHER_TERMS, ReconTask, ReconWeights
    from deblur3d.train import schedules
    from deblur3d.train.loop import build
    from deblur3d.train.step import make_train_step

    tf.keras.utils.set_random_seed(0)
    renderer = FaceRenderer(ict_model)
    rng = np.random.default_rng(1)
    coeffs = np.zeros([2, 239], np.float32)
    coeffs[:, 224:227] = [[0.1, 0.3, 0.0], [-0.1, -0.2, 0.1]]
    batch = {"inputs": tf.constant(rng.uniform(size=[2, 224, 224, 3]), tf.float32),
             "points68": renderer.landmarks(coeffs), "mesh": renderer.points(coeffs, mesh_ids),
             "coeffs": tf.constant(coeffs)}
    task = ReconTask(ReconNet(64), renderer, None, ReconWeights(distill=0.1), TEACHER_TERMS, "inputs", "inputs",
                     mesh_ids, TEACHER_DISTILLED)
    optimizer = schedules.adam(schedules.learning_rate(initial=1e-4))
    build(task, optimizer, batch)
    step = make_train_step(task, optimizer)
    history = [float(step(batch)["dense"]) for _ in range(30)]
    assert max(history[-3:]) < 0.7 * history[0], history


def test_eval_recon_scores_any_folder_of_faces_into_json(data_root, tmp_path):
    """A folder with subfolders and no manifest: every image with one face is scored; the JSON
    has the mean face first, then the default ReconNet, each with sharp and blurry errors."""
    import json
    import shutil
    import subprocess
    import sys

    from deblur3d import paths
    from deblur3d.data import stills
    rows = stills.corpus(data_root / "faces", "val")[:3]
    for i, row in enumerate(rows):
        (tmp_path / "faces" / f"sub{i % 2}").mkdir(parents=True, exist_ok=True)
        shutil.copy(row.path, tmp_path / "faces" / f"sub{i % 2}" / row.path.name)
    (tmp_path / "faces" / "notes.txt").write_text("not an image")
    out = tmp_path / "errors.json"
    result = subprocess.run([sys.executable, str(paths.REPO_ROOT / "experiments" / "eval_recon.py"),
                             f"--faces_dir={tmp_path / 'faces'}", f"--json={out}", "--noteacher", "--sheet=",
                             f"--table={tmp_path / 't.md'}"], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    scores = json.loads(out.read_text())
    names = list(scores)
    assert names[:2] == ["mean face", "default"]
    for row in scores.values():
        assert set(row) == {"sharp", "blurry"} and all(0 < v < 40 for v in row.values())
    assert "3 faces" in (tmp_path / "t.md").read_text()


def test_a_still_is_blurred_only_by_the_motion_drawn_for_it():
    from deblur3d.data import blur_settings, stills
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (96, 80, 3)).astype(np.uint8)
    points = rng.uniform(25, 60, (68, 2)).astype(np.float32)
    still = stills.blur_still(image, points, blur_settings.resolve("authors"))   # no added motion
    np.testing.assert_allclose(still, image.astype(np.float32) / 255, atol=1e-6)
    moved = stills.blur_still(image, points, blur_settings.resolve("realistic"), seed=3)
    assert moved.shape == still.shape and np.abs(moved - still).mean() > 0.01
    np.testing.assert_array_equal(moved, stills.blur_still(image, points, blur_settings.resolve("realistic"), seed=3))
