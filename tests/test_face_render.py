"""The renderer on the open ICT model: framing, landmarks, gradients, tf.function."""
import numpy as np
import pytest
import scipy.ndimage
import tensorflow as tf

from deblur3d.face import coeffs
from deblur3d.face.render import FaceRenderer


@pytest.fixture(scope="module")
def renderer(ict_model):
    return FaceRenderer(ict_model)


def check_mean_face_framing(rendering):
    """Shared by the ICT test here and the BFM-layout test in test_face_bfm_render.py."""
    mask = rendering.mask.numpy()[0, ..., 0]
    coverage = mask.mean()
    assert 0.2 < coverage < 0.6, coverage
    ys, xs = np.nonzero(mask)
    assert abs(xs.mean() - 112) < 12 and abs(ys.mean() - 112) < 20, (xs.mean(), ys.mean())
    # Points on the silhouette or the lip line may fall a pixel off the covered area.
    near_face = scipy.ndimage.binary_dilation(mask > 0, iterations=2)
    lm = rendering.landmarks.numpy()[0]
    assert np.all((lm >= 0) & (lm < 224))
    assert near_face[lm[:, 1].astype(int), lm[:, 0].astype(int)].all()


def test_mean_face_is_centred_with_landmarks_on_it(renderer):
    out = renderer(np.zeros((1, 239), np.float32))
    assert out.image.shape == (1, 224, 224, 3) and out.mask.shape == (1, 224, 224, 1)
    check_mean_face_framing(out)
    # Left/right symmetric model, frontal pose: the nose tip projects onto the centre column.
    assert abs(out.landmarks.numpy()[0, 30, 0] - 112) < 0.5
    assert np.all(out.image.numpy()[out.mask.numpy()[..., 0] == 0] == 0)


def test_batch_renders_each_item_with_its_own_pose(renderer):
    x = np.zeros((2, 239), np.float32)
    x[1, coeffs.SLICES["translation"]] = [0.3, 0, 0]  # 0.3 dm to the right ≈ 31 px
    out = renderer(x)
    shift = out.landmarks.numpy()[1, :, 0] - out.landmarks.numpy()[0, :, 0]
    np.testing.assert_allclose(shift.mean(), 1015 * 0.3 / 10, rtol=0.1)
    cols = [np.nonzero(m[..., 0].any(0))[0].mean() for m in out.mask.numpy()]
    assert cols[1] - cols[0] > 25


def _interior_loss(renderer, x, weights):
    return tf.reduce_sum(renderer(x).image * weights)


@pytest.mark.parametrize("index,step", [(coeffs.SLICES["rotation"].start + 1, 2e-3),
                                        (coeffs.SLICES["light"].start + 2, 1e-2)])
def test_image_gradient_matches_finite_differences(renderer, index, step):
    x0 = np.zeros((1, 239), np.float32)
    x0[0, coeffs.SLICES["light"]] = [0.1, -0.2, 0.3, 0.1, 0, 0, 0, 0, 0]
    x0[0, coeffs.SLICES["rotation"]] = [0.05, 0.2, 0.0]
    first = renderer(x0)
    mask = first.mask.numpy()[0, ..., 0] > 0
    # The rasterizer gives no gradient where visibility changes (silhouette, eyelid over
    # eyeball), so compare on pixels away from the outline and from colour edges.
    gray = first.image.numpy()[0].mean(-1)
    edges = np.hypot(scipy.ndimage.sobel(gray, 0), scipy.ndimage.sobel(gray, 1)) > 0.2
    interior = scipy.ndimage.binary_erosion(mask, iterations=4) & ~scipy.ndimage.binary_dilation(edges, iterations=3)
    assert interior.mean() > 0.15
    weights = tf.constant((interior * np.random.default_rng(0).uniform(size=mask.shape))[None, ..., None],
                          tf.float32)
    x = tf.Variable(x0)
    with tf.GradientTape() as tape:
        loss = _interior_loss(renderer, x, weights)
    analytic = tape.gradient(loss, x).numpy()[0, index]
    plus, minus = x0.copy(), x0.copy()
    plus[0, index] += step
    minus[0, index] -= step
    numeric = (_interior_loss(renderer, plus, weights) - _interior_loss(renderer, minus, weights)) / (2 * step)
    assert abs(analytic) > 1.0
    np.testing.assert_allclose(analytic, numeric.numpy(), rtol=0.02)


def test_renders_inside_tf_function_with_gradients_to_all_coefficients(renderer):
    @tf.function
    def render_loss(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            out = renderer(x)
            loss = tf.reduce_mean(out.image) + 1e-3 * tf.reduce_mean(out.landmarks)
        return loss, tape.gradient(loss, x)

    x = tf.constant(np.random.default_rng(1).normal(scale=0.05, size=(2, 239)), tf.float32)
    loss, grad = render_loss(x)
    grad = grad.numpy()
    assert np.isfinite(loss.numpy()) and np.all(np.isfinite(grad))
    for name in ("identity", "expression", "rotation", "light", "translation"):
        assert np.abs(grad[:, coeffs.SLICES[name]]).max() > 0, name


def test_landmarks_alone_equal_the_whole_geometrys(renderer):
    """The 68-vertex shortcut gives the landmarks of the whole posed mesh, for any coefficients."""
    rng = np.random.default_rng(3)
    c = rng.normal(scale=0.5, size=[3, coeffs.NUM_COEFFS]).astype(np.float32)
    c[:, coeffs.SLICES["rotation"]] *= 0.4    # moderate rotations
    c[:, coeffs.SLICES["translation"]] = [[0.05, -0.1, 0.3], [0.0, 0.0, 0.0], [-0.1, 0.05, -0.2]]
    whole = renderer.geometry(tf.constant(c))[3].numpy()
    alone = renderer.landmarks(c).numpy()
    assert np.abs(whole[0] - whole[1]).max() > 1.0          # the coefficients move the points
    np.testing.assert_allclose(alone, whole, rtol=0, atol=1e-3)
