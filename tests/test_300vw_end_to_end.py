"""A tiny fake 300VW folder (two .avi videos and their .pts points) through the paper's
protocol end to end, as docs/data.md#reproducing-on-300vw runs it: make data with a split
file -> priors -> 2 training steps -> evaluation on the test video, all with --protocol=paper."""
import csv
import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest

from data_fixtures import noise_frames, write_avi
from deblur3d import paths
from deblur3d.data import blur_settings, cache, readers
from deblur3d.train import weights

FRAMES = 8   # short runs (--min_run_frames=6) keep every stage to seconds
PAPER = json.loads(json.dumps(dataclasses.asdict(blur_settings.PRESETS["paper"])))


def fake_300vw(root):
    """300VW's layout: NNN/vid.avi and NNN/annot/NNNNNN.pts (1-based points), a 30 px face
    whose eyes, nose and mouth corners sit where a face's do."""
    rng = np.random.default_rng(0)
    for number, video in enumerate(("001", "002")):
        folder = root / video
        (folder / "annot").mkdir(parents=True)
        write_avi(folder / "vid.avi", noise_frames(FRAMES, size=96, seed=number))
        for i in range(1, FRAMES + 1):
            p = rng.uniform(33, 63, (68, 2))
            p[36:42], p[42:48], p[30], p[48], p[54] = (40, 42), (56, 42), (48, 50), (41, 58), (55, 58)
            body = "\n".join(f"{x + 1:.2f} {y + 1:.2f}" for x, y in p)
            (folder / "annot" / f"{i:06d}.pts").write_text(f"version: 1\nn_points: 68\n{{\n{body}\n}}\n")


def stage(script, *args):
    result = subprocess.run([sys.executable, str(paths.REPO_ROOT / "experiments" / f"{script}.py"),
                             "--protocol=paper", *map(str, args)], capture_output=True, text=True, timeout=600,
                            cwd=paths.REPO_ROOT)
    assert result.returncode == 0, f"{script}: {result.stderr[-3000:]}"
    return result.stdout


def test_a_split_file_places_the_clips_it_names_and_leaves_the_others_out(tmp_path):
    fake_300vw(tmp_path / "300VW")
    (tmp_path / "splits.txt").write_text("300vw-002 test   # the held-out video\n\n")
    config = cache.BuildConfig(sources=(f"300vw:{tmp_path / '300VW'}",), split_file=str(tmp_path / "splits.txt"))
    assert [(c.clip_id, c.split) for c in cache.resolve_sources(config)] == [("300vw-002", "test")]
    for text, error in (("300vw-009 test\n", "names clips no source has: 300vw-009"),
                        ("300vw-001\n", r"splits.txt:1: want `<clip id> <split>`"),
                        ("300vw-001 train\n300vw-001 test\n", "splits.txt:2: a clip named twice")):
        (tmp_path / "splits.txt").write_text(text)
        with pytest.raises((ValueError, readers.BadInput), match=error):
            cache.resolve_sources(config)


def test_make_data_passes_its_args():
    out = subprocess.run(["make", "-n", "data", "ARGS=--split_file=s.txt --protocol=paper"], cwd=paths.REPO_ROOT,
                         capture_output=True, text=True, check=True).stdout
    assert "experiments/prepare_data.py --split_file=s.txt --protocol=paper" in out


@pytest.mark.slow   # four scripts, each starting TensorFlow: about 35 s of CPU (80 s on the busy 2 cores)
def test_a_fake_300vw_folder_goes_from_data_to_table1_under_the_papers_protocol(tmp_path, data_root):
    fake_300vw(tmp_path / "300VW")
    (tmp_path / "splits.txt").write_text("# 300VW video -> split\n300vw-001 train\n300vw-002 test\n")
    cache, priors, run, out = (tmp_path / name for name in ("cache", "priors", "run", "eval"))
    stage("prepare_data", f"--sources=300vw:{tmp_path / '300VW'}", f"--split_file={tmp_path / 'splits.txt'}",
          f"--out={cache}", "--crop_size=64", "--min_run_frames=6")
    runs = {r["clip_id"]: (r["split"], r["frames"]) for r in json.loads((cache / "index.json").read_text())["runs"]}
    assert runs == {"300vw-001": ("train", FRAMES), "300vw-002": ("test", FRAMES)}

    stage("export_priors", f"--cache_dir={cache}", f"--out={priors}", f"--data_dir={data_root}", "--batch_size=8")
    assert json.loads((priors / "index.json").read_text())["blur"] == PAPER

    trained = stage("train_deblur", f"--cache_dir={cache}", f"--priors_dir={priors}", f"--run_dir={run}",
                    f"--data_dir={data_root}", "--steps=2", "--batch_size=2", "--patch_size=48", "--widths=4,8,8",
                    "--blocks=1")
    assert trained.splitlines()[0].startswith("training on ")
    header = weights.read_header(run / "deblur.weights.npz")
    assert header["blur"] == PAPER and "flip=False" in header["config"] and header["steps"] == 2

    said = stage("evaluate", f"--cache_dir={cache}", f"--priors_dir={priors}", f"--data_dir={data_root}",
                 f"--checkpoints=tiny={run / 'deblur.weights.npz'}", "--split=test", "--authors_dir=",
                 "--timing_sizes=", "--noidentity", "--figures=0", f"--out={out}")
    assert "evaluating on " in said and "tiny on " in said and "priors precomputed" in said
    with open(out / "frames.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert sorted({r["method"] for r in rows}) == ["input", "tiny"]
    assert len({r["key"] for r in rows}) == FRAMES   # every frame of the test video scored
