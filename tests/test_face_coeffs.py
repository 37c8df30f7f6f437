import numpy as np
import pytest

from deblur3d.face import coeffs


def test_layout_matches_the_paper():
    assert coeffs.NUM_COEFFS == 239
    assert [coeffs.SLICES[n] for n in ("identity", "expression", "texture", "rotation", "light", "translation")] == [
        slice(0, 80), slice(80, 144), slice(144, 224), slice(224, 227), slice(227, 236), slice(236, 239)]


def test_split_join_round_trip_is_exact():
    x = np.random.default_rng(0).normal(size=(4, 239)).astype(np.float32)
    parts = coeffs.split(x)
    assert parts.light.shape == (4, 9)
    np.testing.assert_array_equal(parts.rotation.numpy(), x[:, 224:227])
    np.testing.assert_array_equal(coeffs.join(parts).numpy(), x)
    np.testing.assert_array_equal(coeffs.join(parts._asdict()).numpy(), x)


def test_split_rejects_a_wrong_length():
    with pytest.raises(ValueError, match="239"):
        coeffs.split(np.zeros((2, 257), np.float32))
