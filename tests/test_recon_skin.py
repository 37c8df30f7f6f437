"""Skin colour model: posterior vs a scipy hand computation, EM fit, file round trip, masks."""
import cv2
import numpy as np
import pytest
import tensorflow as tf
from scipy.stats import multivariate_normal

from deblur3d import paths
from deblur3d.recon.skin import SkinModel, face_region_masks, rgb_to_ycbcr


def toy_model(prior=0.8):
    return SkinModel(
        skin_weights=np.array([0.7, 0.3]),
        skin_means=np.array([[150.0, 110.0, 150.0], [100.0, 115.0, 145.0]]),
        skin_covariances=np.array([[[400, 20, -10], [20, 30, -5], [-10, -5, 40]],
                                   [[300, 0, 0], [0, 50, 10], [0, 10, 60]]], np.float64),
        nonskin_weights=np.array([0.5, 0.5]),
        nonskin_means=np.array([[120.0, 128.0, 128.0], [60.0, 140.0, 120.0]]),
        nonskin_covariances=np.array([np.eye(3) * 900, np.diag([500.0, 200.0, 150.0])]),
        skin_prior=prior)


def test_ycbcr_matches_opencv():
    rgb = np.random.default_rng(0).random((50, 3)).astype(np.float32)
    ycrcb = cv2.cvtColor(rgb[None], cv2.COLOR_RGB2YCrCb)[0] * 255.0
    np.testing.assert_allclose(rgb_to_ycbcr(rgb), ycrcb[:, [0, 2, 1]], atol=1e-3)


@pytest.mark.parametrize("prior", [0.8, 0.3])
def test_probability_matches_scipy(prior):
    model = toy_model(prior)
    rgb = np.array([[0.8, 0.6, 0.5], [0.5, 0.5, 0.5], [0.2, 0.3, 0.6], [0.6, 0.4, 0.35],
                    [0.9, 0.9, 0.9], [0.0, 0.0, 0.0]], np.float32)
    ycc = cv2.cvtColor(rgb[None], cv2.COLOR_RGB2YCrCb)[0][:, [0, 2, 1]].astype(np.float64) * 255.0

    def density(w, m, c):
        return sum(wk * multivariate_normal(mk, ck).pdf(ycc) for wk, mk, ck in zip(w, m, c))

    ps = density(model.skin_weights, model.skin_means, model.skin_covariances)
    pn = density(model.nonskin_weights, model.nonskin_means, model.nonskin_covariances)
    expected = prior * ps / (prior * ps + (1 - prior) * pn)
    got = model.probability(rgb.reshape(1, 2, 3, 3)).numpy()
    assert got.shape == (1, 2, 3, 1)
    np.testing.assert_allclose(got.reshape(-1), expected, atol=1e-4)
    assert expected.min() < 0.1 and expected.max() > 0.9   # the colours span both classes


def test_far_colours_stay_finite():
    # Both densities underflow to 0 in float64 here; the log-space posterior must not give NaN.
    far = toy_model()
    far = SkinModel(far.skin_weights, far.skin_means, far.skin_covariances / 100,
                    far.nonskin_weights, far.nonskin_means, far.nonskin_covariances / 100)
    p = far.probability(tf.constant([[[[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]]])).numpy()
    assert np.all(np.isfinite(p)) and np.all((p >= 0) & (p <= 1))


def test_fit_separates_clusters():
    rng = np.random.default_rng(1)
    skin_centre, other_centre = np.array([0.85, 0.6, 0.5]), np.array([0.2, 0.35, 0.7])

    def draw(centre, n):
        return np.clip(centre + 0.04 * rng.standard_normal((n, 3)), 0, 1)

    model = SkinModel.fit(draw(skin_centre, 3000), (draw(other_centre, 3000) * 255).astype(np.uint8),
                          components=2, seed=0)
    assert model.components == (2, 2)
    np.testing.assert_allclose(model.skin_weights.sum(), 1.0, atol=1e-6)
    skin = model.probability(draw(skin_centre, 500).reshape(1, 20, 25, 3)).numpy()
    other = model.probability(draw(other_centre, 500).reshape(1, 20, 25, 3)).numpy()
    assert skin.min() > 0.9 and other.max() < 0.1


def test_fit_rejects_bad_pixels():
    with pytest.raises(ValueError, match="expected \\(N, 3\\)"):
        SkinModel.fit(np.zeros((10, 4)), np.zeros((10, 3)))


def test_save_load_round_trip(tmp_path):
    model = toy_model()
    model.save(tmp_path / "skin.npz")
    back = SkinModel.load(tmp_path / "skin.npz")
    for name in ("skin_weights", "skin_means", "skin_covariances", "nonskin_weights",
                 "nonskin_means", "nonskin_covariances", "skin_prior"):
        np.testing.assert_array_equal(getattr(back, name), getattr(model, name))


def one_line_error(path, kind=ValueError):
    with pytest.raises(kind) as info:
        SkinModel.load(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    return message


def test_load_errors(tmp_path):
    one_line_error(tmp_path / "absent.npz", FileNotFoundError)
    (tmp_path / "text.npz").write_text("not a model\n")
    one_line_error(tmp_path / "text.npz")
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    assert "missing arrays" in one_line_error(tmp_path / "other.npz")
    arrays = {k: np.asarray(v) for k, v in vars(toy_model()).items()}
    arrays["skin_means"] = arrays["skin_means"][:, :2]
    np.savez(tmp_path / "shape.npz", **arrays)
    assert "(K, 3)" in one_line_error(tmp_path / "shape.npz")


def test_probability_in_tf_function():
    model = toy_model()
    images = tf.random.stateless_uniform((2, 16, 16, 3), seed=(1, 2))

    @tf.function
    def attention(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            p = model.probability(x)
        return p, tape.gradient(tf.reduce_sum(p), x)

    p, grad = attention(images)
    assert p.shape == (2, 16, 16, 1) and p.dtype == tf.float32
    assert np.all((p.numpy() >= 0) & (p.numpy() <= 1))
    assert grad is None   # stop_gradient: the attention is a constant weight


def cached_points():
    root = paths.REPO_ROOT / "cache" / "data"
    if not (root / "index.json").is_file():
        pytest.skip(f"no data cache at {root}")
    from deblur3d.data.cache import Cache
    run = Cache(root).runs()[0]
    return np.array(run.array("points68")[0]), run.meta["height"]


def test_face_region_masks():
    points, size = cached_points()
    skin, nonskin = face_region_masks(points, size)
    assert skin.shape == nonskin.shape == (size, size) and skin.dtype == nonskin.dtype == bool
    assert not np.any(skin & nonskin)
    assert skin.sum() > 0.05 * size * size and nonskin.sum() > 0.05 * size * size

    def at(mask, xy):
        x, y = np.round(xy).astype(int)
        return mask[y, x]

    # Eye centres, eye corners, mouth centre and lip corners are in neither mask.
    for xy in [points[36:42].mean(0), points[42:48].mean(0), points[36], points[45],
               points[60:68].mean(0), points[48], points[54], points[19], points[24]]:
        assert not at(skin, xy) and not at(nonskin, xy)
    # Cheek between the eye and the jaw, and the nose, are skin.
    assert at(skin, (points[41] + points[3]) / 2) and at(skin, points[29])
    wide = face_region_masks(points, (size, size + 40))   # the authors' 300VW frames are not square
    assert wide[0].shape == (size, size + 40) and np.array_equal(wide[0][:, :size], skin)
    with pytest.raises(ValueError, match="68, 2"):
        face_region_masks(points[:5], size)
