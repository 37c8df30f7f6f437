"""Import TensorFlow with its start-up log filtered by TF_CPP_MIN_LOG_LEVEL.

TensorFlow 2.21 logs through absl before absl's logging is initialised, and such messages
(oneDNN, CPU features) reach stderr whatever TF_CPP_MIN_LOG_LEVEL says; they would bury a
tool's one-line error. During the import, stderr is captured and the level applied here.
"""
import os
import re
import sys
import tempfile

_SEVERITY = {"I": 0, "W": 1, "E": 2, "F": 3}
_ABSL_NOTICE = "WARNING: All log messages before absl::InitializeLog() is called"


def lines_shown_at_level(lines, level):
    """The stderr lines TensorFlow would print at TF_CPP_MIN_LOG_LEVEL=level. A line that
    starts no log record (a message's second line, Python's own output) goes with the record
    before it, if any."""
    shown, kept = True, []
    for line in lines:
        match = re.match(r"([IWEF])\d{4} ", line)
        if line.startswith(_ABSL_NOTICE):
            shown = level == 0  # it only announces the messages the level hides
        elif match is not None:
            severity = _SEVERITY[match.group(1)]
            shown = severity == _SEVERITY["F"] or severity >= level
        if shown:
            kept.append(line)
    return kept


def import_tensorflow():
    """Import TensorFlow (once, first thing in the package) showing only what the level lets
    through; where stderr cannot be captured, a plain import."""
    if "tensorflow" in sys.modules:
        return
    try:
        level = int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0"))
        saved = os.dup(2)
    except (ValueError, OSError):
        import tensorflow  # noqa: F401
        return
    sys.stderr.flush()
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        failed = True
        try:
            import tensorflow  # noqa: F401
            failed = False
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            lines = captured.read().decode(errors="replace").splitlines(keepends=True)
            # A failed import shows everything it printed.
            sys.stderr.write("".join(lines if failed else lines_shown_at_level(lines, level)))
            sys.stderr.flush()
