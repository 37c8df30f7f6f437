"""Evaluation sees the face as the tool does: the five points that place the priors and the
face crop are found on the blurry frame, never taken from the sharp one."""
import numpy as np

from deblur3d.data import faces
from deblur3d.data import priors_store as store


def test_evaluation_priors_never_see_the_sharp_frame_points(data_root):
    from deblur3d.data import readers
    from deblur3d.eval import evaluate as ev
    from deblur3d.eval.sources import Source

    a = readers.read_authors(data_root / "300vw-sample" / "vd001")
    blurry = a["blurry"][3].astype(np.float32) / 255
    seen = {"priors": [], "model": []}

    class Online:   # a model's own priors: records the points that place them
        def __call__(self, stack, points5):
            seen["priors"].append(np.asarray(points5)[0])
            return np.zeros(stack.shape[:3] + (3,), np.float32), np.zeros((1, 80), np.float32)

    class Recorder:   # a method needing priors; records the points that place its face crop
        needs_priors, priors_recipe, name, online = True, None, "recorder", Online()

        def __call__(self, stack, points5=None, render=None, identity=None):
            seen["model"].append(np.asarray(points5)[0])
            return stack[0, ..., 6:9]

    annotator = faces.FaceAnnotator()
    rgb = np.ascontiguousarray(a["blurry"][3])
    on_blurry = faces.five_points(annotator.landmarks(rgb, annotator.detect(rgb)[0]))
    sharp_points = on_blurry + 40.0   # what the sharp frame says: far from where the blurry face is
    frame = dict(key="vd001/3", blurry=np.concatenate([blurry] * 5, -1), sharp=a["sharp"][3].astype(np.float32) / 255,
                 points5=sharp_points, points68=None)
    ev.evaluate_source(Source("authors", "", ["vd001/3"], lambda: iter([frame])), [Recorder()])
    assert len(seen["priors"]) == len(seen["model"]) == 1
    np.testing.assert_allclose(seen["priors"][0], on_blurry, atol=1e-3)
    np.testing.assert_allclose(seen["model"][0], on_blurry, atol=1e-3)


def test_a_clip_without_a_face_found_keeps_its_last_points_and_counts_them():
    class Blind:
        def __init__(self):
            self.calls = 0

        def detect(self, rgb):
            self.calls += 1
            return np.array([[10, 10, 30, 30]], np.float32) if self.calls == 1 else np.zeros((0, 4), np.float32)

        detect_cnn = detect

        def landmarks(self, rgb, box):
            return np.tile(np.float32([[20, 20]]), (68, 1))

    locate = faces.BlurryLocator(Blind())
    frame = np.zeros((40, 40, 3), np.float32)
    first = locate(frame, "clip", np.zeros((5, 2)))
    np.testing.assert_allclose(first, np.full((5, 2), 20.0))
    np.testing.assert_allclose(locate(frame, "clip", np.zeros((5, 2))), first)          # the clip's last points
    np.testing.assert_allclose(locate(frame, "other", np.ones((5, 2))), np.ones((5, 2)))  # none yet: the stored
    assert (locate.guessed, locate.borrowed, locate.frames) == (1, 1, 3)


def test_priors_placed_by_sharp_points_are_not_used_by_evaluation(tmp_path):
    (tmp_path / "new").mkdir()
    store.write_index(tmp_path / "new", "cache", [], {})
    assert store.blurry_aligned(tmp_path / "new")
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / store.INDEX).write_text('{"cache": "c", "runs": [], "blur": {}}')   # before the key
    assert not store.blurry_aligned(tmp_path / "old") and not store.blurry_aligned(tmp_path / "none")
