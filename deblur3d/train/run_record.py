"""A run folder belongs to one configuration: the trainer's full configuration is recorded in
`<run_dir>/run_config.json` when the run starts, and a resume whose settings change the
model, the loss or the data is refused in one line naming them (`--force` continues all
the same; a new --run_dir starts afresh). Settings that only say how long and how often
(FREE) may change: resuming with more --steps is how a run is extended.
"""
import dataclasses
import json
from pathlib import Path

from deblur3d.atomic import atomic_file

FILE = "run_config.json"
FREE = {"steps", "checkpoint_every", "summary_every", "image_every", "keep_checkpoints", "jit_compile", "strategy",
        "export", "run_dir", "force"}


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
    walk("", dataclasses.asdict(config))
    return json.loads(json.dumps(out, default=repr))   # tuples -> lists, as they come back from the file


def differences(recorded, now):
    """Names of the settings (FREE ones aside) whose values differ, in order."""
    return sorted(k for k in set(recorded) | set(now)
                  if k.rsplit(".", 1)[-1] not in FREE and recorded.get(k) != now.get(k))


def check_and_record(run_dir, config, resuming, force=False):
    """OtherSettings when a resumed run's recorded settings differ from `config`'s (unless
    `force`); records `config` as the run's when it starts (or is forced on)."""
    path, now = Path(run_dir) / FILE, flat(config)
    if resuming and path.is_file():
        recorded = json.loads(path.read_text())
        changed = differences(recorded, now)
        if changed and not force:
            shown = "; ".join(f"{k} {recorded.get(k)!r} -> {now.get(k)!r}" for k in changed[:6])
            more = f" and {len(changed) - 6} more" if len(changed) > 6 else ""
            raise OtherSettings(f"{run_dir} was made with other settings ({shown}{more}): resume with the run's own, "
                                "start a new --run_dir, or pass --force to continue it with these")
        if not changed:
            return
    with atomic_file(path) as tmp:
        tmp.write_text(json.dumps(now, indent=1, sort_keys=True) + "\n")
