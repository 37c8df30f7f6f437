"""Warping error (temporal consistency) on hand-built clips: smooth random textures that are
static, shifted by a known amount, or with a moving square that occludes its background."""
import math

import cv2
import numpy as np
import pytest

from deblur3d.data.frames import consistent_flow, flow, warp
from deblur3d.eval.temporal import warping_error

SHIFT = 3


def texture(seed, shape=(96, 128), sigma=2.0, top=235):
    """Smooth RGB noise, uint8 in [0, top] (blurred so the flow is well defined)."""
    x = np.random.default_rng(seed).random(shape + (3,)).astype(np.float32)
    x = cv2.GaussianBlur(x, (0, 0), sigma)
    x = (x - x.min()) / (x.max() - x.min())
    return np.round(x * top).astype(np.uint8)


def interior(shape, border=12):
    region = np.zeros(shape[:2], bool)
    region[border:-border, border:-border] = True
    return region


@pytest.fixture(scope="module")
def shifted():
    """(previous, current): the current frame is the previous one moved SHIFT px right."""
    a = texture(0)
    return a, np.roll(a, SHIFT, axis=1)


def test_flow_sign_convention(shifted):
    a, b = shifted
    f = flow(a, b)[interior(a.shape)]
    assert f.dtype == np.float32
    np.testing.assert_allclose(np.median(f, 0), [SHIFT, 0], atol=0.05)
    assert np.mean(np.abs(f - [SHIFT, 0]).max(-1) < 0.25) > 0.95


def test_warp_follows_the_flow(shifted):
    a, b = shifted
    f = np.zeros(a.shape[:2] + (2,), np.float32)
    f[..., 0] = SHIFT    # the flow from a to b warps b back onto a: out[y, x] = b[y, x + 3]
    region = interior(a.shape)
    np.testing.assert_array_equal(warp(b, f)[region], a[region])


def test_static_clip_has_no_warping_error():
    a = texture(1)
    assert warping_error(a, a, a, a) < 0.05
    _, valid = consistent_flow(a, a)
    assert valid.mean() > 0.99


def test_known_shift(shifted):
    prev, cur = shifted
    region = interior(cur.shape)
    f, valid = consistent_flow(prev, cur)
    # the flow goes from the current frame back to the previous one
    np.testing.assert_allclose(np.median(f[region], 0), [-SHIFT, 0], atol=0.05)
    assert valid[region].mean() > 0.99
    assert warping_error(prev, cur, prev, cur, region=region) < 0.5
    brighter = cur + np.uint8(10)   # a constant change of the current output frame
    assert warping_error(prev, brighter, prev, cur, region=region) == pytest.approx(10, abs=0.5)


def test_float_frames_and_precomputed_motion(shifted):
    prev, cur = shifted
    region = interior(cur.shape)
    motion = consistent_flow(prev, cur)
    expected = warping_error(prev, cur + np.uint8(10), prev, cur, region=region)
    as_float = warping_error(prev / 255.0, (cur + 10.0) / 255.0, prev, cur, region=region, motion=motion)
    assert as_float == pytest.approx(expected, abs=0.05)
    # floats are clipped to [0, 1]: a frame all above 1 is white
    white = np.full(cur.shape, 255, np.uint8)
    assert warping_error(white, np.full(cur.shape, 2.0), motion=motion) == pytest.approx(0, abs=1e-3)


def test_no_valid_pixel_gives_nan(shifted):
    prev, cur = shifted
    region = np.zeros(cur.shape[:2], bool)
    assert math.isnan(warping_error(prev, cur, prev, cur, region=region))


def test_occluded_background_is_rejected():
    """A square moving right uncovers a strip of background the previous frame did not show."""
    shift, sigma = 10, 3.0
    background, square = texture(2, (128, 160), sigma), texture(3, (48, 48), sigma)
    prev, cur = background.copy(), background.copy()
    prev[40:88, 40:88] = square
    cur[40:88, 40 + shift:88 + shift] = square
    _, valid = consistent_flow(prev, cur)
    uncovered = np.zeros(valid.shape, bool)
    uncovered[40:88, 40:40 + shift] = True
    away = np.ones(valid.shape, bool)
    away[30:98, 30:108] = False
    assert valid[uncovered].mean() < 0.4     # most of the uncovered strip rejected
    assert valid[away].mean() > 0.9          # most of the static background accepted


def test_clip_warping_scores_consecutive_frames_of_one_clip_and_restarts_on_another(shifted):
    from deblur3d.eval.temporal import ClipWarping
    a, b = shifted
    region = interior(a.shape)
    scorer = ClipWarping()
    errors, floor = scorer.score("run1", a, {"input": a, "out": a}, region)
    assert math.isnan(errors["input"]) and math.isnan(errors["out"]) and math.isnan(floor)   # a clip's first frame
    errors, floor = scorer.score("run1", b, {"input": b, "out": np.clip(b.astype(int) + 10, 0, 255).astype(np.uint8)}, region)
    assert errors["input"] == pytest.approx(floor) and floor < 0.5
    assert errors["out"] == pytest.approx(10, abs=0.5)   # +10 grey levels appeared between the frames
    errors, floor = scorer.score("run2", a, {"input": a, "out": a}, region)
    assert math.isnan(errors["out"]) and math.isnan(floor)   # another run: no previous frame


def test_paired_difference_and_its_interval_by_hand():
    from deblur3d.eval.metrics import paired_difference
    # Differences 1, 2, 3: mean 2, sd 1, t(0.975, 2) = 4.3027 -> half width 4.3027 / sqrt(3) = 2.484
    mean, half, n = paired_difference([3, 5, 7, float("nan")], [2, 3, 4, 1])
    assert (mean, n) == (2.0, 3) and half == pytest.approx(2.4841, abs=1e-4)
    assert math.isnan(paired_difference([1.0], [0.0])[0])


def test_a_correction_that_flips_sign_each_frame_is_less_coherent_than_one_that_moves_with_the_content():
    from deblur3d.eval.temporal import CorrectionFlicker, unsharp
    scene = texture(5, (96, 160))
    frames = [np.ascontiguousarray(scene[:, 2 * t:2 * t + 128]) for t in range(6)]   # the camera pans
    region = interior(frames[0].shape)
    following, flipping, static = CorrectionFlicker(), CorrectionFlicker(), CorrectionFlicker()
    for t, frame in enumerate(frames):
        x = frame.astype(np.float32)
        sharpened = unsharp(x)
        following.add(frame, sharpened / 255, region)                          # moves with the content
        flipped = sharpened if t % 2 else 2 * x - sharpened                    # the same size, sign flipping
        flipping.add(frame, flipped / 255, region)
        static.add(frame, (x + (4 if t % 2 else -4)) / 255, region)           # flat, flickering
    moving = following.result()
    assert moving["frames"] == 5 and moving["output"] == pytest.approx(moving["unsharp"], abs=1e-6)
    assert moving["output"] < 0.5
    assert flipping.result()["output"] > 1.5 > 3 * moving["output"]            # |d_t + d_t| / |d_t| ~ 2
    assert static.result()["output"] == pytest.approx(2.0, abs=0.05)


def test_a_clip_without_two_faced_frames_has_no_flicker_score():
    from deblur3d.eval.temporal import CorrectionFlicker
    flicker = CorrectionFlicker()
    frame = texture(6)
    flicker.add(frame, frame, np.zeros(frame.shape[:2], bool))
    flicker.add(frame, frame, np.zeros(frame.shape[:2], bool))
    assert math.isnan(flicker.result()["output"]) and flicker.result()["frames"] == 0
