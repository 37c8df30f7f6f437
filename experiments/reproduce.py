"""Rebuilds the committed checkpoints from the data, each from its own configuration
(checkpoints/<name>.config.json: the file's training steps, in order, as flags). `make
reference` runs it through checkpoints/reproduce.sh.

    python experiments/reproduce.py --dry_run                 # every file's commands, nothing run
    python experiments/reproduce.py --only=deblur_full,dbn    # some files (their inputs must exist)

A config's `differs` says where a committed file's history cannot be replayed exactly.
"""
import shlex
import subprocess
import sys
from pathlib import Path

from absl import flags

import cli
from deblur3d.train import run_config

ROOT = Path(__file__).resolve().parent.parent
CHECKPOINTS = ROOT / "checkpoints"
# Each file after the ones it is made from (ReconNet's basis and skin model, then the priors).
ORDER = ("skin_model", "ict_albedo", "ict_albedo_rich", "recon_ict", "recon_people", "deblur_full", "deblur_render",
         "deblur_identity", "deblur_baseline", "dbn")
BEFORE = [("experiments/prepare_data.py", {})]   # the cache every step reads
AFTER = [("experiments/evaluate.py", {}), ("experiments/demo.py", {})]   # the scores of the card

flags.DEFINE_bool("dry_run", False, "Print the commands, run nothing.")
flags.DEFINE_list("only", [], f"Files to rebuild (default: all, in order): {', '.join(ORDER)}.")
FLAGS = flags.FLAGS


def load_config(name, folder=CHECKPOINTS):
    """A checkpoint's config (deblur3d/train/run_config.py)."""
    path = Path(folder) / f"{name}.config.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no config for checkpoint {name!r} (one of {', '.join(ORDER)})")
    return run_config.load(path)


def plan(names, python="python"):
    """[(heading, [argv, ...])]: the preparation, each file's steps (its heading says what it
    is and where a replay differs from the committed file), then the card's scores."""
    out = [("prepare: the data cache", [run_config.argv(s, f, python) for s, f in BEFORE])]
    for name in names:
        config = load_config(name)
        differs = f"\n#   differs from the committed file: {config['differs']}" if config.get("differs") else ""
        out.append((f"{config['file']}: {config.get('what', '')}{differs}",
                    [run_config.argv(s["script"], s["flags"], python) for s in config["steps"]]))
    return out + [("scores: make eval and make demo", [run_config.argv(s, f, python) for s, f in AFTER])]


def main(_):
    unknown = sorted(set(FLAGS.only) - set(ORDER))
    if unknown:
        raise ValueError(f"--only: unknown checkpoints {unknown} (one of {', '.join(ORDER)})")
    names = [n for n in ORDER if not FLAGS.only or n in FLAGS.only]
    for heading, commands in plan(names, "python" if FLAGS.dry_run else sys.executable):
        print(f"# {heading}", flush=True)
        for words in commands:
            print(shlex.join(words), flush=True)
            if not FLAGS.dry_run and subprocess.run(words, cwd=ROOT).returncode != 0:
                raise RuntimeError(f"{shlex.join(words[1:])} failed (its own error is above); "
                                   "later steps need its output, so the rebuild stops here")


if __name__ == "__main__":
    cli.run(main)
