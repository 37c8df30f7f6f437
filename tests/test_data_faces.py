import numpy as np
import pytest

from data_fixtures import face_frames, noise_frames
from deblur3d.data import faces


def test_runs_keep_long_stretches_only():
    valid = [True] * 3 + [False] + [True] * 30 + [False] * 2 + [True] * 26
    assert faces.runs(valid, 26) == [(4, 34), (36, 62)]


def square_face(cx, cy, size):
    """68 points whose box is size x size around (cx, cy)."""
    pts = np.random.default_rng(0).uniform(-size / 2, size / 2, (68, 2)).astype(np.float32)
    pts[0], pts[1] = (-size / 2, -size / 2), (size / 2, size / 2)
    return pts + [cx, cy]


def test_one_steady_region_per_still_run():
    pts = np.stack([square_face(200 + i % 3, 150, 100) for i in range(40)])
    ((start, stop, (x0, y0, side)),) = faces.crop_regions(pts, (480, 640), scale=1.8)
    assert (start, stop) == (0, 40) and side == 180
    assert abs(x0 + side / 2 - 201) <= 1 and abs(y0 + side / 2 - 150) <= 1
    # Near a border the region shifts inside the frame; in a small frame it shrinks.
    (_, _, (x0, y0, side)), = faces.crop_regions(pts - [180, 0], (480, 640))
    assert x0 == 0 and side == 180
    (_, _, (x0, y0, side)), = faces.crop_regions(pts, (160, 640))
    assert side == 160 and y0 == 0


def test_a_moving_face_splits_the_run():
    pts = np.stack([square_face(100 + 8 * i, 200, 100) for i in range(60)])
    regions = faces.crop_regions(pts, (480, 1000), scale=1.8, max_scale=2.4, min_len=26)
    assert [(a, b) for a, b, _ in regions] == [(0, 30), (30, 60)]
    for a, b, (x0, y0, side) in regions:     # every face stays inside its region
        box = faces.points_box(pts[a:b])
        assert box[:, 0].min() >= x0 and box[:, 2].max() <= x0 + side


def test_crop_points_follow_the_pixels():
    frame = np.zeros((300, 400, 3), np.uint8)
    frame[120, 250] = 255
    region, size = (200, 90, 100), 320
    crop = faces.crop(frame, region, size)
    y, x = np.unravel_index(crop[..., 0].argmax(), crop.shape[:2])
    np.testing.assert_allclose(faces.crop_points([[250, 120]], region, size)[0], (x, y), atol=1.6)


def test_flip_maps_are_mirror_involutions():
    for perm, n in ((faces.FLIP_5, 5), (faces.FLIP_68, 68)):
        assert sorted(perm) == list(range(n)) and np.all(perm[perm] == np.arange(n))


@pytest.fixture(scope="module")
def annotator():
    return faces.FaceAnnotator()


def test_landmarks_mirror_under_flip_and_five_points(annotator):
    frame = face_frames(1)[0]
    p = annotator.landmarks(frame, annotator.detect(frame)[0])
    flipped = np.ascontiguousarray(frame[:, ::-1])
    q = annotator.landmarks(flipped, annotator.detect(flipped)[0])
    mirrored = np.stack([frame.shape[1] - 1 - p[:, 0], p[:, 1]], 1)[faces.FLIP_68]
    assert np.median(np.abs(mirrored - q)) < 3
    p5 = faces.five_points(p)
    assert p5[0, 0] < p5[2, 0] < p5[1, 0] and p5[3, 0] < p5[4, 0] and p5[2, 1] < p5[3, 1]


def test_track_cuts_where_the_face_is_lost(annotator):
    frames = face_frames(3) + [None] + noise_frames(1, size=256) + face_frames(2)
    points, reasons, hw = faces.track(frames, annotator)
    assert reasons == [None] * 3 + ["unreadable frame", "no face"] + [None] * 2
    assert hw == (256, 256) and points[0].shape == (68, 2)


def test_hull_mask_fills_the_hull_and_clips_to_the_image():
    square = np.array([[10, 10], [20, 10], [20, 20], [10, 20], [15, 15]], np.float32)
    mask = faces.hull_mask(square, (32, 40))
    assert mask.shape == (32, 40) and mask.sum() == 11 * 11          # pixel centres 10..20, edges included
    assert mask[10:21, 10:21].all()
    half_out = faces.hull_mask(square - [15, 0], (32, 40))            # x from -5 to 5: only 0..5 remain
    assert half_out.sum() == 6 * 11
