"""Each committed checkpoint has one config (checkpoints/<name>.config.json), and
`reproduce.sh --dry_run` prints every file's commands from it, in an order where each
file comes after the files it is made from."""
import json
import subprocess
import sys

import pytest

from deblur3d import paths
from deblur3d.train import run_config

sys.path.insert(0, str(paths.REPO_ROOT / "experiments"))
import reproduce  # noqa: E402

CHECKPOINTS = paths.REPO_ROOT / "checkpoints"


def test_every_committed_file_has_one_config_naming_it():
    committed = sorted(p.name for p in CHECKPOINTS.glob("*.npz"))
    configs = {name: reproduce.load_config(name) for name in reproduce.ORDER}
    assert sorted(c["file"].split("/")[-1] for c in configs.values()) == committed
    assert sorted(p.name for p in CHECKPOINTS.glob("*.config.json")) == sorted(f"{n}.config.json" for n in reproduce.ORDER)
    for config in configs.values():   # the last step that writes a checkpoint writes this one
        outputs = [v for s in config["steps"] for k, v in s["flags"].items() if k in ("export", "out")
                   and str(v).startswith("checkpoints/")]
        assert outputs == [] or outputs[-1] == config["file"], config["file"]


def test_a_step_is_its_flags_and_a_config_is_written_beside_its_weights(tmp_path):
    assert run_config.argv("x.py", {"steps": 3, "use_render": False, "joint": True, "widths": ["45", "64"]}) == [
        "python", "x.py", "--steps=3", "--nouse_render", "--joint", "--widths=45,64"]
    assert run_config.config_path("c/deblur_full.weights.npz").as_posix() == "c/deblur_full.config.json"
    assert run_config.config_path("c/skin_model.npz").name == "skin_model.config.json"
    steps = [{"script": "x.py", "flags": {"steps": 3}}]
    run_config.export(tmp_path / "a.weights.npz", steps, what="a test")
    assert run_config.steps_of(tmp_path / "a.weights.npz") == steps and run_config.steps_of(tmp_path / "b.npz") == []
    (tmp_path / "bad.config.json").write_text('{"steps": [{"script": "x.py"}]}')
    with pytest.raises(ValueError, match="not a replay config"):
        run_config.load(tmp_path / "bad.config.json")


def test_the_dry_run_prints_each_files_commands_in_order():
    run = subprocess.run([sys.executable, str(paths.REPO_ROOT / "experiments" / "reproduce.py"), "--dry_run"],
                         capture_output=True, text=True, cwd=paths.REPO_ROOT)
    assert run.returncode == 0, run.stderr[-2000:]
    lines = run.stdout.splitlines()
    headings = [line.split(":")[0] for line in lines if line.startswith("# checkpoints/")]
    assert headings == [f"# {reproduce.load_config(n)['file']}" for n in reproduce.ORDER]
    full = json.loads((CHECKPOINTS / "deblur_full.config.json").read_text())
    assert sum(line.startswith("python experiments/train_deblur.py") and "deblur_full_" in line for line in lines) == \
        sum(step["script"].endswith("train_deblur.py") for step in full["steps"]) - 1
    assert "python experiments/export_priors.py --texture=basis --out=cache/priors_basis" in lines
    recon, first_deblur = lines.index("# checkpoints/recon_ict.weights.npz: " + reproduce.load_config("recon_ict")["what"]), \
        next(i for i, line in enumerate(lines) if "train_deblur.py" in line)
    assert recon < first_deblur and "python experiments/export_priors.py" in "\n".join(lines[recon:first_deblur])
