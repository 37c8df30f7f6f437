"""A trainer says where it runs (devices, precision, strategy) in its first line, then how
long the whole run will take; the paper's schedule on a CPU is one warning line."""
import numpy as np
import tensorflow as tf

from deblur3d.deblur.model import DeblurNet
from deblur3d.deblur.task import DeblurTask
from deblur3d.train import loop, report, schedules
from deblur3d.train.config import TrainSchedule


def test_the_projection_by_hand():
    # 38.5 s a step (bench_train.py's paper step on 2 cores) over 399,996 steps: 178.2 days.
    line = report.projection(38.5, 399_996, 400_000, on_gpu=False, cpu_hint="--recipe=cpu")
    assert line == ("warning: the paper's 400000 steps on a CPU: 38.5 s a step: about 178 days for the 399996 "
                    "steps left of 400000; for a CPU budget use --recipe=cpu")
    assert report.projection(0.25, 14_400, 400_000, on_gpu=True, cpu_hint="x") == \
        "projected: 0.25 s a step: about 1 h 00 min for the 14400 steps left of 400000"
    assert report.projection(2.0, 45, 3500, on_gpu=False, cpu_hint="x").endswith("about 1.5 min for the 45 steps "
                                                                                   "left of 3500")


def run_loop(tmp_path, steps):
    tf.keras.utils.set_random_seed(0)
    task = DeblurTask(DeblurNet(widths=(4, 8, 8), blocks=1, use_render=False, use_identity=False))
    sharp = tf.constant(np.random.default_rng(0).uniform(size=(1, 16, 16, 3)), tf.float32)
    dataset = tf.data.Dataset.from_tensors({"blurry": tf.concat([sharp] * 5, -1), "sharp": sharp}).repeat()
    lines = []
    loop.train(task, schedules.adam(1e-3), dataset, {"net": task.net},
               TrainSchedule(steps=steps).loop_config(str(tmp_path)), log=lines.append, precision="mixed_bfloat16",
               cpu_hint="--recipe=cpu")
    return lines


def test_first_line_names_the_device_precision_and_strategy_then_one_projection(tmp_path):
    lines = run_loop(tmp_path, 6)
    device = "CPU" if not tf.config.list_physical_devices("GPU") else "GPU"
    assert lines[0].startswith(f"training on ") and device in lines[0]
    assert lines[0].endswith("precision mixed_bfloat16, strategy default (1 replica)")
    (projected,) = [l for l in lines if "s a step" in l]
    assert projected.startswith("projected: ") and projected.endswith("for the 2 steps left of 6")


def test_the_papers_steps_on_a_cpu_warn_once_with_the_cpu_flag(tmp_path, monkeypatch):
    if tf.config.list_physical_devices("GPU"):
        return   # a GPU runs the paper's schedule: no warning to check
    monkeypatch.setattr(report, "PAPER_STEPS", 6)
    (warning,) = [l for l in run_loop(tmp_path, 6) if "s a step" in l]
    assert warning.startswith("warning: the paper's 6 steps on a CPU: ") and warning.endswith("use --recipe=cpu")


def test_the_projection_waits_for_three_timed_steps_or_one_slow_minute():
    assert [report.timed_enough(s, t) for s, t in ((3, 0.1), (2, 59.0), (1, 61.0), (0, 100.0))] == \
        [True, False, True, False]
