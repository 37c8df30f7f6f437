#!/usr/bin/env bash
# Rebuilds the committed checkpoints from nothing but the data (make reference): each file
# from its own checkpoints/<name>.config.json (experiments/reproduce.py). --dry_run prints
# every command without running it; --only=NAME,... rebuilds some files.
# Budgets are reduced for 2 CPU cores (checkpoints/README.md); drop the budget flags for the paper's.
set -euo pipefail
PY=${PY:-.venv/bin/python}
exec "$PY" experiments/reproduce.py "$@"
