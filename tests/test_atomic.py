"""Outputs appear whole or not at all, and never replace what this tool did not write."""
import os
import stat

import pytest

from deblur3d import atomic


def test_a_folder_with_foreign_files_survives_byte_for_byte(tmp_path):
    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    (out / "notes.txt").write_text("mine")
    (out / "sub" / "thesis.docx").write_bytes(b"\x00years of work\xff")
    with pytest.raises(atomic.ForeignFiles, match=r"notes.txt, sub/thesis.docx\): refusing"):
        with atomic.atomic_dir(out) as tmp:
            (tmp / "000000.png").write_bytes(b"x")
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "sub" / "thesis.docx").read_bytes() == b"\x00years of work\xff"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]   # no temporary left


def test_our_own_previous_output_and_an_empty_folder_are_replaced_but_not_once_a_file_is_added(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    for content in ("1", "2"):
        with atomic.atomic_dir(out) as tmp:
            (tmp / "runs").mkdir()
            (tmp / "runs" / "a.npy").write_text(content)
    assert (out / "runs" / "a.npy").read_text() == "2"
    assert sorted(p.name for p in out.iterdir()) == [atomic.MANIFEST, "runs"]
    (out / "runs" / "added.txt").write_text("a user's")
    with pytest.raises(atomic.ForeignFiles, match="runs/added.txt"):
        atomic.check_folder_output(out)


def test_a_file_where_a_folder_output_goes_is_refused_and_folders_get_the_usual_mode(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(atomic.ForeignFiles, match="is not a folder"):
        atomic.check_folder_output(tmp_path / "f")
    old = os.umask(0o022)
    try:
        with atomic.atomic_dir(tmp_path / "d"):
            pass
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "d").stat().st_mode) == 0o755


def test_a_file_output_is_replaced_only_by_a_rename_and_a_failure_keeps_the_old_one(tmp_path):
    path = tmp_path / "o.mp4"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic.atomic_file(path) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("encoder died")
    assert path.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["o.mp4"]
    with atomic.atomic_file(path) as tmp:
        tmp.write_bytes(b"new")
    assert path.read_bytes() == b"new"
    with pytest.raises(OSError, match="is a folder"):
        with atomic.atomic_file(tmp_path):
            pass


def test_a_signal_just_after_the_temporary_is_made_leaves_nothing(tmp_path, monkeypatch):
    made = atomic._temporary_file

    def interrupted(path):   # Ctrl-C lands after the file exists, before atomic_file holds its name
        made(path)
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic, "_temporary_file", interrupted)
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(KeyboardInterrupt):
        with atomic.atomic_file(tmp_path / "o[1].mp4"):
            pass
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


def test_a_signal_inside_signals_deferred_takes_effect_as_the_block_ends():
    import signal
    from deblur3d.atomic import signals_deferred
    seen = []
    previous = signal.signal(signal.SIGTERM, lambda number, _: seen.append(("handled", number)))
    try:
        with signals_deferred():
            signal.raise_signal(signal.SIGTERM)
            seen.append("end of block")
        assert seen == ["end of block", ("handled", signal.SIGTERM)]
        signal.raise_signal(signal.SIGTERM)   # the handler is back
        assert seen[-1] == ("handled", signal.SIGTERM) and len(seen) == 3
    finally:
        signal.signal(signal.SIGTERM, previous)
