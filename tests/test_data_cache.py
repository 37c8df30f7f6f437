import numpy as np
import pytest

from data_fixtures import face_frames, noise_frames, write_avi
from deblur3d import atomic
from deblur3d.data import cache


def config(tmp_path, sources, **kw):
    return cache.BuildConfig(out=str(tmp_path / "cache"), sources=tuple(sources), **kw)


def bad_sources(tmp_path):
    (tmp_path / "corrupt.mp4").write_bytes(np.random.default_rng(0).bytes(5000))
    (tmp_path / "empty.mp4").write_bytes(b"")
    write_avi(tmp_path / "noise.avi", noise_frames(30))
    return [f"video:{tmp_path / n}" for n in ("corrupt.mp4", "empty.mp4", "noise.avi")] + [
        f"video:{tmp_path / 'missing.mp4'}@val"]


def test_bad_inputs_are_skipped_and_counted(tmp_path):
    summary = cache.build_cache(config(tmp_path, bad_sources(tmp_path)))
    skipped = {r["clip"]: r["skipped"] for r in summary["clips"]}
    assert skipped == {"corrupt": "unreadable file", "empty": "empty file", "noise": "no face",
                       "missing": "missing file"}
    assert summary["splits"]["train"]["dropped"] == {"no face": 30}
    assert summary["splits"]["train"]["skipped_clips"] == 3 and summary["splits"]["val"]["kept"] == 0
    text = (tmp_path / "cache" / "summary.txt").read_text()
    assert "SKIPPED: unreadable file" in text and "SKIPPED: empty file" in text
    assert cache.Cache(tmp_path / "cache").runs() == []


def test_face_clip_kept_short_clip_skipped(tmp_path):
    frames = face_frames(40)
    write_avi(tmp_path / "face.avi", frames[:30])
    write_avi(tmp_path / "short.avi", frames[30:])
    summary = cache.build_cache(config(tmp_path, [f"video:{tmp_path / 'face.avi'}",
                                                  f"video:{tmp_path / 'short.avi'}@val"], crop_size=160))
    face, short = summary["clips"]
    assert (face["kept"], face["runs"], face["skipped"]) == (30, 1, None)
    assert (short["skipped"], short["dropped"]) == ("too short", {"too short": 10})
    (run,) = cache.Cache(tmp_path / "cache").runs("train")
    assert run.array("sharp").shape == (30, 160, 160, 3) and run.array("points68").shape == (30, 68, 2)
    p5 = run.array("points5")
    assert p5.shape == (30, 5, 2) and np.all((p5 > 0) & (p5 < 160))
    assert run.meta["blurry"] == "synthesised" and run.meta["identity"] == "face"


def test_an_interrupted_build_leaves_no_cache(tmp_path, monkeypatch):
    calls = []

    def fail_on_second(*args):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        raise cache.readers.BadInput("no face")

    monkeypatch.setattr(cache, "_video_runs", fail_on_second)
    with pytest.raises(KeyboardInterrupt):
        cache.build_cache(config(tmp_path, bad_sources(tmp_path)))
    assert not (tmp_path / "cache").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".cache")]


def test_a_rebuild_replaces_the_cache(tmp_path):
    with atomic.atomic_dir(tmp_path / "c") as tmp:
        (tmp / "old").write_text("1")
    with atomic.atomic_dir(tmp_path / "c") as tmp:
        (tmp / "new").write_text("2")
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == [atomic.MANIFEST, "new"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c"]


def test_identities_must_not_cross_splits(tmp_path):
    (tmp_path / "manifest.csv").write_text("clip_id,identity,frames,split\na,p1,3,train\nb,p1,5,val\n")
    with pytest.raises(ValueError, match="more than one split"):
        cache.resolve_sources(config(tmp_path, [f"manifest:{tmp_path}"]))


def test_default_sources_resolve(data_root):
    clips = cache.resolve_sources(cache.BuildConfig(data_dir=str(data_root)))
    splits = {c.clip_id: c.split for c in clips}
    assert splits["vd001"] == "val" and splits["livep-d0"] == "val" and len(clips) == 23


def test_300vw_annotations_replace_detection(tmp_path):
    folder = tmp_path / "300VW" / "007"
    (folder / "annot").mkdir(parents=True)
    write_avi(folder / "vid.avi", noise_frames(30))         # no detectable face: the .pts decide
    rng = np.random.default_rng(1)
    for i in range(1, 29):                                  # frames 29, 30 have no annotation
        body = "\n".join(f"{x:.2f} {y:.2f}" for x, y in rng.uniform(30, 70, (68, 2)))
        (folder / "annot" / f"{i:06d}.pts").write_text(f"version: 1\nn_points: 68\n{{\n{body}\n}}\n")
    summary = cache.build_cache(config(tmp_path, [f"300vw:{tmp_path / '300VW'}"], crop_size=64))
    (clip,) = summary["clips"]
    assert (clip["clip"], clip["kept"], clip["dropped"]) == ("300vw-007", 28, {"no annotation": 2})
    (run,) = cache.Cache(tmp_path / "cache").runs()
    assert run.meta["points68"] == "annotation" and run.array("sharp").shape == (28, 64, 64, 3)


def test_authors_sample_is_cached_as_given(tmp_path, data_root):
    folder = data_root / "300vw-sample" / "vd001"
    cache.build_cache(config(tmp_path, [f"authors:{folder}"], max_frames_per_clip=3))
    (run,) = cache.Cache(tmp_path / "cache").runs("train")
    assert run.meta["blurry"] == "stored" and run.meta["render_space"] == "aligned224"
    assert run.array("blurry").shape == run.array("sharp").shape == (3, 311, 271, 3)
    assert run.array("render").shape == (3, 224, 224, 4) and run.array("points68").shape == (3, 68, 2)
    np.testing.assert_array_equal(run.array("points5")[0], np.loadtxt(folder / "face" / "00001.txt"))
