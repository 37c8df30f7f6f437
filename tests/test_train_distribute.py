"""tf.distribute: MirroredStrategy on 2 logical CPUs, MultiWorkerMirroredStrategy on 2 local processes."""
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

WORKER = Path(__file__).with_name("dist_worker.py")


def run_worker(args, env=None, timeout=300):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", **(env or {}))
    return subprocess.Popen([sys.executable, str(WORKER), *map(str, args)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def result(process, timeout=300):
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def test_mirrored_on_two_cpus_matches_one_device(tmp_path):
    one = result(run_worker(["default", 1, 2, tmp_path / "one"]))
    two = result(run_worker(["mirrored", 2, 2, tmp_path / "two"]))
    assert (one["replicas"], two["replicas"]) == (1, 2)
    assert two["first_loss"] == pytest.approx(one["first_loss"], rel=1e-6)
    # Same global batch, gradients averaged over replicas: same loss and weights after 2 steps.
    assert two["loss"] == pytest.approx(one["loss"], rel=1e-4)
    assert two["weights"] == pytest.approx(one["weights"], rel=1e-5)


def free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def test_two_local_workers_run_three_steps(tmp_path):
    workers = [f"127.0.0.1:{p}" for p in free_ports(2)]
    processes = []
    for index in range(2):
        config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        processes.append(run_worker(["multiworker", 1, 3, tmp_path / "run"], env={"TF_CONFIG": json.dumps(config)}))
    results = [result(p) for p in processes]
    assert [r["steps"] for r in results] == [3, 3]
    assert all(r["replicas"] == 2 for r in results)
    assert results[0]["weights"] == pytest.approx(results[1]["weights"], rel=1e-6)
    assert (tmp_path / "run" / "ckpt" / "checkpoint").exists()  # written by the chief only
