"""Outputs that appear whole or not at all, and never destroy what this tool did not write.

Every file and folder output of the package goes through here. A file is written under a
temporary name beside it and renamed into place (os.replace: atomic). A folder is built
as a temporary sibling and swapped in; it carries a manifest (MANIFEST, the relative paths
of the files we wrote), and an existing folder is replaced only when it is empty or holds
nothing but a previous output of ours. Anything else there (a user's notes, a thesis)
makes the output refused, before any work is done (`check_folder_output`).
"""
import contextlib
import errno
import glob
import json
import os
import re
import shutil
import signal
import tempfile
import threading
from pathlib import Path

MANIFEST = ".deblur3d-output.json"


class ForeignFiles(OSError):
    """An output folder that holds files this tool did not write."""


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _written_here(folder):
    """Relative paths of every file under `folder` (the manifest excluded)."""
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")
            if p.is_file() or p.is_symlink()} - {MANIFEST}


def check_folder_output(out):
    """ForeignFiles (one line) unless `out` is absent, an empty folder, or a previous output of
    ours with nothing added; a file (not a folder) at `out` is refused too."""
    out = Path(out)
    if not out.exists() and not out.is_symlink():
        return
    if not out.is_dir() or out.is_symlink():
        raise ForeignFiles(f"{out}: exists and is not a folder: refusing to replace it (choose another output)")
    found = _written_here(out)
    listed = set()
    with contextlib.suppress(OSError, ValueError, TypeError):
        listed = set(json.loads((out / MANIFEST).read_text())["files"])
    foreign = sorted(found - listed)
    if foreign:
        shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
        raise ForeignFiles(f"{out}: this folder holds files this tool did not write ({shown}): refusing to "
                           "replace it (choose a new or empty folder)")


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:   # another user's process
        return True
    return True


def remove_stale_temporaries(folder, name):
    """Removes what a killed run left in `folder` for the output `name`: our hidden temporaries
    named after it (.<name>.tmp-<pid>-..., .<name>.old-<pid>) whose process is gone. Those of
    live runs (this one's included) are theirs."""
    pattern = re.compile(rf"\.{re.escape(name)}\.(?:tmp|old)-(\d+)\b")
    for p in Path(folder).iterdir():
        found = pattern.match(p.name)
        if found and int(found.group(1)) != os.getpid() and not _alive(int(found.group(1))):
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_dir(out):
    """Yields a temporary sibling of `out`, swapped in for `out` only if the block completes
    (an interrupted build leaves nothing under the final name). The folder gets the user's
    usual mode (mkdtemp's is 0700) and a manifest of what was written."""
    out = Path(out)
    check_folder_output(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(out.parent, out.name)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-{os.getpid()}-", dir=out.parent))
    try:
        tmp.chmod(0o777 & ~_umask())
        yield tmp
        (tmp / MANIFEST).write_text(json.dumps({"files": sorted(_written_here(tmp))}))
        check_folder_output(out)   # nothing foreign arrived while we worked
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        if out.exists():
            out.rename(old)
        tmp.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    except OSError as err:
        shutil.rmtree(tmp, ignore_errors=True)
        reraise_in_user_terms(err, out, tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@contextlib.contextmanager
def signals_deferred(signals=(signal.SIGINT, signal.SIGTERM)):
    """Ctrl-C and SIGTERM that arrive inside the block take effect as it ends, as they would
    have: for a step that must not be cut in two, such as starting an encoder that would
    outlive us and write its temporary after we removed it. Off the main thread (where
    handlers cannot be changed) the block runs as it is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught = []
    previous = {s: signal.getsignal(s) for s in signals}
    previous = {s: h for s, h in previous.items() if h is not None}   # None: set outside Python, left alone
    for s in previous:
        signal.signal(s, lambda number, _: caught.append(number))
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        for number in caught[:1]:
            signal.raise_signal(number)   # handled as it would have been (an ignored one stays ignored)


def _temporary_file(path):
    """A new, empty hidden file beside `path`, named after it and unique to this call (two
    outputs of one run, or two runs, never share one); same suffix: encoders go by it."""
    fd, name = tempfile.mkstemp(prefix=f".{path.stem}.tmp-{os.getpid()}-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    os.chmod(name, 0o666 & ~_umask())   # mkstemp's is 0600; the output gets the user's usual mode
    return Path(name)


def reraise_in_user_terms(err, path, tmp):
    """Raises an OSError met while writing `tmp` as one line about `path`, the user's name
    for it: a full disk says how much is free; others keep their words, `tmp` renamed."""
    if getattr(err, "errno", None) == errno.ENOSPC:
        free = shutil.disk_usage(path.parent).free >> 20
        full = OSError(f"{path}: no space left on the device ({free} MB free)")
        full.errno = errno.ENOSPC
        raise full from None
    if tmp is not None and str(tmp) in str(err):
        raise type(err)(str(err).replace(str(tmp), str(path))) from None
    raise err


@contextlib.contextmanager
def atomic_file(path):
    """Yields a temporary path beside `path`, renamed to `path` when the block completes
    (an existing file is replaced by that rename only) and deleted when it fails."""
    path = Path(path)
    if path.is_dir():
        raise OSError(f"{path}: is a folder: refusing to replace it with a file (choose another output)")
    tmp = None
    try:
        try:   # a folder we cannot write to says so now, not as an encoder's broken pipe later
            path.parent.mkdir(parents=True, exist_ok=True)
            remove_stale_temporaries(path.parent, path.stem)
            tmp = _temporary_file(path)
        except OSError as err:
            raise OSError(f"{path}: cannot write there ({err.strerror or err})") from None
        yield tmp
        os.replace(tmp, path)
    except OSError as err:
        reraise_in_user_terms(err, path, tmp)
    finally:
        # A signal between the temporary's creation and `tmp` naming it: this process's own
        # temporary of this name (two outputs of one run are never the same path).
        left = [tmp] if tmp is not None else path.parent.glob(
            f".{glob.escape(path.stem)}.tmp-{os.getpid()}-*{glob.escape(path.suffix)}")
        for file in left:
            file.unlink(missing_ok=True)
