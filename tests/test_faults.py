"""Faults a careful user meets (issue 43): outputs that share a path, one odd face in a long
job, out-of-range flags, ignored flags, tiny inputs, resumed runs, full disks and damaged
files. Each ends in one line that names the user's path, and nothing is lost."""
import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from data_fixtures import noise_frames, write_avi
from deblur3d import atomic, paths
from deblur3d.video import pipeline, tracks
from deblur3d.video.gate import Gate
from deblur3d.train.config import TrainSchedule
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


# --- 4: every numeric flag has a range, checked in one place ----------------------------

def test_every_numeric_flag_of_the_scripts_has_one_range_and_a_shared_flag_one_definition():
    import re
    sys.path.insert(0, str(paths.REPO_ROOT / "experiments"))
    import shared_flags
    sources = {p.stem: p.read_text() for p in (paths.REPO_ROOT / "experiments").glob("*.py")}
    numeric = {name for text in sources.values() for name in re.findall(r'DEFINE_(?:integer|float)\(\s*"(\w+)"', text)}
    numeric |= {name for name, (kind, _) in shared_flags._FLAGS.items() if kind in ("integer", "float")}
    assert numeric == set(shared_flags.RANGES)
    defined = {name: ["shared_flags"] for name in shared_flags._FLAGS}
    for stem, text in sources.items():
        for name in re.findall(r'DEFINE_\w+\(\s*"(\w+)"', text):
            defined.setdefault(name, []).append(stem)
    assert {"face_model", "model_path", "precision", "photo_shift", "flip_ensemble", "detect_side", "split",
            "max_frames"} <= set(shared_flags._FLAGS)
    # A name each script gives its own meaning (its output, its timed steps) is shared too, with
    # the script's default and help (shared_flags.Own): no name is defined twice.
    assert {name for name, where in defined.items() if len(where) > 1} == set()
    assert {"out", "weights", "seed", "steps", "repeats", "crop_size", "budgets"} <= set(shared_flags._FLAGS)
    assert shared_flags.range_text("gate") == "[0, 1]" and shared_flags.range_text("learning_rate") == "(0, inf)"
    assert not shared_flags.in_range("gate", float("nan")) and shared_flags.in_range("stride", None)


def test_an_out_of_range_gate_is_one_line_before_any_work(identity, tmp_path):
    clip = write_avi(tmp_path / "in.avi", noise_frames(3, size=64))
    result = run_script("deblur_video", f"--input={clip}", f"--output={tmp_path}/o.mp4", f"--weights={identity}",
                        "--gate=2")
    assert "--gate must lie in [0, 1]" in one_line(result) and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o.mp4").exists()


def test_a_summary_with_no_face_deblurred_prints_no_nan(identity, tmp_path):
    from data_fixtures import face_frames
    clip = write_avi(tmp_path / "in.avi", face_frames(6, size=192))
    result = run_script("deblur_video", f"--input={clip}", f"--output={tmp_path}/o.avi", f"--weights={identity}",
                        "--gate=1")
    assert result.returncode == 0 and "0 deblurred, 6 already sharp" in result.stdout, result.stderr[-2000:]
    assert "nan" not in result.stdout + result.stderr


# --- 2: no ignored flags -----------------------------------------------------------------

EXPERIMENTS = paths.REPO_ROOT / "experiments"


def _trees():
    import ast
    return {p.stem: ast.parse(p.read_text()) for p in EXPERIMENTS.glob("*.py")}


def _names_of(call):
    return {a.value for a in call.args} | {k.arg for k in call.keywords}


def flags_accepted(trees, script):
    """Flags a script's process defines: its own, and those of the modules of experiments/ it
    imports (shared_flags' only where a module asks for them with define())."""
    import ast
    found, todo, seen = set(), [script], set()
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        for node in ast.walk(trees[module]):
            if isinstance(node, ast.Import):
                todo += [a.name for a in node.names if a.name in trees and a.name not in ("shared_flags", "cli")]
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr.startswith("DEFINE_") and isinstance(node.args[0], ast.Constant):
                found.add(node.args[0].value)
            if node.func.attr == "define" and getattr(node.func.value, "id", None) == "shared_flags":
                found |= _names_of(node)
    return found


def flags_read(trees, script, listed=True):
    """Flags a script reads: FLAGS.name, FLAGS["name"] or (`listed`) a string naming them in a
    tuple of the script, and those read by the functions of experiments/ it calls (and they call)."""
    import ast
    flag_modules = set(trees)

    def scan(node, module):
        reads, calls = set(), set()
        for n in ast.walk(node):
            owner = (getattr(n.value, "id", None), getattr(n.value, "attr", None)) if isinstance(n, ast.Attribute) else ()
            if "FLAGS" in owner:   # FLAGS.name, flags.FLAGS.name
                reads.add(n.attr)
            elif isinstance(n, ast.Subscript) and getattr(n.value, "id", None) == "FLAGS" and \
                    isinstance(n.slice, ast.JoinedStr) and isinstance(n.slice.values[-1], ast.Constant):
                # FLAGS[f"{name}_weight"]: every *_weight flag
                reads.add("*" + n.slice.values[-1].value)
            elif isinstance(n, (ast.Tuple, ast.List)) and module == script and listed:   # FLAGS[name] over names
                reads |= {e.value for e in n.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)}
            elif isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and \
                    getattr(n.func.value, "id", None) in flag_modules:
                calls.add((n.func.value.id, n.func.attr))
            elif isinstance(n, ast.Call) and isinstance(n.func, ast.Name):
                calls.add((module, n.func.id))
        return reads, calls
    functions = {(m, n.name): n for m, tree in trees.items() for n in tree.body if isinstance(n, ast.FunctionDef)}
    reads, todo, seen = scan(trees[script], script)[0], list(scan(trees[script], script)[1]), set()
    while todo:
        key = todo.pop()
        if key in seen or key not in functions or key[0] == script:
            continue
        seen.add(key)
        r, c = scan(functions[key], key[0])
        reads, todo = reads | r, todo + list(c)
    return reads


def test_every_flag_a_script_accepts_changes_what_it_does():
    from deblur3d.deblur.archs import Arch
    from deblur3d.deblur.training import DeblurTrainConfig
    from absl.flags import FlagValues
    trees = _trees()
    # train_deblur.config_from_flags reads every flag named like a field of its configuration
    by_field = {f.name for cls in (Arch, DeblurTrainConfig) for f in dataclasses.fields(cls)}
    ignored = {}
    for script in sorted(m for m in trees if not m.endswith("_flags") and m != "cli"):
        by_name = by_field if "config_from_flags" in (EXPERIMENTS / f"{script}.py").read_text() else set()
        read = flags_read(trees, script)
        unread = {name for name in flags_accepted(trees, script) - read - by_name
                  if not any(r.startswith("*") and name.endswith(r[1:]) for r in read)}
        if unread:
            ignored[script] = sorted(unread)
        undefined = {name for name in flags_read(trees, script, listed=False) - flags_accepted(trees, script)
                     if not name.startswith("*")} - {"verbosity"} - set(dir(FlagValues))   # "*_weight": a pattern
        assert not undefined, (script, undefined)   # read but never defined: an AttributeError at run time
    assert ignored == {}


def test_prepare_data_builds_the_cache_where_cache_dir_says(tmp_path):
    write_avi(tmp_path / "noise.avi", noise_frames(3, size=64))
    result = run_script("prepare_data", f"--cache_dir={tmp_path}/c", f"--sources=video:{tmp_path}/noise.avi")
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "c" / "index.json").is_file() and "noise" in (tmp_path / "c" / "summary.txt").read_text()
    assert "out" not in flags_accepted(_trees(), "prepare_data")   # one flag names where the cache goes


# --- 3: a run folder belongs to one configuration ---------------------------------------

def _train(run_dir, steps, settings=None, widths=(16, 32, 64), force=False, checkpoint_every=2, **schedule):
    import tensorflow as tf
    from test_train_loop import tiny_batch
    from deblur3d.deblur.model import DeblurNet
    from deblur3d.deblur.task import DeblurTask
    from deblur3d.train import loop, schedules
    from deblur3d.train.config import TrainSchedule
    tf.keras.utils.set_random_seed(0)
    task = DeblurTask(DeblurNet(widths=widths, blocks=1))
    optimizer = schedules.adam(schedules.learning_rate("paper", initial=1e-3))
    schedule.update(force=True) if force else None
    config = TrainSchedule(steps=steps, checkpoint_every=checkpoint_every, **schedule).loop_config(str(run_dir))
    notes = []
    loop.train(task, optimizer, tf.data.Dataset.from_tensors(tiny_batch(size=40)).repeat(), {"net": task.net}, config,
               log=notes.append, **({} if settings is None else dict(settings=settings)))
    return notes


@dataclasses.dataclass(frozen=True)
class Settings:   # a trainer's configuration, as far as these tests need one
    content: str = "charbonnier"
    res_scale: float = 0.1
    residual: bool = True
    train: TrainSchedule = TrainSchedule(steps=4)


@pytest.fixture(scope="module")
def four_steps(tmp_path_factory):
    """A run of 4 steps recorded with Settings(), checkpoints at 2 and 4: a test resumes its own copy
    (one training for all of them)."""
    run = tmp_path_factory.mktemp("run") / "r"
    _train(run, 4, Settings())
    return run


@pytest.fixture
def a_run(four_steps, tmp_path):
    return Path(shutil.copytree(four_steps, tmp_path / "r"))


def test_a_resume_that_changes_the_model_or_loss_is_refused_in_one_line_naming_the_settings(a_run):
    from deblur3d.train.run_config import OtherSettings
    changed = Settings(content="mse", res_scale=1.0, residual=False, train=TrainSchedule(steps=6))
    with pytest.raises(OtherSettings) as err:
        _train(a_run, 6, changed)
    assert "\n" not in str(err.value) and "--force" in str(err.value)
    assert "(content 'charbonnier' -> 'mse'; res_scale 0.1 -> 1.0; residual True -> False)" in str(err.value)
    assert any("resumed from" in n and "step 4" in n
               for n in _train(a_run, 6, Settings(train=TrainSchedule(steps=6))))   # more steps: the same run
    _train(a_run, 8, changed, force=True)   # forced on: the run now records the new settings, and the change
    record = json.loads((a_run / "run_config.json").read_text())
    assert record["settings"]["content"] == "mse" and "content 'charbonnier' -> 'mse'" in record["differs"]


def test_a_changed_schedule_alone_is_refused_unless_allowed_explicitly(a_run):
    from deblur3d.train.run_config import OtherSettings
    lower = Settings(train=TrainSchedule(steps=6, learning_rate=5e-5, warmup_steps=10))
    with pytest.raises(OtherSettings) as err:
        _train(a_run, 6, lower)
    assert "(train.learning_rate 0.0001 -> 5e-05; train.warmup_steps 0 -> 10)" in str(err.value)
    assert "--allow_schedule_change" in str(err.value)
    notes = _train(a_run, 6, lower, allow_schedule_change=True)
    assert any("resumed from" in n and "step 4" in n for n in notes)
    record = json.loads((a_run / "run_config.json").read_text())
    assert record["settings"]["train.learning_rate"] == 5e-5 and "learning_rate 0.0001 -> 5e-05" in record["differs"]
    with pytest.raises(OtherSettings) as err:   # the schedule alone: a changed loss is still refused
        _train(a_run, 8, dataclasses.replace(lower, content="mse"), allow_schedule_change=True)
    assert "(content 'charbonnier' -> 'mse')" in str(err.value) and "allow_schedule_change" not in str(err.value)


def test_a_run_folder_recorded_before_the_shared_format_resumes_on_its_settings(tmp_path):
    from deblur3d.train import run_config

    @dataclasses.dataclass(frozen=True)
    class Flagged:
        content: str = "mse"
        command: dict | None = None   # the flags as given: the steps' business, not a setting
    (tmp_path / "run_config.json").write_text(json.dumps({"content": "mse", "command.steps": 3, "train.steps": 2}))
    run_config.check_and_record(tmp_path, Flagged(command={"steps": 5}), resuming=True)
    with pytest.raises(run_config.OtherSettings, match=r"\(content 'mse' -> 'l1'\)"):
        run_config.check_and_record(tmp_path, Flagged(content="l1"), resuming=True)


def test_a_setting_added_since_a_run_was_recorded_is_its_default_on_resume(tmp_path):
    from deblur3d.train import run_config

    @dataclasses.dataclass(frozen=True)
    class Newer:
        content: str = "mse"
        blur_reuse: int = 1   # not in the older record below
    (tmp_path / "run_config.json").write_text(json.dumps({"settings": {"content": "mse"}}))
    run_config.check_and_record(tmp_path, Newer(), resuming=True)   # at its default: the same run
    with pytest.raises(run_config.OtherSettings, match=r"\(blur_reuse 1 -> 8\)"):
        run_config.check_and_record(tmp_path, Newer(blur_reuse=8), resuming=True)


def test_a_checkpoint_of_other_shapes_is_made_with_other_settings_not_damaged(a_run):
    with pytest.raises(ValueError, match="made with other settings") as err:   # run_config.OtherSettings
        _train(a_run, 6, widths=(8, 32, 64))
    assert "damaged" not in str(err.value) and len(list((a_run / "ckpt").glob("ckpt-*.index"))) == 2


# --- 7: tiny inputs ------------------------------------------------------------------------

@pytest.mark.parametrize("height, width", [(1, 1), (200, 9)])
def test_a_photo_below_the_detectors_size_is_one_line_of_ours(identity, tmp_path, height, width):
    cv2.imwrite(str(tmp_path / "tiny.png"), np.full((height, width, 3), 128, np.uint8))
    result = run_script("deblur_video", f"--input={tmp_path}/tiny.png", f"--output={tmp_path}/o.png",
                        f"--weights={identity}")
    line = one_line(result)
    assert "Error detected" not in result.stderr and "tiny.png" in line and f"{width}x{height} px" in line
    assert "32 px" in line and not (tmp_path / "o.png").exists()


# --- 5: full disks, damaged files, what killed runs leave --------------------------------

def _dead_pid():
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


def test_the_temporaries_a_killed_run_left_are_removed_by_the_next_run_that_writes_there(tmp_path):
    dead = _dead_pid()
    for name in (f".c.tmp-{dead}-x1ab", f".c.old-{dead}", f".o.tmp-{dead}-k2.mp4"):
        (tmp_path / name).mkdir() if "mp4" not in name else (tmp_path / name).write_bytes(b"half")
    (tmp_path / f".c.tmp-{dead}-x1ab" / "sharp.npy").write_bytes(b"124 MB")
    live = tmp_path / f".c.tmp-{os.getppid()}-y2cd"   # a concurrent run's: kept
    live.mkdir()
    with atomic.atomic_dir(tmp_path / "c") as tmp:
        (tmp / "index.json").write_text("{}")
    with atomic.atomic_file(tmp_path / "o.mp4") as tmp:
        tmp.write_bytes(b"whole")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["c", "o.mp4", live.name])


def test_a_full_disk_names_the_users_path_and_the_free_space_not_the_temporary(tmp_path, monkeypatch):
    import errno
    from deblur3d.video import outputs

    def full(self, data):
        raise OSError(errno.ENOSPC, "No space left on device", str(self))
    monkeypatch.setattr(Path, "write_bytes", full)
    with pytest.raises(OSError) as err:
        outputs.write_image(tmp_path / "photo.png", np.zeros((8, 8, 3), np.uint8))
    assert str(err.value).startswith(f"{tmp_path}/photo.png: no space left on the device (")
    assert "MB free)" in str(err.value)
    assert ".tmp-" not in str(err.value) and list(tmp_path.iterdir()) == []


def test_a_truncated_cache_or_priors_array_is_named_with_the_command_that_rebuilds_it(tmp_path):
    from deblur3d.data import cache
    from deblur3d.data import priors_store as store
    run = tmp_path / "runs" / "r"
    run.mkdir(parents=True)
    np.save(run / "sharp.npy", np.zeros((4, 32, 32, 3), np.uint8))
    (run / "sharp.npy").write_bytes((run / "sharp.npy").read_bytes()[:1000])   # a copy cut short
    with pytest.raises(OSError) as err:
        cache.Run(run, {"name": "r", "split": "val"}).array("sharp")
    assert str(err.value).startswith(f"{run}/sharp.npy: damaged or cut short (") and "`make data`" in str(err.value)
    folder = store.run_folder(tmp_path / "priors", "r")
    folder.mkdir(parents=True)
    for name in (store.RENDER, store.COEFFS):
        (folder / name).write_bytes(b"\x93NUMPY")
    with pytest.raises(OSError, match=r"render.*: damaged or cut short \(.*\): rebuild it with `make priors`"):
        store.load_run(tmp_path / "priors", "r")


def test_a_full_disk_while_saving_a_checkpoint_is_one_line_and_leaves_no_partial_save(tmp_path, monkeypatch):
    import tensorflow as tf

    def full(self, checkpoint_number=None, **kwargs):
        (Path(self.directory) / f"ckpt-{checkpoint_number}_temp").mkdir(parents=True)
        (Path(self.directory) / f"ckpt-{checkpoint_number}_temp" / "part-00000").write_bytes(b"x" * 1000)
        raise tf.errors.ResourceExhaustedError(None, None, "No space left on device [Op:SaveV2]")
    with monkeypatch.context() as patch:
        patch.setattr(tf.train.CheckpointManager, "save", full)
        with pytest.raises(OSError) as err:
            _train(tmp_path, 2)
    assert str(err.value).startswith(f"{tmp_path}: no space left on the device to save the checkpoint of step 2 (")
    assert "MB free, it needs about" in str(err.value) and "\n" not in str(err.value)
    assert list((tmp_path / "ckpt").glob("*_temp*")) == []
    (tmp_path / "ckpt" / "ckpt-9_temp").mkdir()   # cut off by a kill: the next run removes it
    _train(tmp_path, 2)
    assert list((tmp_path / "ckpt").glob("*_temp*")) == [] and (tmp_path / "ckpt" / "ckpt-2.index").is_file()


def test_rotation_never_deletes_the_checkpoint_resumed_from_to_keep_a_damaged_newer_one(a_run):
    data = next((a_run / "ckpt").glob("ckpt-4.data-*"))
    data.write_bytes(data.read_bytes()[:len(data.read_bytes()) // 2])   # cut short by a full disk
    notes = _train(a_run, 3, keep_checkpoints=2, checkpoint_every=3)
    assert any("resumed from" in n and "ckpt-2" in n for n in notes)
    assert sorted(p.stem for p in (a_run / "ckpt").glob("ckpt-*.index")) == ["ckpt-2", "ckpt-3"]
