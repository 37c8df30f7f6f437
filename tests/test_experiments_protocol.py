"""--protocol=paper sets the paper's data choices in every stage that reads data, and a
trainer refuses precomputed priors read from frames blurred otherwise."""
import dataclasses
import json
import subprocess
import sys

import pytest

from deblur3d import paths
from deblur3d.data import blur_settings
from deblur3d.data import priors_store as store
from deblur3d.deblur import training

PAPER = json.loads(json.dumps(dataclasses.asdict(blur_settings.PRESETS["paper"])))
# Each stage's view of its flags, printed as JSON by the script's own config code.
VIEWS = {
    "train_deblur": "c = m.config_from_flags(); out = dict(blur=dataclasses.asdict(c.blur), flip=c.flip)",
    "evaluate": "c = m.config_from_flags(); out = dict(blur=dataclasses.asdict(c.blur), every=c.every)",
    "export_priors": "out = dict(blur=dataclasses.asdict(m.data_flags.blur_config()))",
}


ARGS = {"paper": ["--protocol=paper"], "today": [], "mixed": ["--protocol=paper", "--blur=authors"]}


def start(script):
    """The script's view of each command line of ARGS (flags parsed again for each)."""
    code = (f"import dataclasses, json, sys; sys.path.insert(0, {str(paths.REPO_ROOT / 'experiments')!r}); "
            f"import {script} as m\nviews = {{}}\n"
            f"for name, args in {ARGS!r}.items():\n"
            f"    m.FLAGS.unparse_flags(); m.FLAGS(['{script}', *args]); {VIEWS[script]}; views[name] = out\n"
            "print(json.dumps(views))")
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=paths.REPO_ROOT)


def test_protocol_paper_sets_every_stage_and_explicit_flags_still_win():
    running = {script: start(script) for script in VIEWS}   # each imports TensorFlow: all at once
    seen = {}
    for script, process in running.items():
        stdout, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr[-2000:]
        seen[script] = json.loads(stdout.strip().splitlines()[-1])
    paper, today, mixed = ({s: v[name] for s, v in seen.items()} for name in ARGS)
    assert PAPER["stride"] == 1 and PAPER["motion"] is False and PAPER["window"] == 5   # consecutive averages
    assert paper["train_deblur"] == dict(blur=PAPER, flip=False)
    assert paper["evaluate"] == dict(blur=PAPER, every=1)
    assert paper["export_priors"] == dict(blur=PAPER)
    assert today["train_deblur"]["flip"] is True and today["evaluate"]["every"] == 10
    assert today["train_deblur"]["blur"]["motion"] is True and today["export_priors"]["blur"]["stride"] == 5
    assert mixed["evaluate"]["every"] == 1 and mixed["export_priors"]["blur"]["stride"] == 5   # --blur wins
    assert mixed["train_deblur"]["flip"] is False


def priors_from(tmp_path, blur):
    store.write_index(tmp_path, "cache", [], None if blur is None else dataclasses.asdict(blur))
    return training.DeblurTrainConfig(priors_dir=str(tmp_path), cache_dir=str(tmp_path / "no-cache"),
                                      blur=blur_settings.PRESETS["paper"])


def test_a_trainer_refuses_priors_read_from_another_blur(tmp_path):
    config = priors_from(tmp_path, blur_settings.PRESETS["realistic"])
    with pytest.raises(ValueError, match=r"read from frames blurred as --blur=realistic, not as this run's "
                                         r"--blur=paper: export them with this run's --blur"):
        training.training_data(config)
    config = priors_from(tmp_path, None)   # an index that records no blur
    with pytest.raises(ValueError, match=r"blurred as no recorded blur, not as this run's --blur=paper"):
        training.training_data(config)
    config = priors_from(tmp_path, blur_settings.PRESETS["paper"])   # its own blur: on to the (missing) cache
    with pytest.raises(Exception) as err:
        training.training_data(config)
    assert "blurred as" not in str(err.value)


def test_the_refusal_is_one_error_line(tmp_path):
    store.write_index(tmp_path, "cache", [], dataclasses.asdict(blur_settings.PRESETS["realistic"]))
    result = subprocess.run([sys.executable, str(paths.REPO_ROOT / "experiments" / "train_deblur.py"),
                             "--protocol=paper", f"--priors_dir={tmp_path}", "--steps=1", f"--run_dir={tmp_path}/run"],
                            capture_output=True, text=True, timeout=300, cwd=paths.REPO_ROOT)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1 and lines[0].startswith("error: the priors at "), result.stderr
    assert not (tmp_path / "run").exists()
