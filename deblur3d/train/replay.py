"""How a weights file was made, as a file that can be replayed: `<name>.config.json` beside
`<name>.weights.npz` (or `<name>.npz`), the one owner of that format.

    {"file": "checkpoints/deblur_full.weights.npz", "what": "...",
     "steps": [{"script": "experiments/train_deblur.py", "flags": {"recipe": "cpu", ...},
                "minutes": 44}, ...],
     "differs": "..."}   # optional: where a replay does not give the same file, and why

Training writes it when it exports (deblur/training.py): the steps of the file it started
from, then its own, so a fine-tune's history grows with it; experiments/reproduce.py runs
the committed files' steps (make reference).
"""
import json
from pathlib import Path

from deblur3d.atomic import atomic_file


def config_path(weights_path):
    """checkpoints/x.weights.npz -> checkpoints/x.config.json."""
    path = Path(weights_path)
    stem = path.name.removesuffix(".npz").removesuffix(".weights")
    return path.with_name(f"{stem}.config.json")


def load(path):
    """A config file, checked: ValueError naming the file unless it has a list of steps, each a
    script and its flags."""
    config = json.loads(Path(path).read_text())
    steps = config.get("steps") if isinstance(config, dict) else None
    if not isinstance(steps, list) or not steps or not all(
            isinstance(s, dict) and isinstance(s.get("script"), str) and isinstance(s.get("flags"), dict)
            for s in steps):
        raise ValueError(f"{path}: not a replay config (a list of steps, each a script and its flags)")
    return config


def steps_of(weights_path):
    """The steps that made a weights file, from its config; [] without one (an older file)."""
    path = config_path(weights_path) if weights_path else None
    return load(path)["steps"] if path is not None and path.is_file() else []


def write(weights_path, steps, what=None):
    """Writes the config beside a weights file (atomically: a crash leaves the old one)."""
    config = dict(file=str(weights_path), **({"what": what} if what else {}), steps=list(steps))
    with atomic_file(config_path(weights_path)) as tmp:
        Path(tmp).write_text(json.dumps(config, indent=1) + "\n")


def argv(script, flags, python="python"):
    """The command of one step: True -> --name, False -> --noname, a list -> --name=a,b."""
    words = [python, script]
    for name, value in flags.items():
        if isinstance(value, bool):
            words.append(f"--{name}" if value else f"--no{name}")
        else:
            words.append(f"--{name}={','.join(map(str, value)) if isinstance(value, (list, tuple)) else value}")
    return words
