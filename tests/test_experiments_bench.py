"""make bench's training benchmark runs to its end (it broke once when build_online_priors
changed signature and nothing ran it)."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_bench_train_runs_every_section(data_root):
    result = subprocess.run([sys.executable, "experiments/bench_train.py", "--budgets=2x64", "--repeats=1", "--xla",
                             "--first_widths=13"],
                            cwd=ROOT, capture_output=True, text=True, timeout=600,
                            env={"DEBLUR3D_DATA": str(data_root), "TF_CPP_MIN_LOG_LEVEL": "2",
                                 "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-2000:]
    for line in ("mixed_bfloat16  XLA", "training step, batch 2 x 64²", "forward, one 360x450 frame",
                 "online priors, batch 8 x 64²",
                 " 13 (+3 render =  16 channels):"):
        assert line in result.stdout
