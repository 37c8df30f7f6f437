"""Faults a careful user meets (issue 43): outputs that share a path, one odd face in a long
job, out-of-range flags, ignored flags, tiny inputs, resumed runs, full disks and damaged
files. Each ends in one line that names the user's path, and nothing is lost."""
import json
import subprocess
import sys

import cv2
import numpy as np
import pytest

from data_fixtures import noise_frames, write_avi
from deblur3d import atomic, paths
from deblur3d.video import pipeline, tracks
from deblur3d.video.gate import Gate
from deblur3d.video.model import untrained_weights


@pytest.fixture(scope="module")
def identity(tmp_path_factory):
    return untrained_weights(tmp_path_factory.mktemp("w") / "identity.weights.npz", use_priors=False, identity=True)


def run_script(name, *args, timeout=180):
    script = paths.REPO_ROOT / "experiments" / f"{name}.py"
    return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, timeout=timeout)


def one_line(result):
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and lines and lines[-1].startswith("error: "), result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    return lines[-1]


# --- 1: one temporary per output; two outputs on one path refused before any work -------

def test_two_outputs_on_one_path_are_refused_before_work_and_the_old_file_survives(identity, tmp_path):
    clip = write_avi(tmp_path / "in.avi", noise_frames(3, size=64))
    (tmp_path / "o.mp4").write_bytes(b"last week's output")
    result = run_script("deblur_video", f"--input={clip}", f"--output={tmp_path}/o.mp4",
                        f"--side_by_side={tmp_path}/./o.mp4", f"--weights={identity}")
    assert "two outputs" in one_line(result)
    assert (tmp_path / "o.mp4").read_bytes() == b"last week's output"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.avi", "o.mp4"]


def test_two_writers_of_one_path_get_their_own_temporaries(tmp_path):
    with atomic.atomic_file(tmp_path / "o.mp4") as first, atomic.atomic_file(tmp_path / "o.mp4") as second:
        assert first != second and first.name.startswith(".o.tmp-") and first.suffix == ".mp4"
        first.write_bytes(b"a")
        second.write_bytes(b"b")
    assert (tmp_path / "o.mp4").read_bytes() == b"a" and [p.name for p in tmp_path.iterdir()] == ["o.mp4"]


# --- 6: one odd face never ends the job --------------------------------------------------

def test_a_face_whose_output_leaves_the_trained_range_is_handed_back_and_the_job_goes_on():
    frames = [np.full((64, 64, 3), 40 * t, np.uint8) for t in range(5)]
    segment = tracks.Segment(0, 0, 5, (0, 5), (0, 0, 64), np.full((5, 68, 2), 32, np.float32))

    def model(stack, points5, *priors):
        centre = stack[..., 6:9]
        return centre + 3.0 if round(float(centre.mean()) * 255) == 80 else centre * 0.5   # frame 2: far out
    counts = {}
    out = list(pipeline.deblurred_frames(iter(frames), [segment], model,
                                         pipeline.VideoConfig(crop_size=32, gate=Gate(0)), counts))
    assert [t for t, *_ in out] == [0, 1, 2, 3, 4]
    assert np.array_equal(out[2][2], frames[2]) and not np.array_equal(out[3][2], frames[3])
    assert counts == {"left alone": 0, "deblurred": 4, "handed back": 1}


def test_the_warning_counts_the_faces_handed_back_and_never_blames_the_weights(tmp_path, monkeypatch):
    frames = np.stack([np.full((64, 64, 3), 100, np.uint8)] * 3)
    segment = tracks.Segment(0, 0, 3, (0, 3), (0, 0, 64), np.full((3, 68, 2), 32, np.float32))
    monkeypatch.setattr(pipeline, "find_faces", lambda *a: ([segment], 3, (64, 64), True))

    class Spec:
        def get(self):
            return lambda stack, *rest: np.full(stack.shape[:-1] + (3,), np.nan, np.float32)
    from deblur3d.video import io
    notes = []
    report = pipeline.deblur_video(io.ArrayInput(frames, 25.0, "clip"), tmp_path / "o.avi", Spec(),
                                   pipeline.VideoConfig(crop_size=32, gate=Gate(0)), log=notes.append, progress=False)
    assert report.faces_handed_back == 3 and report.faces_deblurred == 0
    assert [n for n in notes if "handed back" in n] == [
        "warning: clip: 3 face(s) x frames handed back untouched: the model's output for them left the 0..1 range "
        "it was trained to produce (faces unlike its training faces; unrelated crops in one folder: --photos)"]
    assert not any("weights" in n for n in notes)


def test_a_folder_of_aligned_crops_is_taken_as_photos_each_of_its_own_size(identity, tmp_path):
    crops = tmp_path / "crops"
    crops.mkdir()
    for name, size in (("a", 64), ("b", 80)):   # crops of different people need not share a size
        cv2.imwrite(str(crops / f"{name}.png"), noise_frames(1, size=size, seed=size)[0])
    result = run_script("deblur_video", f"--input={crops}", f"--output={tmp_path}/out", f"--weights={identity}",
                        "--aligned", "--crop_size=96", f"--report={tmp_path}/r.json")
    assert result.returncode == 0, result.stderr[-2000:]
    assert [cv2.imread(str(tmp_path / "out" / f"{n}.png")).shape[0] for n in "ab"] == [64, 80]
    assert [v["frames"] for v in json.loads((tmp_path / "r.json").read_text())["videos"]] == [1, 1]
