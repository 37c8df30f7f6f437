"""Every script of experiments/ ends a user's mistake with one `error:` line and status 1,
and an interrupted run with one line, status 130 / 143 and nothing left behind."""
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from deblur3d import paths

SCRIPTS = sorted(p for p in (paths.REPO_ROOT / "experiments").glob("*.py")
                 if not p.stem.endswith("_flags") and p.stem != "cli")
MISSING = "/nonexistent/deblur3d-test"
# A flag of each script that names a file or folder, and what the one line must then say.
MISSING_FILE = {
    "deblur_video": ([f"--input={MISSING}.mp4", "--output=/tmp/x.mp4"], "no such file or folder"),
    "evaluate": ([f"--checkpoints=mine={MISSING}.weights.npz"], "no such weights file"),
    "train_deblur": ([f"--cache_dir={MISSING}", "--steps=1", "--priors=none", "--nouse_render", "--nouse_identity"],
                     MISSING),
    "export_priors": ([f"--cache_dir={MISSING}"], MISSING),
    "eval_priors": ([f"--authors_dir={MISSING}", "--cache_dir="], MISSING),
    "demo": ([f"--video={MISSING}.mp4"], MISSING),
    "render_face": ([f"--data_dir={MISSING}"], MISSING),
    "build_albedo": ([f"--cache_dir={MISSING}"], MISSING),
}


def run(script, *args, timeout=180):
    return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, timeout=timeout,
                          cwd=paths.REPO_ROOT)


def one_error_line(result):
    lines = result.stderr.strip().splitlines()
    return (result.returncode == 1 and bool(lines) and lines[-1].startswith("error: ")
            and "Traceback" not in result.stderr)


@pytest.fixture(scope="module")
def results():
    """Each script's bad-flag run and each missing-file run, side by side: a run is mostly
    TensorFlow's import on one core, so on 2 cores this halves the file's time."""
    experiments = paths.REPO_ROOT / "experiments"
    jobs = {("bad flag", p.stem): (p, ["--no_such_flag=1"]) for p in SCRIPTS}
    jobs.update({("missing", name): (experiments / f"{name}.py", args) for name, (args, _) in MISSING_FILE.items()})
    with ThreadPoolExecutor(min(4, os.cpu_count() or 1)) as pool:
        futures = {key: pool.submit(run, script, *args) for key, (script, args) in jobs.items()}
        return {key: future.result() for key, future in futures.items()}


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_a_bad_flag_ends_in_one_error_line(results, script):
    result = results["bad flag", script.stem]
    assert one_error_line(result) and len(result.stderr.strip().splitlines()) == 1, result.stderr[-2000:]


@pytest.mark.parametrize("name", sorted(MISSING_FILE))
def test_a_missing_file_ends_in_one_error_line_naming_it(results, name):
    result = results["missing", name]
    assert one_error_line(result) and MISSING_FILE[name][1] in result.stderr.strip().splitlines()[-1], \
        result.stderr[-2000:]


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory):
    """A clip whose pass 2 takes seconds, and an untrained model: written once for both signals."""
    from data_fixtures import noise_frames, write_avi
    from deblur3d.video.model import untrained_weights
    folder = tmp_path_factory.mktemp("clip")
    return (write_avi(folder / "in.avi", noise_frames(2000, size=256)),
            untrained_weights(folder / "w.weights.npz", use_priors=False))


@pytest.mark.parametrize("sig, status", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_mid_run_leaves_no_temporary_file_and_says_so(long_clip, tmp_path, sig, status):
    clip, weights = long_clip
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    env = dict(os.environ, TMPDIR=str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    process = subprocess.Popen([sys.executable, str(paths.REPO_ROOT / "experiments" / "deblur_video.py"),
                                f"--input={clip}", f"--output={out}/o.mp4", f"--weights={weights}"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                               # a shell's background job inherits SIGINT ignored (nohup make test &): the
                               # child starts with the default, as from a terminal, whatever started us
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 120
    while not any(p.name.startswith(".o.tmp-") for p in out.iterdir()) and time.time() < deadline:
        time.sleep(0.2)   # the encoder has started: the temporary output exists
    process.send_signal(sig)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == status, stderr[-2000:]
    assert stderr.strip().splitlines()[-1].startswith("interrupted") and "Traceback" not in stderr
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"] and (out / "keep.txt").read_text() == "mine"
    assert list((tmp_path / "tmp").iterdir()) == []   # TensorFlow's autograph files too


def test_a_checkpoint_without_a_name_is_one_line_not_a_usage_dump():
    result = run(paths.REPO_ROOT / "experiments" / "evaluate.py", f"--checkpoints={MISSING}")
    assert one_error_line(result) and len(result.stderr.strip().splitlines()) == 1
    assert "name=path" in result.stderr
