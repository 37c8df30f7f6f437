"""The correction stabiliser (deblur3d/video/stabiliser.py) on hand-made crops."""
import cv2
import numpy as np

from deblur3d.eval.temporal import CorrectionFlicker
from deblur3d.video.stabiliser import CorrectionMemory, Stabiliser


def scene(shape=(96, 200), seed=0):
    x = cv2.GaussianBlur(np.random.default_rng(seed).random(shape + (3,)).astype(np.float32), (0, 0), 3.0)
    return (x - x.min()) / (x.max() - x.min()) * 0.9


def test_a_static_scene_with_a_steady_correction_is_left_as_it_is():
    crop = np.ascontiguousarray(scene()[:, :96])
    correction = 0.02 * (crop - cv2.GaussianBlur(crop, (0, 0), 1.5))
    memory = CorrectionMemory(Stabiliser(0.6, sigma=4.0))
    for t in range(4):
        out = memory.steady(0, t, crop, correction)
        np.testing.assert_allclose(out, correction, atol=1e-6)


def test_a_flickering_correction_is_steadied_along_the_motion_and_a_gap_starts_afresh():
    wide = scene()
    crops = [np.ascontiguousarray(wide[:, 2 * t:2 * t + 96]) for t in range(8)]   # the camera pans
    plain, steadied = CorrectionFlicker(), CorrectionFlicker()
    memory = CorrectionMemory(Stabiliser(0.6, sigma=4.0))
    region = np.zeros((96, 96), bool)
    region[16:80, 16:80] = True
    for t, crop in enumerate(crops):
        detail = crop - cv2.GaussianBlur(crop, (0, 0), 1.5)
        noise = 0.01 * np.random.default_rng(t).standard_normal(crop.shape).astype(np.float32)
        correction = detail + noise                        # follows the content, plus frame-to-frame noise
        plain.add(crop, np.clip(crop + correction, 0, 1), region)
        steadied.add(crop, np.clip(crop + memory.steady(0, t, crop, correction), 0, 1), region)
    assert steadied.result()["output"] < 0.8 * plain.result()["output"]
    fresh = np.full_like(crops[0], 0.05)
    assert np.array_equal(memory.steady(0, 20, crops[0], fresh), fresh)   # not frame 8: its own correction
    assert np.array_equal(CorrectionMemory(Stabiliser(0.0)).steady(0, 1, crops[1], fresh), fresh)   # weight 0: off


def test_where_the_input_itself_changed_each_frame_keeps_its_own_correction():
    sharp = np.ascontiguousarray(scene(seed=3)[:, :96])
    blurred = cv2.GaussianBlur(sharp, (0, 0), 2.5)   # the same place, blurred differently: a new blur
    memory = CorrectionMemory(Stabiliser(0.8, sigma=4.0))
    memory.steady(0, 0, sharp, np.zeros_like(sharp))
    own = blurred - cv2.GaussianBlur(blurred, (0, 0), 1.5)
    out = memory.steady(0, 1, blurred, own)
    changed = np.abs(blurred - sharp).mean(-1) > 12 / 255   # where the input moved by more than 3 sigma
    assert changed.mean() > 0.1
    np.testing.assert_allclose(out[changed], own[changed], atol=1e-3)


def test_the_carried_share_follows_the_faces_blur_score_and_a_clearly_blurred_face_keeps_its_own():
    ramp = Stabiliser(0.8, steady_below=0.5, own_above=0.6)
    assert [ramp.weight_for(s) for s in (0.3, 0.5, 0.6, 0.9, float("nan"))] == [0.8, 0.8, 0.0, 0.0, 0.0]
    assert abs(ramp.weight_for(0.575) - 0.2) < 1e-9            # a quarter of the way from HI: a quarter of 0.8
    assert Stabiliser(0.8, steady_below=1, own_above=1).weight_for(0.99) == 0.8   # every face alike
    wide = scene()
    crops = [np.ascontiguousarray(wide[:, 2 * t:2 * t + 96]) for t in range(2)]
    memory = CorrectionMemory(ramp)
    memory.steady(0, 0, crops[0], np.full_like(crops[0], 0.05))
    own = np.zeros_like(crops[1])
    assert np.array_equal(memory.steady(0, 1, crops[1], own, score=0.7), own)            # blurred: its own
    memory.steady(0, 1, crops[1], np.full_like(crops[0], 0.05))
    assert np.abs(memory.steady(0, 2, crops[1], own, score=0.4)).max() > 0.02           # sharp: carried (static)
