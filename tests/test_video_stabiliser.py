"""The correction stabiliser and its loop (deblur3d/video/stabiliser.py) on hand-made crops."""
import cv2
import numpy as np

from data_fixtures import face_frames
from deblur3d.eval.temporal import CorrectionFlicker
from deblur3d.video import io, pipeline
from deblur3d.video.gate import Gate
from deblur3d.video.stabiliser import LADDER, CorrectionMemory, Stabiliser

SIDE = 96
ANGLES = np.linspace(0, 2 * np.pi, 68, endpoint=False)
POINTS = np.stack([48 + 32 * np.cos(ANGLES), 48 + 36 * np.sin(ANGLES)], -1)   # a face filling most of the crop


def scene(shape=(96, 200), seed=0, blur=3.0):
    x = cv2.GaussianBlur(np.random.default_rng(seed).random(shape + (3,)).astype(np.float32), (0, 0), blur)
    return (x - x.min()) / (x.max() - x.min()) * 0.9


def pan(n, seed=0, blur=3.0, step=1.5, grain=1.0):
    """The camera pans `step` px a frame over a scene; each frame has its own sensor noise
    (`grain` grey levels), which the static filter sharpens too."""
    wide, crops = scene(seed=seed, blur=blur), []
    for t in range(n):
        crop = cv2.warpAffine(wide, np.float32([[1, 0, -step * t], [0, 1, 0]]), (SIDE, SIDE), flags=cv2.INTER_LINEAR)
        noise = grain / 255 * np.random.default_rng(50 + t).standard_normal(crop.shape).astype(np.float32)
        crops.append(np.clip(crop + noise, 0, 1))
    return crops


def flickering(crop, t, noise=0.02):
    """A correction that follows the content (the static filter's), plus frame-to-frame noise."""
    detail = crop - cv2.GaussianBlur(crop, (0, 0), 1.5)
    return detail + noise * np.random.default_rng(100 + t).standard_normal(crop.shape).astype(np.float32)


def test_a_static_scene_with_a_steady_correction_is_left_as_it_is():
    crop = np.ascontiguousarray(scene()[:, :SIDE])
    correction = 0.02 * (crop - cv2.GaussianBlur(crop, (0, 0), 1.5))
    memory = CorrectionMemory(Stabiliser(0.95, sigma=4.0))
    for t in range(4):
        out = memory.steady(0, t, crop, correction, POINTS)
        np.testing.assert_allclose(out, correction, atol=1e-6)


def test_the_loop_steadies_a_flickering_pan_to_the_static_filters_level_and_a_gap_starts_afresh():
    crops = pan(10)
    plain, steadied = CorrectionFlicker(), CorrectionFlicker()
    memory = CorrectionMemory(Stabiliser(0.95, sigma=4.0))
    region = cv2.fillConvexPoly(np.zeros((SIDE, SIDE), np.uint8), np.round(POINTS).astype(np.int32), 1) > 0
    for t, crop in enumerate(crops):
        correction = flickering(crop, t)
        plain.add(crop, np.clip(crop + correction, 0, 1), region)
        steadied.add(crop, np.clip(crop + memory.steady(0, t, crop, correction, POINTS), 0, 1), region)
    (track,) = memory.summary().values()
    # Without the loop the correction flickers more than the filter's; the loop raises W until it does not.
    assert plain.result()["output"] > 1.5 * plain.result()["unsharp"]
    assert track["before"] > 1.5 * track["unsharp"] and track["after"] <= track["unsharp"]
    assert 0 < track["weight"] <= 0.95 and track["pairs"] == 9
    assert steadied.result()["output"] <= steadied.result()["unsharp"] < 0.7 * plain.result()["output"]
    fresh = np.full_like(crops[0], 0.05)
    assert np.array_equal(memory.steady(0, 20, crops[0], fresh, POINTS), fresh)   # not frame 10: its own correction
    off = CorrectionMemory(Stabiliser(0.0))
    off.steady(0, 0, crops[0], flickering(crops[0], 0), POINTS)
    assert np.array_equal(off.steady(0, 1, crops[1], fresh, POINTS), fresh)   # weight 0: off


def test_a_correction_steadier_than_the_filters_keeps_w_0():
    memory = CorrectionMemory(Stabiliser(0.95, sigma=4.0))
    for t, (crop, clean) in enumerate(zip(pan(6), pan(6, grain=0.0))):
        correction = flickering(clean, t, noise=0.0)   # the filter's correction, but not of the sensor noise
        np.testing.assert_array_equal(memory.steady(0, t, crop, correction, POINTS), correction)
    assert memory.summary()[0]["weight"] == 0.0


def test_where_the_input_itself_changed_each_frame_keeps_its_own_correction_whatever_w_the_loop_chose():
    crops = pan(8, seed=3, blur=1.5)
    memory = CorrectionMemory(Stabiliser(0.95, sigma=4.0))
    for t, crop in enumerate(crops[:7]):
        memory.steady(0, t, crop, flickering(crop, t), POINTS)
    assert memory.loops[0].weight >= 0.8   # the pan flickers: the loop carries most of the correction
    # Frame 7 continues the pan, but its right half is blurred anew: a blur that changed there.
    sharp = crops[7]
    moved = sharp.copy()
    moved[:, 48:] = cv2.GaussianBlur(sharp, (0, 0), 2.5)[:, 48:]
    own = moved - cv2.GaussianBlur(sharp, (0, 0), 3.0)   # the true correction changes with the blur
    out = memory.steady(0, 7, moved, own, POINTS)
    # Where the input changed by more than 3 sigma (smoothed as the stabiliser smooths it).
    changed = cv2.GaussianBlur(np.abs(moved - sharp).mean(-1), (0, 0), 2.0) > 12 / 255
    assert changed[:, 56:].mean() > 0.2 and not changed[:, :40].any()
    np.testing.assert_allclose(out[changed], own[changed], atol=2e-3)
    assert np.abs(out[8:88, 8:40] - own[8:88, 8:40]).mean() > 0.005   # unchanged: carried


def test_the_ladder_stops_at_the_ceiling():
    assert Stabiliser(0.95).ladder() == LADDER and Stabiliser(0.0).ladder() == (0.0,)
    assert Stabiliser(0.85).ladder() == (0.0, 0.5, 0.8, 0.85) and Stabiliser(1.0).ladder()[-1] == 1.0


class FlickeringModel:
    """A stub of the network: the centre frame plus a correction that flickers (no TensorFlow)."""
    priors, stride = None, 1

    def __init__(self):
        self.calls = 0

    def __call__(self, stack, points5, render=None, identity=None):
        centre = np.asarray(stack, np.float32)[..., 6:9]
        self.calls += 1
        return np.clip(centre + flickering(centre, self.calls, noise=0.03), 0, 1)

    def get(self):
        return self


def test_the_video_report_gives_each_track_its_w_and_incoherence_before_and_after_beside_the_filters():
    face = face_frames(1, clip="livep-d0", size=256)[0].astype(np.float32)
    frames = []   # a pan over a real face, 1.5 px a frame, with sensor noise
    for t in range(8):
        moved = cv2.warpAffine(face, np.float32([[1, 0, 1.5 * t], [0, 1, 0]]), (256, 256), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REFLECT)
        noise = np.random.default_rng(t).standard_normal(moved.shape)
        frames.append(np.clip(np.rint(moved + noise), 0, 255).astype(np.uint8))
    reports = {}
    for weight in (0.0, 0.95):
        config = pipeline.VideoConfig(crop_size=SIDE, gate=Gate(0), stabiliser=Stabiliser(weight))
        reports[weight] = pipeline.deblur_video(io.ArrayInput(frames, 25, "pan"), None, FlickeringModel(), config,
                                                progress=False)
    off, loop = reports[0.0], reports[0.95]
    for report in (off, loop):
        (track,) = report.tracks
        assert set(track) == {"face", "start", "stop", "weight", "before", "after", "unsharp", "pairs"}
        assert (track["face"], track["start"], track["stop"], track["pairs"]) == (0, 0, 8, 7)
        assert report.flicker["frames"] == 7
    (off_track,), (loop_track,) = off.tracks, loop.tracks
    # Off: W 0, nothing changes; the same corrections before either way.
    assert off_track["weight"] == 0 and off_track["after"] == off_track["before"]
    assert loop_track["before"] == off_track["before"] and loop_track["unsharp"] == off_track["unsharp"]
    assert off_track["before"] > loop_track["unsharp"] >= loop_track["after"] and loop_track["weight"] > 0
    # The tool's own frame-level measure agrees: off flickers more than the filter, the loop does not.
    assert off.flicker["output"] > off.flicker["unsharp"] >= loop.flicker["output"]
    assert not off.warnings and not loop.warnings
