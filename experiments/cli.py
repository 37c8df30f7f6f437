"""How every script of experiments/ starts and ends.

`cli.run(main)` instead of absl's `app.run(main)`:
- a bad flag (a numeric one outside its range: shared_flags.RANGES), a missing or unusable
  file, a failed encoder: one `error: <reason>` line on stderr and exit status 1 (the
  traceback only with --verbosity=1 or higher);
- Ctrl-C (SIGINT) and SIGTERM (`timeout`, `kill`, schedulers) take the same path: the
  exception unwinds every `finally`, so temporary outputs are removed (deblur3d/atomic.py)
  and a trainer saves nothing half-written; one line says so, and the status is 130 / 143.
"""
import signal
import sys

from absl import app, flags

import deblur3d  # noqa: F401  (TensorFlow, imported once and quietly: deblur3d/__init__.py)
import shared_flags

FLAGS = flags.FLAGS


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, like Ctrl-C's KeyboardInterrupt."""


def _terminate(signum, frame):
    raise Terminated()


def user_errors():
    """The exceptions that are a user's to fix (their message says how), not our bugs."""
    from deblur3d.data.readers import BadInput
    from deblur3d.train.weights import WeightsFileError
    return (BadInput, WeightsFileError, OSError, RuntimeError, ValueError, app.UsageError)


def _parse(argv):
    try:
        return FLAGS(argv)
    except flags.Error as err:
        print(f"error: {err} (--help lists the flags)", file=sys.stderr)
        sys.exit(1)


def interrupted(err):
    """The one line and exit status of an interrupted run."""
    how, status = ("SIGTERM", 143) if isinstance(err, Terminated) else ("Ctrl-C", 130)
    print(f"interrupted ({how}): unfinished outputs were removed; files that were already there are untouched",
          file=sys.stderr)
    return status


def run(main):
    """absl's app.run(main) with the endings above; every numeric flag's range is checked."""
    signal.signal(signal.SIGTERM, _terminate)
    shared_flags.register_ranges()

    def wrapped(argv):
        try:
            return main(argv)
        except KeyboardInterrupt as err:
            sys.exit(interrupted(err))
        except user_errors() as err:
            if FLAGS.verbosity >= 1:
                raise
            message = str(err) or type(err).__name__
            sys.exit(message if message.startswith("error: ") else f"error: {message}")

    app.run(wrapped, flags_parser=_parse)
