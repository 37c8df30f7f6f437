import numpy as np

from deblur3d.face import coeffs as coeffs_lib
from deblur3d.face.align import fit_alignment
from deblur3d.priors import refine


def _posed(rng):
    """Two faces turned, shifted and with an expression: coefficients whose landmarks are a target."""
    c = np.zeros((2, coeffs_lib.NUM_COEFFS), np.float32)
    c[:, coeffs_lib.SLICES["rotation"]] = [[0.1, -0.2, 0.05], [-0.1, 0.15, 0.0]]
    c[:, coeffs_lib.SLICES["expression"].start:coeffs_lib.SLICES["expression"].start + 10] = rng.normal(size=(2, 10)) * 0.5
    return c


def test_refinement_brings_the_mean_face_onto_the_landmarks_and_keeps_texture_and_light(ict_model):
    from deblur3d.face.render import FaceRenderer
    renderer = FaceRenderer(ict_model)
    target = renderer.landmarks(_posed(np.random.default_rng(0))).numpy()
    start = np.zeros((2, coeffs_lib.NUM_COEFFS), np.float32)
    start[:, coeffs_lib.SLICES["texture"]] = 0.3
    start[:, coeffs_lib.SLICES["light"]] = 0.7
    error = lambda c: np.linalg.norm(renderer.landmarks(c).numpy() - target, axis=-1).mean()  # noqa: E731
    assert error(start) > 3.0
    refined = refine.LandmarkRefiner(renderer, steps=200)(start, target)
    assert error(refined) < 0.5
    for name in ("texture", "light"):   # not refined: ReconNet's, exactly
        np.testing.assert_array_equal(refined[:, coeffs_lib.SLICES[name]], start[:, coeffs_lib.SLICES[name]])
    # Zero steps: the paper's way, ReconNet's coefficients as they are.
    np.testing.assert_array_equal(refine.LandmarkRefiner(renderer, steps=0)(start, target), start)


def test_refinement_of_one_frame_does_not_depend_on_the_others_in_its_batch(ict_model):
    from deblur3d.face.render import FaceRenderer
    renderer = FaceRenderer(ict_model)
    posed = _posed(np.random.default_rng(1))
    target = renderer.landmarks(posed).numpy()
    refiner = refine.LandmarkRefiner(renderer, steps=30)
    both = refiner(np.zeros_like(posed), target)
    alone = refiner(np.zeros_like(posed[:1]), target[:1])
    np.testing.assert_allclose(both[:1], alone, atol=1e-5)


def test_points_go_to_the_crop_of_their_own_five_points():
    p5 = np.array([[[80.0, 90.0], [140.0, 92.0], [111.0, 125.0], [88.0, 160.0], [135.0, 161.0]],
                   [[30.0, 40.0], [60.0, 41.0], [45.0, 58.0], [33.0, 72.0], [58.0, 73.0]]], np.float32)
    p68 = np.random.default_rng(0).uniform(20, 170, size=(2, 68, 2)).astype(np.float32)
    got = refine.crop_points68(p68, p5)
    for k in range(2):
        np.testing.assert_allclose(fit_alignment(p5[k]).to_frame(got[k]), p68[k], atol=1e-3)


def test_five_point_face_keeps_the_centroid_and_doubles_the_spread():
    p5 = np.array([[10.0, 10.0], [30.0, 10.0], [20.0, 20.0], [12.0, 30.0], [28.0, 30.0]])
    got = refine.five_point_face(p5)
    np.testing.assert_allclose(got.mean(0), p5.mean(0), atol=1e-5)
    np.testing.assert_allclose(got[1] - got[0], 2 * (p5[1] - p5[0]), atol=1e-5)


def test_online_priors_refine_to_tracked_points_or_to_dlibs_own(data_root):
    from deblur3d.face import load_face_model
    from deblur3d.face.render import FaceRenderer
    from deblur3d.priors.online import OnlineFramePriors
    from deblur3d.priors.settings import PriorsSettings
    online = OnlineFramePriors(PriorsSettings(recon_weights=None, refine_landmarks=200), data_root)
    assert online.available() and online.refining
    renderer = FaceRenderer(load_face_model("ict", data_dir=data_root))
    p5 = np.array([[[120.0, 130.0], [180.0, 130.0], [150.0, 165.0], [128.0, 195.0], [172.0, 195.0]]], np.float32)
    crop_target = renderer.landmarks(_posed(np.random.default_rng(2))[:1]).numpy()
    tracked = fit_alignment(p5[0]).to_frame(crop_target[0])[None]          # the same points in the frame
    frames = np.zeros((1, 256, 300, 3), np.float32)
    refined = online.refine(np.zeros((1, coeffs_lib.NUM_COEFFS), np.float32), frames, p5, tracked)
    assert np.linalg.norm(renderer.landmarks(refined).numpy() - crop_target, axis=-1).mean() < 0.5
    # Without tracked points, dlib's own on the frame (here in the box about the five points).
    own = online.refine(np.zeros((1, coeffs_lib.NUM_COEFFS), np.float32), frames, p5)
    assert own.shape == (1, coeffs_lib.NUM_COEFFS) and np.isfinite(own).all()
    render, identity = online(np.zeros((1, 256, 300, 15), np.float32), p5)
    assert render.shape == (1, 256, 300, 3) and identity.shape == (1, 80)
