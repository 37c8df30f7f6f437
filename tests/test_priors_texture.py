"""Light and texture fitted to a frame (priors/texture.py): a synthetic render's known albedo
coefficients and light come back; the person's own texture reproduces the frame."""
import numpy as np
import pytest
import tensorflow as tf

from deblur3d import paths
from deblur3d.face import coeffs as coeffs_lib
from deblur3d.face.render import FaceRenderer
from deblur3d.priors import texture


@pytest.fixture(scope="module")
def renderer(data_root):
    from deblur3d.face import load_face_model
    return FaceRenderer(load_face_model("ict", data_dir=data_root, albedo_path=paths.ICT_ALBEDO_RICH))


def known_face(rng, batch=2):
    c = np.zeros((batch, coeffs_lib.NUM_COEFFS), np.float32)
    c[:, coeffs_lib.SLICES["rotation"]] = rng.uniform(-0.25, 0.25, (batch, 3))
    c[:, coeffs_lib.SLICES["texture"].start:coeffs_lib.SLICES["texture"].start + 12] = rng.normal(0, 1, (batch, 12))
    c[:, coeffs_lib.SLICES["light"]] = np.array([0.1, -0.2, 0.3, 0.1, 0.05, 0, 0, 0, 0]) + rng.normal(0, 0.03, (batch, 9))
    return c


def test_a_synthetic_renders_albedo_and_light_come_back(renderer):
    truth = known_face(np.random.default_rng(0))
    images = renderer(tf.constant(truth)).image.numpy()
    start = truth.copy()
    start[:, coeffs_lib.SLICES["texture"]] = 0
    start[:, coeffs_lib.SLICES["light"]] = 0
    fitted, albedo = texture.fit_texture(renderer, start, images, texture="basis")
    assert albedo is None
    light, tex = coeffs_lib.SLICES["light"], coeffs_lib.SLICES["texture"]
    # Albedo and light are known up to a common scale (2 x albedo and light / 2 render alike):
    # the albedo comes back within a few percent and the light within that much of its size.
    model, skin = renderer.face_model, renderer.face_model.skin_mask
    ratio = (model.albedo(tf.constant(fitted[:, tex])).numpy() / model.albedo(tf.constant(truth[:, tex])).numpy())[:, skin]
    assert abs(ratio.mean() - 1) < 0.1 and ratio.std() < 0.08, (ratio.mean(), ratio.std())
    assert np.abs(fitted[:, light] - truth[:, light]).max() < 0.2   # of a light whose first term is 0.9
    face = renderer(tf.constant(truth)).region.numpy()[..., 0] > 0
    error = np.abs(renderer(tf.constant(fitted)).image.numpy() - images)[face].mean()
    before = np.abs(renderer(tf.constant(start)).image.numpy() - images)[face].mean()
    assert error < 4 / 255 and error < before / 4, (error * 255, before * 255)


def test_the_persons_own_texture_reproduces_a_frame_the_basis_cannot(renderer):
    truth = known_face(np.random.default_rng(1), batch=1)
    images = renderer(tf.constant(truth)).image.numpy()
    stripes = images.copy()
    stripes[:, :, (np.arange(224) // 6) % 2 == 0] *= 0.5   # 6 px stripes: a pattern no albedo component holds
    coverage = renderer(tf.constant(truth)).region.numpy()[..., 0] > 0
    errors = {}
    for kind in ("basis", "frame"):
        fitted, albedo = texture.fit_texture(renderer, truth, stripes, texture=kind)
        errors[kind] = np.abs(renderer(tf.constant(fitted), albedo).image.numpy() - stripes)[coverage].mean()
    assert errors["frame"] < 0.6 * errors["basis"]


def test_recon_keeps_the_coefficients_and_unknown_textures_are_refused(renderer):
    c = known_face(np.random.default_rng(2), batch=1)
    same, albedo = texture.fit_texture(renderer, c, np.zeros((1, 224, 224, 3), np.float32), texture="recon")
    np.testing.assert_array_equal(same, c)
    with pytest.raises(ValueError, match="unknown texture"):
        texture.fit_texture(renderer, c, np.zeros((1, 224, 224, 3), np.float32), texture="painted")


def test_a_held_texture_is_fitted_one_frame_in_every_and_reused_between():
    """The video tool's TextureHold through OnlineFramePriors.fit: light and texture come from
    frames 0, 3, 6 only; every other coefficient is each frame's own."""
    from deblur3d.priors.online import OnlineFramePriors
    online = OnlineFramePriors()
    frame = [0]

    def coefficients(frames, points5):
        frame[0] += 1
        return np.full((1, coeffs_lib.NUM_COEFFS), frame[0], np.float32)

    def fit_texture(coeffs, crops):   # stands in for the light and texture fit: marks its frame
        fitted = coeffs.copy()
        for name in ("texture", "light"):
            fitted[:, coeffs_lib.SLICES[name]] = 100 + frame[0]
        return fitted, None

    online.coefficients, online.fit_texture, online.aligned = coefficients, fit_texture, lambda f, p: f
    hold = texture.TextureHold(every=3)
    got = [online.fit(np.zeros((1, 8, 8, 3)), np.zeros((1, 5, 2)), hold=hold)[0][0] for _ in range(7)]
    for i, c in enumerate(got, start=1):
        fitted_on = 1 + 3 * ((i - 1) // 3)
        assert (c[coeffs_lib.SLICES["texture"]] == 100 + fitted_on).all()
        assert (c[coeffs_lib.SLICES["light"]] == 100 + fitted_on).all()
        for name in ("identity", "expression", "rotation", "translation"):
            assert (c[coeffs_lib.SLICES[name]] == i).all()
    every_frame = texture.TextureHold(every=1)
    assert all(every_frame.due() for _ in range(3))
    with pytest.raises(ValueError):
        texture.TextureHold(every=0)
