import cv2
import numpy as np
import pytest

from deblur3d.face.align import TEMPLATE_5, Alignment, fit_alignment


def project_template(scale, center, yaw=0.0):
    """Scaled orthographic image of the template (image y down), as a camera would see it."""
    c, s = np.cos(yaw), np.sin(yaw)
    rotated = TEMPLATE_5 @ np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]]).T
    return np.stack([rotated[:, 0] * scale + center[0], -rotated[:, 1] * scale + center[1]], 1)


def test_fit_recovers_scale_and_centre_of_an_exact_projection():
    points = project_template(scale=150.0, center=(300.0, 210.0))
    a = fit_alignment(points)
    np.testing.assert_allclose(a.scale, 102.0 / 150.0, rtol=1e-9)
    np.testing.assert_allclose(a.center, (300.0, 210.0), atol=1e-9)
    # The template origin lands on the crop centre, the points at 102 px per template unit.
    np.testing.assert_allclose(a.to_crop(points), project_template(102.0, (112, 112)), atol=1e-9)


def test_points_round_trip_exactly():
    a = fit_alignment(project_template(90.0, (120.0, 140.0), yaw=0.3))
    points = np.random.default_rng(0).uniform(0, 400, size=(50, 2))
    np.testing.assert_allclose(a.to_frame(a.to_crop(points)), points, atol=1e-10)
    np.testing.assert_allclose(a.to_crop(points), cv2.transform(points[None], a.matrix())[0], atol=1e-9)


def test_crop_then_paste_back_lands_within_one_pixel():
    frame = np.zeros((360, 450, 3), np.float32)
    a = Alignment(scale=1.37, center=(201.3, 167.8))
    crop = a.crop(frame)
    assert crop.shape == (224, 224, 3)
    # A bright spot drawn in the crop must come back where the inverse maps it in the frame.
    spot_crop = np.array([150.0, 80.0])
    cv2.circle(crop, (150, 80), 3, (1.0, 1.0, 1.0), -1)
    pasted = a.paste(frame, crop, np.ones((224, 224), np.float32))
    ys, xs = np.nonzero(pasted[..., 0] > 0.5)
    weights = pasted[ys, xs, 0]
    found = np.array([np.average(xs, weights=weights), np.average(ys, weights=weights)])
    assert np.linalg.norm(found - a.to_frame(spot_crop)) < 1.0


def test_paste_keeps_the_frame_outside_the_mask():
    frame = np.random.default_rng(1).uniform(size=(200, 240, 3)).astype(np.float32)
    a = Alignment(scale=2.0, center=(120.0, 100.0))
    mask = np.zeros((224, 224), np.float32)
    mask[100:124, 100:124] = 1
    out = a.paste(frame, np.zeros((224, 224, 3), np.float32), mask)
    # The mask covers frame x in [114, 126), y in [94, 106); 2 px away nothing changes.
    untouched = np.ones(frame.shape[:2], bool)
    untouched[92:108, 112:128] = False
    np.testing.assert_array_equal(out[untouched], frame[untouched])
    assert out[96:104, 116:124].max() == 0


def test_degenerate_points_raise():
    with pytest.raises(ValueError, match="degenerate"):
        fit_alignment(np.zeros((5, 2)))


def test_our_crop_space_is_the_authors_render_space(data_root):
    """The authors' 224 renders of vd001 must cover our crop's five points."""
    folder = data_root / "300vw-sample" / "vd001"
    for name in ("00001", "00013", "00025"):
        points = np.loadtxt(folder / "face" / f"{name}.txt")
        alpha = cv2.imread(str(folder / "face_render" / f"{name}.png"), cv2.IMREAD_UNCHANGED)[..., 3]
        inside = scipy_ndimage_erode(alpha > 0, 8)
        crop_points = fit_alignment(points).to_crop(points)
        assert inside[crop_points[:, 1].astype(int), crop_points[:, 0].astype(int)].all(), name


def scipy_ndimage_erode(mask, iterations):
    import scipy.ndimage
    return scipy.ndimage.binary_erosion(mask, iterations=iterations)
