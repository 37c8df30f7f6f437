"""`make install` installs the TensorFlow build for the machine (the Makefile's TENSORFLOW rule):
the CUDA build where `nvidia-smi -L` answers, the CPU build otherwise; GPU=0|1 overrides.
`make -n` shows the choice without installing anything."""
import os
import re
import shutil
import subprocess

import pytest

from deblur3d import paths

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="no make")


def chosen(tmp_path, nvidia_smi_status=None, *args):
    """The TensorFlow requirement `make -n install` would install, with a fake `nvidia-smi`
    that exits with `nvidia_smi_status` first on PATH (None: the PATH as it is)."""
    env = dict(os.environ)
    env.pop("GPU", None)
    if nvidia_smi_status is not None:
        fake = tmp_path / "bin" / "nvidia-smi"
        fake.parent.mkdir(exist_ok=True)
        fake.write_text(f"#!/bin/sh\necho 'GPU 0: a fake card'\nexit {nvidia_smi_status}\n")
        fake.chmod(0o755)
        env["PATH"] = f"{fake.parent}{os.pathsep}{env['PATH']}"
    out = subprocess.run(["make", "-n", "-C", str(paths.REPO_ROOT), "install", *args], env=env,
                         capture_output=True, text=True, check=True).stdout
    return re.search(r"TensorFlow for this machine: (\S+)", out).group(1)


def test_a_gpu_gets_the_cuda_build_and_no_gpu_the_cpu_build(tmp_path):
    assert chosen(tmp_path, 0) == "tensorflow[and-cuda]==2.21.0"
    assert chosen(tmp_path, 1) == "tensorflow-cpu==2.21.0"   # nvidia-smi present, no GPU answers


def test_gpu_overrides_the_choice_both_ways(tmp_path):
    assert chosen(tmp_path, 0, "GPU=0") == "tensorflow-cpu==2.21.0"
    assert chosen(tmp_path, 1, "GPU=1") == "tensorflow[and-cuda]==2.21.0"


def test_requirements_leave_tensorflow_to_the_makefile():
    lines = [l.split("#")[0].strip() for l in (paths.REPO_ROOT / "requirements.txt").read_text().splitlines()]
    assert not [l for l in lines if re.match(r"tensorflow(-cpu|-gpu)?(\[.*\])?\s*(==|>=|$)", l)]
