import cv2
import numpy as np
import pytest

from data_fixtures import write_avi
from deblur3d.data import readers


def colour_frames(n, h=32, w=48):
    return [np.full((h, w, 3), (200, 20 + 10 * i, 40), np.uint8) for i in range(n)]


def test_video_reader_gives_rgb_frames(tmp_path):
    path = write_avi(tmp_path / "tiny.avi", colour_frames(7))
    frames = list(readers.read_video(path))
    assert len(frames) == 7 and frames[0].shape == (32, 48, 3) and frames[0].dtype == np.uint8
    np.testing.assert_allclose(frames[3].reshape(-1, 3).mean(0), (200, 50, 40), atol=6)   # RGB order
    assert len(list(readers.read_video(path, max_frames=3))) == 3


@pytest.mark.parametrize("content, reason", [(b"", "empty file"), (bytes(range(256)) * 64, "unreadable file")])
def test_video_reader_rejects_bad_files(tmp_path, content, reason):
    path = tmp_path / "bad.mp4"
    path.write_bytes(content)
    with pytest.raises(readers.BadInput, match=reason):
        list(readers.read_video(path))


def test_vidtimit_layout_with_extensionless_jpegs(tmp_path):
    seq = tmp_path / "fadg0" / "video" / "sa1"
    seq.mkdir(parents=True)
    for i, frame in enumerate(colour_frames(11), start=1):
        (seq / f"{i:03d}").write_bytes(cv2.imencode(".jpg", cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))[1].tobytes())
    (seq / "012").write_bytes(b"not a jpeg")
    (clip,) = readers.clips_vidtimit(tmp_path)
    assert (clip.clip_id, clip.identity, clip.kind, clip.split) == (
        "vidtimit-fadg0-sa1", "vidtimit-fadg0", "frames", "val")
    frames = list(readers.iter_frames(clip))
    assert len(frames) == 12 and frames[-1] is None        # the undecodable file stays in place
    greens = [f.reshape(-1, 3).mean(0)[1] for f in frames[:-1]]
    assert np.all(np.diff(greens) > 5)                      # numeric order: 001 .. 011


def write_pts(path, points):
    body = "\n".join(f"{x:.3f} {y:.3f}" for x, y in points)
    path.write_text(f"version: 1\nn_points:  {len(points)}\n{{\n{body}\n}}\n")


def test_300vw_layout_and_pts(tmp_path):
    folder = tmp_path / "001"
    (folder / "annot").mkdir(parents=True)
    write_avi(folder / "vid.avi", colour_frames(3))
    points = np.random.default_rng(0).uniform(1, 40, (68, 2))
    write_pts(folder / "annot" / "000001.pts", points)
    (clip,) = readers.clips_300vw(tmp_path)
    assert clip.clip_id == "300vw-001" and len(list(readers.iter_frames(clip))) == 3
    np.testing.assert_allclose(readers.annotated_points(clip, 0), points - 1, atol=1e-3)  # 1-based -> 0-based
    assert readers.annotated_points(clip, 1) is None


def test_manifest_layout(tmp_path):
    (tmp_path / "manifest.csv").write_text("clip_id,identity,frames,split\na,p1,3,train\nb,p2,5,val\n")
    clips = readers.manifest_clips(tmp_path)
    assert [(c.clip_id, c.identity, c.split, c.num_frames) for c in clips] == [
        ("a", "p1", "train", 3), ("b", "p2", "val", 5)]
    assert clips[0].path == tmp_path / "a.mp4"


def test_authors_layout(tmp_path):
    for sub in ("sharp", "blurry", "face", "face_render"):
        (tmp_path / sub).mkdir()
    lines = []
    for i in (1, 2):
        name = f"{i:05d}"
        cv2.imwrite(str(tmp_path / "sharp" / f"{name}.png"), np.full((31, 27, 3), i, np.uint8))
        cv2.imwrite(str(tmp_path / "blurry" / f"{name}.png"), np.full((31, 27, 3), 10 + i, np.uint8))
        cv2.imwrite(str(tmp_path / "face_render" / f"{name}.png"), np.full((224, 224, 4), 7, np.uint8))
        np.savetxt(tmp_path / "face" / f"{name}.txt", np.arange(10).reshape(5, 2) + i, fmt="%d")
        lines.append(f"image/{name}.png 6 18 10 21")
    (tmp_path / "bbox.txt").write_text("\n".join(lines))
    a = readers.read_authors(tmp_path)
    assert a["sharp"].shape == (2, 31, 27, 3) and a["blurry"][1, 0, 0, 0] == 12
    assert a["render"].shape == (2, 224, 224, 4)
    np.testing.assert_array_equal(a["points5"][0], np.arange(10).reshape(5, 2) + 1)
    np.testing.assert_array_equal(a["boxes"][0], [6, 10, 18, 21])   # left, top, right, bottom


def test_authors_sample_if_present(data_root):
    folder = data_root / "300vw-sample" / "vd001"
    if not folder.is_dir():
        pytest.skip("no 300vw-sample")
    a = readers.read_authors(folder)
    assert a["sharp"].shape == a["blurry"].shape == (25, 311, 271, 3)
    assert a["points5"].shape == (25, 5, 2) and a["render"].shape == (25, 224, 224, 4)
    assert np.all(a["points5"][:, 0, 0] < a["points5"][:, 1, 0])   # left eye is image-left
