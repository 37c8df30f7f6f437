"""A run's configuration on disk: the one owner of that format, for a run folder and for a
weights file.

    {"file": "checkpoints/deblur_full.weights.npz",   # a weights file's config only
     "what": "...",                                    # optional: what the file is
     "steps": [{"script": "experiments/train_deblur.py", "flags": {"recipe": "cpu", ...},
                "minutes": 44}, ...],                  # the commands that made it, in order
     "settings": {"content": "charbonnier", "arch.widths": [45, 64, 128], ...},
     "differs": "..."}                                 # optional: where a replay differs, and why

`<run_dir>/run_config.json` is recorded when a run starts (its "settings": the trainer's
whole configuration, defaults included). A resume whose settings change the model, the
loss or the data is refused in one line naming them; `--force` continues all the same,
`--allow_schedule_change` lets the learning-rate schedule alone change, and either is noted
in "differs". Settings that only say how long and how often (FREE) may change: resuming
with more --steps is how a run is extended.

`<name>.config.json` beside `<name>.weights.npz` (or `<name>.npz`) is the run's record plus
the file and its steps (the start file's, then this run's), written at export;
experiments/reproduce.py replays the committed files' steps (make reference).
"""
import dataclasses
import json
from pathlib import Path

from deblur3d.atomic import atomic_file

FILE = "run_config.json"
FREE = {"steps", "checkpoint_every", "summary_every", "image_every", "keep_checkpoints", "jit_compile", "strategy",
        "export", "run_dir", "force", "allow_schedule_change"}
SCHEDULE = {"learning_rate", "schedule", "warmup_steps", "decay_every"}   # --allow_schedule_change
NOT_SETTINGS = {"command"}   # the flags as given: the record's steps hold them


class OtherSettings(ValueError):
    """A resume with settings other than the run's own."""


def flat(config):
    """{dotted name: JSON value} of a (nested) configuration dataclass."""
    out = {}

    def walk(prefix, value):
        if isinstance(value, dict):
            for key, item in value.items():
                walk(f"{prefix}{key}.", item)
        else:
            out[prefix[:-1]] = value
    walk("", {k: v for k, v in dataclasses.asdict(config).items() if k not in NOT_SETTINGS})
    return json.loads(json.dumps(out, default=repr))   # tuples -> lists, as they come back from the file


def read(path):
    """A record, checked: ValueError naming the file unless its steps (if any) are each a script
    and its flags. A run folder's flat record of before this format is read as its settings."""
    try:
        record = json.loads(Path(path).read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not a run configuration (damaged JSON: {err})") from None
    if isinstance(record, dict) and "settings" not in record and not isinstance(record.get("steps"), list):
        record = {"settings": {k: v for k, v in record.items() if k.split(".")[0] not in NOT_SETTINGS}}
    steps = record.get("steps", []) if isinstance(record, dict) else None
    if not isinstance(steps, list) or not isinstance(record.get("settings", {}), dict) or not all(
            isinstance(s, dict) and isinstance(s.get("script"), str) and isinstance(s.get("flags"), dict)
            for s in steps):
        raise ValueError(f"{path}: not a replay config (a list of steps, each a script and its flags)")
    return record


def write(path, record):
    """Writes a record atomically (a crash leaves the old one)."""
    with atomic_file(path) as tmp:
        Path(tmp).write_text(json.dumps(record, indent=1) + "\n")


def load(path):
    """A weights file's config, to replay: ValueError naming the file unless it has steps."""
    record = read(path)
    if not record.get("steps"):
        raise ValueError(f"{path}: not a replay config (a list of steps, each a script and its flags)")
    return record


def config_path(weights_path):
    """checkpoints/x.weights.npz -> checkpoints/x.config.json."""
    path = Path(weights_path)
    stem = path.name.removesuffix(".npz").removesuffix(".weights")
    return path.with_name(f"{stem}.config.json")


def steps_of(weights_path):
    """The steps that made a weights file, from its config; [] without one (an older file)."""
    path = config_path(weights_path) if weights_path else None
    return load(path)["steps"] if path is not None and path.is_file() else []


def differences(recorded, now, free=FREE):
    """Names of the settings (`free` ones aside) whose values differ, in order."""
    return sorted(k for k in set(recorded) | set(now)
                  if k.rsplit(".", 1)[-1] not in free and recorded.get(k) != now.get(k))


def defaults_of(config):
    """The flat settings of `config`'s class at its defaults ({} when it has none): what a
    setting added since an older record was recorded with."""
    try:
        return flat(type(config)())
    except TypeError:
        return {}


def check_and_record(run_dir, config, resuming, force=False, allow_schedule_change=False):
    """OtherSettings when a resumed run's recorded settings differ from `config`'s (unless
    `force`, or `allow_schedule_change` and only the schedule differs); records `config` as
    the run's when it starts or is resumed with other settings (noted in "differs")."""
    path, now, record = Path(run_dir) / FILE, flat(config), {}
    if resuming and path.is_file():
        record = read(path)
        recorded = record.get("settings", {})
        recorded = {**{k: v for k, v in defaults_of(config).items() if k not in recorded}, **recorded}
        changed = differences(recorded, now, FREE | SCHEDULE if allow_schedule_change else FREE)
        if changed and not force:
            shown = "; ".join(f"{k} {recorded.get(k)!r} -> {now.get(k)!r}" for k in changed[:6])
            more = f" and {len(changed) - 6} more" if len(changed) > 6 else ""
            schedule_only = "" if set(k.rsplit(".", 1)[-1] for k in changed) - SCHEDULE else \
                ", --allow_schedule_change to change the learning-rate schedule alone"
            raise OtherSettings(f"{run_dir} was made with other settings ({shown}{more}): resume with the run's own, "
                                f"start a new --run_dir, or pass --force to continue it with these{schedule_only}")
        changed = differences(recorded, now)
        if not changed:
            return
        note = "resumed with other settings: " + "; ".join(f"{k} {recorded.get(k)!r} -> {now.get(k)!r}"
                                                             for k in changed)
        record["differs"] = "; ".join(filter(None, [record.get("differs"), note]))
    write(path, dict(record, settings=now))


def export(weights_path, steps, run_dir=None, what=None):
    """Writes the config beside a weights file: the file, what it is, the steps that made it
    and the record of the run folder that made it (its settings, what differs)."""
    recorded = Path(run_dir) / FILE if run_dir else None
    record = read(recorded) if recorded is not None and recorded.is_file() else {}
    write(config_path(weights_path), dict(file=str(weights_path), **({"what": what} if what else {}), steps=list(steps),
                                          **{k: v for k, v in record.items() if k not in ("file", "what", "steps")}))


def argv(script, flags, python="python"):
    """The command of one step: True -> --name, False -> --noname, a list -> --name=a,b."""
    words = [python, script]
    for name, value in flags.items():
        if isinstance(value, bool):
            words.append(f"--{name}" if value else f"--no{name}")
        else:
            words.append(f"--{name}={','.join(map(str, value)) if isinstance(value, (list, tuple)) else value}")
    return words
