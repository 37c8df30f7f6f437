"""Motion blur synthesis: hand-computed kernels, masks, seeds, and the paper's average as its zero."""
import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from deblur3d.data import blur, blur_settings, motion, pipeline
from test_data_pipeline import T, config, synthetic_cache  # noqa: F401  (the fixture)

STILL = blur_settings.BlurConfig(stride=5, motion=True, head_speed=(0.0, 0.0), shake_fraction=0.0)


def line_motion(dx, dy, span=3.0):
    """The camera moving (dx, dy) px per frame in a straight line at constant speed."""
    times = np.linspace(-span, span, 49)
    return motion.Motion(times, np.zeros((49, 4)), np.stack([dx * times, dy * times], 1))


def impulse(size=33):
    image = np.zeros((1, size, size, 3), np.float32)
    image[0, size // 2, size // 2] = 1.0
    return image


def test_a_straight_constant_speed_sweep_is_the_hand_computed_line_kernel():
    # 8 px per frame, shutter open the whole frame: 8 sub-steps at -3.5..3.5 px, each split by
    # bilinear interpolation over two pixels -> [1, 2, 2, 2, 2, 2, 2, 2, 1] / 16 along the motion.
    c = 16
    out = motion.sweep(impulse(), [0], line_motion(8, 0), np.zeros((33, 33), np.float32), (c, c), duty=1.0)[0, ..., 0]
    want = np.zeros((33, 33))
    want[c, c - 4:c + 5] = np.array([1, 2, 2, 2, 2, 2, 2, 2, 1]) / 16
    np.testing.assert_allclose(out, want, atol=1e-6)
    # Vertical and diagonal: mass 1, centred, length along the motion, none across it.
    for dx, dy in ((0, 8), (4, 4)):
        k = motion.sweep(impulse(), [0], line_motion(dx, dy), np.zeros((33, 33), np.float32), (c, c), 1.0)[0, ..., 0]
        assert k.sum() == pytest.approx(1.0, abs=1e-5)
        y, x = np.mgrid[:33, :33] - c
        assert (k * x).sum() == pytest.approx(0, abs=1e-5) and (k * y).sum() == pytest.approx(0, abs=1e-5)
        along = (k * ((x * dx + y * dy) / np.hypot(dx, dy)) ** 2).sum()
        across = (k * ((x * dy - y * dx) / np.hypot(dx, dy)) ** 2).sum()
        length = np.hypot(dx, dy)
        assert along == pytest.approx(length ** 2 / 12, rel=0.15) and across < 0.25 * along
    # Half the exposure: half the length.
    half = motion.sweep(impulse(), [0], line_motion(8, 0), np.zeros((33, 33), np.float32), (c, c), 0.5)[0, ..., 0]
    assert np.count_nonzero(half[c] > 1e-6) == 5 and half.sum() == pytest.approx(1.0, abs=1e-5)


def test_a_flat_image_stays_flat_under_any_motion():
    rng = motion.sample_key(1, 2, 3)
    m = motion.draw_motion(rng, dataclasses.replace(STILL, head_speed=(3, 3), shake_fraction=1.0), 12.5)
    flat = np.full((3, 40, 40, 3), 0.37, np.float32)
    mask = motion.head_mask(np.random.default_rng(0).uniform(10, 30, (68, 2)), (40, 40))
    np.testing.assert_allclose(motion.sweep(flat, [-5, 0, 5], m, mask, (20, 20), 1.0), flat, atol=1e-6)


def test_only_the_head_moves_when_the_camera_is_still():
    rng = np.random.default_rng(0)
    image = rng.uniform(size=(1, 120, 120, 3)).astype(np.float32)
    points = np.stack([rng.uniform(50, 70, 68), rng.uniform(50, 70, 68)], 1)
    points[:17] = np.stack([np.linspace(45, 75, 17), 60 + 10 * np.sin(np.linspace(0, np.pi, 17))], 1)
    mask = motion.head_mask(points, (120, 120))
    times = np.linspace(-3, 3, 49)
    head = np.stack([4 * times, 2 * times, 0.5 * times, 0.01 * times], 1)
    out = motion.sweep(image, [1], motion.Motion(times, head, np.zeros((49, 2))), mask, (60, 60), 1.0)[0]
    outside = mask == 0
    assert outside.mean() > 0.2 and (mask > 0.99).any()
    np.testing.assert_allclose(out[outside], image[0][outside], atol=1e-6)
    assert np.abs(out - image[0])[mask > 0.99].mean() > 0.05


def test_sweeping_only_a_crop_gives_that_crop_of_the_whole_sweep():
    rng = np.random.default_rng(3)
    frames = rng.integers(0, 256, (3, 60, 70, 3), dtype=np.uint8)
    m = motion.draw_motion(motion.sample_key(5), dataclasses.replace(STILL, head_speed=(3, 3), shake_fraction=1.0), 12.5)
    mask = motion.head_mask(rng.uniform(20, 45, (68, 2)), (60, 70))
    crop = (slice(10, 40), slice(15, 55))
    whole = motion.sweep(frames, [-5, 0, 5], m, mask, (30, 30), 1.0)
    part = motion.sweep(frames, [-5, 0, 5], m, mask, (30, 30), 1.0, crop=crop)
    assert part.shape == (3, 30, 40, 3) and not np.allclose(part[1], frames[1, 10:40, 15:55] / 255.0, atol=0.01)
    np.testing.assert_array_equal(part, whole[:, 10:40, 15:55])


def test_zero_motion_is_the_plain_frame_average_bit_for_bit(synthetic_cache):  # noqa: F811
    def stacks(blur_config):
        cfg = config(synthetic_cache, split="val", blur=blur_config)
        return [b["blurry"].numpy() for b in pipeline.evaluation_dataset(cfg)]
    for a, b in zip(stacks(STILL), stacks("authors")):
        np.testing.assert_array_equal(a, b)
    # ... and "authors" is the paper's average over windows 5 frames apart.
    t, got = 4, stacks("authors")[4][0, 0, 0, 2::3] * 255
    np.testing.assert_allclose(got, 20 * blur.stack_indices(t, T, 5, 5, stride=5).mean(1), atol=1e-3)


def test_stack_indices_with_a_stride():
    np.testing.assert_array_equal(blur.stack_indices(12, 30, 5, 3, stride=5)[:, 1], [2, 7, 12, 17, 22])
    np.testing.assert_array_equal(blur.stack_indices(1, 30, 3, 3, stride=5), [[0, 0, 1], [0, 1, 2], [5, 6, 7]])


def test_the_same_seed_gives_the_same_motion_and_another_seed_another(synthetic_cache):  # noqa: F811
    realistic = dataclasses.replace(blur_settings.PRESETS["realistic"], still_fraction=0.0)

    def first(seed):
        cfg = config(synthetic_cache, split="val", batch_size=4, seed=seed, blur=realistic, patch_size=128)
        return next(iter(pipeline.training_dataset(cfg)))["blurry"].numpy()
    np.testing.assert_array_equal(first(3), first(3))
    assert not np.array_equal(first(3), first(4))
    # Evaluation: a frame's blur depends on its run and index only, not on what else is read.
    every1 = list(pipeline.evaluation_dataset(config(synthetic_cache, split="val", blur=realistic)))
    every2 = list(pipeline.evaluation_dataset(config(synthetic_cache, split="val", blur=realistic), every=2))
    np.testing.assert_array_equal(every1[4]["blurry"], every2[2]["blurry"])
    assert not np.array_equal(every1[4]["blurry"], every1[4]["sharp"].numpy().repeat(5, -1))


def test_a_flip_mirrors_the_motion_and_the_points_together(synthetic_cache):  # noqa: F811
    realistic = dataclasses.replace(blur_settings.PRESETS["realistic"], still_fraction=0.0, photometric=False)

    def batch(flip):
        cfg = config(synthetic_cache, split="val", batch_size=8, seed=5, blur=realistic, patch_size=128, flip=flip)
        return next(iter(pipeline.training_dataset(cfg)))
    plain, maybe = batch(False), batch(True)
    flipped = 0
    for i in range(8):
        same = np.array_equal(plain["blurry"][i], maybe["blurry"][i])
        if not same:   # then everything is the mirror image, and the points follow
            np.testing.assert_array_equal(plain["blurry"][i].numpy()[:, ::-1], maybe["blurry"][i])
            np.testing.assert_array_equal(plain["sharp"][i].numpy()[:, ::-1], maybe["sharp"][i])
            p = plain["points68"][i].numpy()
            np.testing.assert_allclose(np.stack([127 - p[:, 0], p[:, 1]], 1)[pipeline.faces.FLIP_68],
                                       maybe["points68"][i], atol=1e-4)
            flipped += 1
    assert 0 < flipped < 8


def test_photometric_changes_target_and_input_alike():
    frames = tf.constant(np.random.default_rng(0).uniform(size=(3, 8, 8, 3)), tf.float32)
    key = tf.constant([9, -1, 2], tf.int64)
    a = motion.photometric(frames, key).numpy()
    np.testing.assert_array_equal(a, motion.photometric(frames, key))
    assert not np.allclose(a, frames)
    assert not np.allclose(a, motion.photometric(frames, tf.constant([9, -1, 3], tf.int64)))
    # One transform per sample: frames that were equal stay equal.
    same = tf.repeat(frames[:1], 3, 0)
    out = motion.photometric(same, key).numpy()
    np.testing.assert_array_equal(out[0], out[2])
    assert 0 <= out.min() and out.max() <= 1
    # A grey frame under neutral settings (contrast keeps its mean) stays within the ranges' bounds.
    grey = motion.photometric(tf.fill([1, 4, 4, 3], 0.5), key).numpy()
    assert (0.5 ** 1.35 * 0.35 * 0.88 - 1e-6 <= grey).all() and (grey <= 0.5 ** 0.75 * 1.25 * 1.12 + 1e-6).all()


def test_photometric_gives_the_render_the_targets_look_inside_its_coverage_only():
    rng = np.random.default_rng(1)
    frames = tf.constant(rng.uniform(size=(3, 8, 8, 3)), tf.float32)
    coverage = np.ones((8, 8, 1), np.float32)
    coverage[:4, :4] = 0
    render = tf.constant(np.concatenate([frames[-1].numpy() * coverage, coverage], -1))
    key = tf.constant([9, -1, 2], tf.int64)
    out, looked = (x.numpy() for x in motion.photometric(frames, key, render))
    np.testing.assert_array_equal(out, motion.photometric(frames, key))   # the frames are unchanged by it
    inside = coverage[..., 0] > 0
    np.testing.assert_allclose(looked[..., :3][inside], out[-1][inside], atol=1e-6)   # the target's look
    assert not np.allclose(looked[..., :3][inside], frames[-1].numpy()[inside])
    np.testing.assert_array_equal(looked[..., :3][~inside], 0)
    np.testing.assert_array_equal(looked[..., 3:], coverage)


def test_degrade_adds_seeded_noise_and_jpeg_only_when_asked():
    ramp = np.linspace(0.2, 0.8, 16)   # smooth, as images are: JPEG keeps it within a few grey levels
    stack = tf.constant(np.broadcast_to(ramp[None, :, None, None], (5, 16, 16, 3)), tf.float32)
    key = tf.constant([0, 1, 2], tf.int64)
    np.testing.assert_array_equal(motion.degrade(stack, blur_settings.BlurConfig(), key), stack)
    noisy = motion.dataclasses.replace(blur_settings.BlurConfig(), noise=0.02, jpeg=(50.0, 60.0))
    a, b = motion.degrade(stack, noisy, key), motion.degrade(stack, noisy, key)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, motion.degrade(stack, noisy, tf.constant([0, 1, 3], tf.int64)))
    assert 0.0 < float(tf.reduce_mean(tf.abs(a - stack))) < 0.05
    # 8 bits: every value on the 1/255 grid, each within half a step of where it was.
    rounded = motion.degrade(stack, motion.dataclasses.replace(blur_settings.BlurConfig(), quantize=True), key).numpy()
    np.testing.assert_allclose(rounded * 255, np.round(rounded * 255), atol=1e-4)
    assert np.abs(rounded - stack.numpy()).max() <= 0.5 / 255 + 1e-6 and not np.array_equal(rounded, stack)


def test_random_paths_pass_through_zero_at_the_target_at_the_asked_speed():
    rng = motion.sample_key(0)
    times, xy = motion.random_path(rng, 12.5, 3.0, 0.3, 0.05)
    centre = np.argmin(np.abs(times))
    np.testing.assert_allclose(xy[centre], 0, atol=1e-9)
    speed = np.linalg.norm(np.diff(xy, axis=0), axis=1).mean() / (times[1] - times[0])
    assert speed == pytest.approx(3.0, rel=1e-6)


def test_blur_settings_parse_typed_and_refuse_unknown_keys():
    got = blur_settings.parse_overrides(["duty=0.5", "jpeg=60:95", "motion=false", "stride=1"])
    assert got == dict(duty=0.5, jpeg=(60.0, 95.0), motion=False, stride=1)
    assert blur_settings.resolve("paper", **got).stride == 1
    with pytest.raises(ValueError, match="KEY=VALUE"):
        blur_settings.parse_overrides(["speed=3"])
    with pytest.raises(ValueError, match="unknown blur preset"):
        blur_settings.resolve("nope")


def test_a_whole_clip_without_motion_is_the_plain_average_and_with_it_the_target_moves_too():
    rng = np.random.default_rng(0)
    clip = rng.uniform(size=(9, 48, 48, 3)).astype(np.float32)
    points = [np.stack([rng.uniform(14, 34, 68), rng.uniform(14, 34, 68)], 1) for _ in range(9)]
    blurry, target = motion.blur_video(clip, points, blur_settings.PRESETS["paper"])
    np.testing.assert_allclose(blurry, blur.blur_clip(clip, 5).numpy(), atol=1e-6)
    np.testing.assert_array_equal(target, clip)
    moving = dataclasses.replace(blur_settings.PRESETS["realistic"], shake_fraction=1.0)
    blurry, target = motion.blur_video(clip, points[:4] + [None] + points[5:], moving, seed=1)
    assert blurry.shape == target.shape == clip.shape and not np.allclose(target, clip)
    assert np.abs(blurry - target).mean() < np.abs(blur.blur_clip(clip, 5).numpy() - clip).mean() + 0.1


def test_the_maps_are_the_same_whatever_the_row_blocks_of_their_product(monkeypatch):
    # The sweep computes its maps in row blocks (OpenBLAS threads off); the outputs stay the old ones.
    rng = np.random.default_rng(2)
    warp = motion.Warper(motion.head_mask(rng.uniform(20, 60, (68, 2)), (70, 90)), (40, 35))
    heads, cams = rng.normal(size=(3, 4)) * [2, 2, 1, 0.01], rng.normal(size=(3, 2))
    blocked = warp.maps(heads, cams)
    monkeypatch.setattr(motion, "ROWS_PER_PRODUCT", 10 ** 9)
    np.testing.assert_array_equal(blocked, warp.maps(heads, cams))
    monkeypatch.setattr(motion, "ROWS_PER_PRODUCT", 37)
    np.testing.assert_array_equal(blocked, warp.maps(heads, cams))


def test_a_reused_sweep_is_made_once_and_each_sample_gets_its_window_of_it(synthetic_cache):  # noqa: F811
    cfg = dataclasses.replace(blur_settings.PRESETS["realistic"], still_fraction=0.0)
    runs = pipeline.cache.Cache(synthetic_cache["root"]).runs("train")
    reader = pipeline.SampleReader(runs[:1], 5, cfg, training=True, reuse=3)
    made = []
    make = reader._sweep
    reader._sweep = lambda *a, **k: made.append(1) or make(*a, **k)
    first, mixing, _ = reader.frames(0, 4, 0, 0, 200, 200, 5, (1, -1, 7))
    second, _, target = reader.frames(0, 4, 50, 60, 200, 200, 5, (1, -1, 7))
    reader.frames(0, 4, 10, 10, 200, 200, 5, (1, -1, 7))
    assert len(made) == 1 and not reader.swept.entries   # one sweep for three samples, then dropped
    np.testing.assert_array_equal(first[:, 50:, 60:], second[:, :150, :140])   # one blurred frame, two windows
    np.testing.assert_array_equal(mixing, np.eye(5))   # mixed once, with the sweep
    np.testing.assert_array_equal(target * 255, np.asarray(runs[0].array("sharp"))[4, 50:250, 60:260])
    # Each sample is, up to the head mask's edge at the window's border, the blur it would get alone.
    alone, alone_mixing, _ = pipeline.SampleReader(runs[:1], 5, cfg, training=True).frames(
        0, 4, 50, 60, 200, 200, 5, (1, -1, 7))
    assert np.abs(np.tensordot(alone_mixing, alone, 1) - second).mean() < 2e-3
    reader.frames(0, 4, 0, 0, 200, 200, 5, (1, -1, 8))
    assert len(made) == 2   # another motion, another sweep


def test_the_looks_gamma_is_the_power_it_replaced_to_a_float32_step():
    """The look computes x ** gamma as exp(gamma log x) (faster); the draws below are the look's own."""
    frames = tf.constant(np.random.default_rng(2).uniform(size=(2, 16, 16, 3)), tf.float32)
    key = tf.constant([4, 7, 1], tf.int64)
    u = tf.random.stateless_uniform([6], seed=tf.stack([key[0] * 7919 + key[1], key[2]]) + 3)
    brightness = tf.exp(np.log(0.35) + u[0] * np.log(1.25 / 0.35))
    gamma = tf.exp(np.log(0.75) + u[1] * np.log(1.35 / 0.75))
    contrast, colour = 0.75 + 0.5 * u[2], 0.88 + 0.24 * u[3:6]
    mean = tf.reduce_mean(frames, axis=[1, 2, 3], keepdims=True)
    power = tf.clip_by_value(tf.clip_by_value(mean + contrast * (frames - mean), 0, 1) ** gamma * brightness * colour, 0, 1)
    got = motion.photometric(frames, key).numpy()
    np.testing.assert_allclose(got, power.numpy(), rtol=0, atol=2.5e-7)
    assert not np.array_equal(got, frames.numpy())
