import numpy as np
import pytest
import tensorflow as tf

from deblur3d.data import blur


def test_blur_is_the_clamped_mean_of_five_frames():
    values = np.array([0.0, 0.1, 0.5, 1.0], np.float32)
    frames = np.broadcast_to(values[:, None, None, None], (4, 2, 3, 3))
    got = blur.blur_clip(frames, window=5).numpy()
    # Borders clamp: frame 0 averages frames 0, 0, 0, 1, 2; frame 3 averages 1, 2, 3, 3, 3.
    want = [(0 + 0 + 0 + .1 + .5) / 5, (0 + 0 + .1 + .5 + 1) / 5,
            (0 + .1 + .5 + 1 + 1) / 5, (.1 + .5 + 1 + 1 + 1) / 5]
    np.testing.assert_allclose(got[:, 1, 2, 0], want, atol=1e-6)
    assert got.shape == frames.shape and got.dtype == np.float32


def test_window_sizes_and_stack_indices():
    np.testing.assert_array_equal(blur.window_indices(1, 10, 7), [0, 0, 0, 1, 2, 3, 4])
    np.testing.assert_array_equal(blur.window_indices(8, 10, 9), [4, 5, 6, 7, 8, 9, 9, 9, 9])
    with pytest.raises(ValueError):
        blur.window_indices(0, 10, 4)
    # Target 0 of a 6-frame clip: input frames 0, 0, 0, 1, 2, each a clamped 5-frame mean.
    np.testing.assert_array_equal(blur.stack_indices(0, 6),
                                  [[0, 0, 0, 1, 2]] * 3 + [[0, 0, 1, 2, 3], [0, 1, 2, 3, 4]])
    np.testing.assert_allclose(blur.weights([[0, 0, 1], [2, 2, 2]], 3), [[2 / 3, 1 / 3, 0], [0, 0, 1]])


def test_linear_light_averages_decoded_values():
    frames = np.array([0.0, 1.0], np.float32).reshape(2, 1, 1, 1)
    mean = float(blur.mix(frames, [[0.5, 0.5]], linear_light=True)[0, 0, 0, 0])
    assert mean == pytest.approx(1.055 * 0.5 ** (1 / 2.4) - 0.055, abs=1e-5)   # brighter than 0.5
    grey = np.full((3, 1, 1, 1), 0.3, np.float32)
    assert float(blur.mix(grey, [[1 / 3] * 3], linear_light=True)[0, 0, 0, 0]) == pytest.approx(0.3, abs=1e-5)


def test_a_photo_stack_moves_neighbour_k_by_k_shifts_with_the_edge_repeated():
    photo = np.arange(4 * 6 * 3, dtype=np.float32).reshape(4, 6, 3)
    stack = blur.photo_stack(photo, 5, shift=2)
    assert stack.shape == (4, 6, 15) and stack.dtype == np.float32
    np.testing.assert_array_equal(stack[..., 6:9], photo)                                   # the centre is the photo
    right2 = np.concatenate([photo[:, :1]] * 2 + [photo[:, :-2]], 1)                       # k = +1: 2 px right
    left4 = np.concatenate([photo[:, 4:]] + [photo[:, -1:]] * 4, 1)                        # k = -2: 4 px left
    np.testing.assert_array_equal(stack[..., 9:12], right2)
    np.testing.assert_array_equal(stack[..., 0:3], left4)
    identical = blur.photo_stack(photo[None], 5, shift=0)
    assert identical.shape == (1, 4, 6, 15) and all(np.array_equal(identical[..., 3 * k:3 * k + 3], photo[None])
                                                    for k in range(5))


def test_one_srgb_curve_for_tensors_and_arrays():
    x = np.array([0.0, 0.02, 0.5, 1.0], np.float32)
    want = [0.0, 0.02 / 12.92, ((0.5 + 0.055) / 1.055) ** 2.4, 1.0]   # IEC 61966-2-1 by hand
    np.testing.assert_allclose(blur.srgb_to_linear(x, np), want, rtol=1e-6)
    np.testing.assert_allclose(blur.srgb_to_linear(tf.constant(x)).numpy(), want, rtol=1e-6)
    np.testing.assert_allclose(blur.linear_to_srgb(np.array(want, np.float32), np), x, atol=1e-6)
    assert blur.linear_to_srgb(np.float32(-0.5), np) == 0.0
