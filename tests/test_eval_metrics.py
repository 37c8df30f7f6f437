import math

import cv2
import numpy as np
import pytest
import tensorflow as tf

from deblur3d.eval.metrics import IdentityEncoder, overshoot, psnr, ssim

C1, C2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2


def random_image(seed, shape=(48, 40, 3)):
    return np.random.default_rng(seed).random(shape).astype(np.float32)


def test_identical_images():
    a = random_image(0)
    assert ssim(a, a) == 1.0
    assert psnr(a, a) == math.inf


def test_overshoot_counts_face_pixels_past_both_the_input_and_the_sharp_frame():
    blurry = np.full((10, 10, 3), 100, np.uint8)
    sharp = blurry.copy()
    sharp[:, 5:] = 160                      # an edge the deblurring should restore
    output = sharp.copy()
    output[:, 0] = 92                       # 8 below both: within the slack
    output[2, :] = 60                       # a dark streak across the face: 40 below both
    output[:, 9] = 175                      # 15 above both: ringing past the edge
    output[7, 6] = 130                      # between input and sharp: a partial correction
    face = np.zeros((10, 10), bool)
    face[:, :5] = True                      # streak 5 of 50 pixels; the right half is not the face
    assert overshoot(output, blurry, sharp, face) == pytest.approx(10.0)
    # Whole frame: the streak (10), the ringing (9 more) of 100; 0 for the sharp frame itself.
    assert overshoot(output, blurry, sharp, np.ones((10, 10), bool)) == pytest.approx(19.0)
    assert overshoot(sharp, blurry, sharp, face) == 0.0 and overshoot(blurry / 255.0, blurry, sharp, face) == 0.0
    assert math.isnan(overshoot(output, blurry, sharp, np.zeros((10, 10), bool)))


@pytest.mark.parametrize("k", [1, 4, 20])
def test_psnr_of_a_constant_offset(k):
    a = (random_image(1) * 200).astype(np.uint8)
    expected = 20 * math.log10(255 / k)
    assert psnr(a, a + np.uint8(k)) == pytest.approx(expected, abs=1e-9)
    assert psnr(a / 255.0, (a + k) / 255.0) == pytest.approx(expected, abs=1e-6)  # float images: [0, 1]


def test_ssim_of_flat_images_is_the_luminance_term():
    a, b = np.full((20, 20, 3), 0.5), np.full((20, 20, 3), 0.6)
    mu_a, mu_b = 0.5 * 255, 0.6 * 255
    assert ssim(a, b) == pytest.approx((2 * mu_a * mu_b + C1) / (mu_a ** 2 + mu_b ** 2 + C1), abs=1e-9)


def test_ssim_matches_tf_image_ssim():
    for seed in range(3):
        a = random_image(seed)
        b = np.clip(a + np.random.default_rng(10 + seed).normal(0, 0.1, a.shape), 0, 1).astype(np.float32)
        reference = float(tf.image.ssim(a * 255, b * 255, max_val=255.0))
        assert ssim(a, b) == pytest.approx(reference, abs=1e-5)
        assert psnr(a, b) == pytest.approx(float(tf.image.psnr(a * 255, b * 255, max_val=255.0)), abs=1e-4)


def test_ssim_of_noise_on_a_flat_image():
    # Noise σ on a flat image: SSIM ≈ C2 / (σ²(1 - Σw²) + C2), the windowed variance being biased
    # by Σw² (w the Gaussian window); the mean of the ratio sits slightly above (Jensen).
    flat = np.full((128, 128, 3), 0.5)
    noisy = flat + np.random.default_rng(0).normal(0, 10 / 255, flat.shape)
    x = np.arange(-5, 6)
    w = np.exp(-(x[:, None] ** 2 + x ** 2) / (2 * 1.5 ** 2))
    w /= w.sum()
    expected = C2 / (100 * (1 - (w ** 2).sum()) + C2)
    assert expected < ssim(flat, noisy) < expected + 0.02


def test_masked_metrics_see_only_the_face_region():
    a = (random_image(2, (40, 60, 3)) * 200).astype(np.uint8)
    b = a.copy()
    b[:, :30] += 4
    b[:, 30:] += 2
    right = np.zeros((40, 60), bool)
    right[:, 30:] = True
    assert psnr(a, b, right) == pytest.approx(20 * math.log10(255 / 2))
    assert psnr(a, b) == pytest.approx(10 * math.log10(255 ** 2 / 10))
    assert psnr(a, b, np.ones((40, 60), bool)) == psnr(a, b)

    c = a.copy()
    c[:, :20] = np.random.default_rng(3).integers(0, 256, c[:, :20].shape)
    far_right = np.zeros((40, 60), bool)
    far_right[:, 26:] = True  # windows of pixels ≥ 26 do not reach the noisy columns < 20
    assert ssim(a, c, far_right) == 1.0
    assert ssim(a, c) < 0.9
    assert ssim(a, c, np.ones((40, 60), bool)) == ssim(a, c)
    with pytest.raises(ValueError, match="no pixel"):
        ssim(a, c, np.zeros((40, 60), bool))


@pytest.fixture(scope="module")
def faces(data_root):
    from deblur3d.data.readers import read_video
    videos = data_root / "videos"
    if not (videos / "sadtalker-aoc.mp4").is_file() or not (videos / "livep-d0.mp4").is_file():
        pytest.skip("clips sadtalker-aoc.mp4 / livep-d0.mp4 absent")
    return next(read_video(videos / "sadtalker-aoc.mp4")), next(read_video(videos / "livep-d0.mp4"))


@pytest.fixture(scope="module")
def encoder():
    return IdentityEncoder()


def test_identity_similarity(faces, encoder):
    face, other = faces
    assert encoder.descriptor(face).shape == (128,)
    assert encoder.similarity(face, face) == pytest.approx(1.0, abs=1e-6)
    assert encoder.similarity(face / 255.0, face) == pytest.approx(1.0, abs=1e-6)  # float [0, 1] input
    blurred = encoder.similarity(face, cv2.GaussianBlur(face, (0, 0), 4))
    different = encoder.similarity(face, other)
    assert different < blurred < 1.0
    assert blurred > 0.9


def test_identity_uses_the_sharp_frame_box(faces, encoder):
    face, _ = faces
    flat = np.full_like(face, 128)
    assert encoder.descriptor(flat) is None
    assert math.isnan(encoder.similarity(flat, face))
    # A face-less output still gets a descriptor in the sharp frame's box: a number, not nan.
    assert not math.isnan(encoder.similarity(face, flat))


def test_missing_dlib_models_raise_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="dlib_face_recognition_resnet_model_v1.dat"):
        IdentityEncoder(models_dir=tmp_path)


def test_face_regions_split_the_face_and_cover_the_frame():
    from deblur3d.eval.regions import face_regions
    angles = np.linspace(0, 2 * np.pi, 17, endpoint=False)
    outline = np.stack([100 + 60 * np.cos(angles), 100 + 70 * np.sin(angles)], 1)   # the jaw and more
    rng = np.random.default_rng(0)
    inner = np.array([100, 100]) + rng.uniform(-30, 30, size=(51, 2))               # brows, nose, eyes, mouth
    masks = face_regions(np.concatenate([outline, inner]), (200, 200))
    face = masks["face"]
    assert not (face & masks["outside the face"]).any() and (face | masks["outside the face"]).all()
    for name in ("eyes", "mouth", "brows", "nose", "rest of the face", "face outline band (10 px)"):
        assert masks[name].any() and not (masks[name] & ~face).any(), name
    parts = masks["eyes"] | masks["mouth"] | masks["brows"] | masks["nose"]
    assert not (masks["rest of the face"] & (parts | masks["face outline band (10 px)"])).any()
    # The band is 10 px deep: down the middle column, from the top of the face 10 rows are in it.
    column = np.nonzero(face[:, 100])[0]
    top, bottom = column.min(), column.max()
    band = masks["face outline band (10 px)"][:, 100]
    assert band[top:top + 10].all() and band[bottom - 9:bottom + 1].all() and not band[top + 12:bottom - 11].any()
