"""Temporal bilateral smoothing of face parameters: jitter goes, steps and ramps stay."""
import numpy as np
import pytest

from deblur3d.video import smoothing
from deblur3d.video.smoothing import jitter, smooth

T, D = 200, 10


def noise(sigma, seed=0, shape=(T, D)):
    return np.random.default_rng(seed).normal(0.0, sigma, shape)


def step(height=20.0, at=100, sigma=0.5):
    level = np.where(np.arange(T) < at, 0.0, height)[:, None]
    return level + noise(sigma, seed=1), level


def test_radius_zero_is_an_exact_copy():
    series = noise(1.0).astype(np.float32)
    out = smooth(series, 0)
    np.testing.assert_array_equal(out, series)
    assert out is not series


@pytest.mark.parametrize("shape", [(T,), (T, D), (T, 68, 2)])
def test_shape_and_dtype(shape):
    out = smooth(noise(1.0, shape=shape), 3)
    assert out.shape == shape and out.dtype == np.float32


def test_jitter_estimates_the_noise_despite_motion():
    ramp = np.linspace(0, 50, T)[:, None]
    assert jitter(5.0 + noise(1.0)) == pytest.approx(1.0, rel=0.1)
    assert jitter(ramp + noise(1.0)) == pytest.approx(1.0, rel=0.1)
    assert jitter(step(sigma=0.5)[0]) == pytest.approx(0.5, rel=0.1)
    assert jitter(np.zeros((2, D))) == 0.0


def test_jitter_is_reduced():
    out = smooth(5.0 + noise(1.0), 4)
    assert np.std(out - 5.0) < 0.6


def test_a_step_is_kept():
    series, level = step()
    out = smooth(series, 4)
    far = np.abs(np.arange(T) - 99.5) > 1.5   # frames more than 1 away from the step
    assert np.abs(out - level)[far].max() < 1.0
    assert np.abs(out[100] - out[99]).min() > 15


def test_a_ramp_is_kept():
    ramp = np.linspace(0, 40, T)[:, None] * np.linspace(-1, 1, D)   # slopes up to 0.2 / frame
    for series, sigma_v in ((ramp, 1.0), (ramp + noise(0.05), None)):
        out = smooth(series, 4, sigma_v=sigma_v)
        np.testing.assert_allclose(out[4:-4], ramp[4:-4], atol=0.2)


class FakeReconNet:
    """coefficients() returns a preset series frame by frame; render() returns what it was given."""

    def __init__(self, series):
        self.series, self.next = series, 0

    def coefficients(self, frame, points5):
        self.next += 1
        return self.series[self.next - 1][None]

    def render(self, coeffs, points5, height, width, albedo=None):
        return coeffs


def test_track_priors_hold_identity_and_steady_the_pose_and_leave_a_frame_alone_when_off():
    from deblur3d.face.coeffs import NUM_COEFFS, SLICES
    from deblur3d.video.track_priors import TrackPriors
    rng = np.random.default_rng(0)
    series = np.zeros((40, NUM_COEFFS), np.float32)
    series[:, SLICES["identity"]] = 1 + 0.1 * rng.normal(size=(40, 80))    # a fixed face, estimated with noise
    series[:, SLICES["rotation"]] = 0.02 * rng.normal(size=(40, 3))        # a still head, jittery estimate
    crop, points5 = np.zeros((8, 8, 3), np.float32), np.zeros((5, 2), np.float32)
    raw = TrackPriors(FakeReconNet(series), smoothing.Smoothing(0, hold_identity=False))
    steady = TrackPriors(FakeReconNet(series), smoothing.Smoothing(2, hold_identity=True))
    rotations, identities = [], []
    for i in range(40):
        for track in (raw, steady):
            track.add(i, crop, points5)
        if i >= 2:   # the window about t = i - 2 is complete
            t = i - 2
            drawn, identity = raw(t, points5, 8)
            np.testing.assert_array_equal(drawn[0], series[t])   # off: the frame's own coefficients
            drawn, identity = steady(t, points5, 8)
            rotations.append(drawn[0, SLICES["rotation"]])
            identities.append(identity[0])
    assert np.std(rotations) < 0.7 * np.std(series[:, SLICES["rotation"]])
    np.testing.assert_allclose(identities[-1], series[:40, SLICES["identity"]].mean(0), atol=1e-5)   # running mean
    assert np.std(np.array(identities)[-10:], 0).mean() < 0.01   # settles: no frame-to-frame change


def test_track_priors_hand_the_tracked_points_to_a_refining_recon():
    from deblur3d.face.coeffs import NUM_COEFFS
    from deblur3d.video.track_priors import TrackPriors

    class Refining(FakeReconNet):
        fitting = True

        def fit(self, frames, points5, points68=None, hold=None):
            self.seen = points68
            return self.coefficients(frames, points5) + 1.0, None

    recon = Refining(np.zeros((3, NUM_COEFFS), np.float32))
    track = TrackPriors(recon, smoothing.Smoothing(0, hold_identity=False))
    points68 = np.arange(136, dtype=np.float32).reshape(68, 2)
    track.add(0, np.zeros((8, 8, 3), np.float32), np.zeros((5, 2), np.float32), points68)
    np.testing.assert_array_equal(recon.seen, points68[None])
    drawn, _ = track(0, np.zeros((5, 2), np.float32), 8)
    np.testing.assert_array_equal(drawn[0], np.ones(NUM_COEFFS, np.float32))   # the refined coefficients
