"""The video tool on short clips made here from a few real frames: untouched frames stay
bit-exact, corrections stay inside the feathered face region, bad inputs fail in one line."""
import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from data_fixtures import face_frames, noise_frames, write_avi
from deblur3d import atomic, paths
from deblur3d.data import blur, faces, readers
from deblur3d.video import io, paste, pipeline, sheets, tracks
from deblur3d.priors.settings import PriorsSettings
from deblur3d.video.gate import Gate, blur_score
from deblur3d.video.model import ModelSpec, untrained_weights
from deblur3d.video.smoothing import Smoothing

CLIP = "livep-d0"   # val identity
SMALL = pipeline.VideoConfig(crop_size=96, gate=Gate(0))   # the model at 96² instead of 320²: same code, 10x faster; every face


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    return {"identity": untrained_weights(root / "identity.weights.npz", use_priors=False, identity=True),
            "changing": untrained_weights(root / "changing.weights.npz", use_priors=False)}


def read(path):
    return np.stack(list(readers.read_video(path)))


# --- paste-back ------------------------------------------------------------------------

def test_feather_is_one_inside_zero_at_the_border_and_smooth():
    mask = paste.feather(100, 0.15)
    assert mask.shape == (100, 100) and mask[50, 50] == 1.0 and np.all(mask[15:85, 15:85] == 1.0)
    assert np.all(mask[0] == 0) and np.all(mask[-1] == 0) and np.all(mask[:, 0] == 0) and np.all(mask[:, -1] == 0)
    row = mask[50, :50]
    assert np.all(np.diff(row) >= 0) and np.max(np.diff(row)) < 0.12   # monotone, no jump
    np.testing.assert_array_equal(mask, mask.T)
    np.testing.assert_array_equal(mask, mask[::-1, ::-1])
    # An edge on the frame's border is not faded: the region ends there anyway.
    at_top = paste.region_feather((30, 0, 100), (400, 400))
    assert np.all(at_top[0, 15:85] == 1.0) and np.all(at_top[-1] == 0)


def test_paste_back_of_zero_correction_is_exact_and_others_stay_in_the_region():
    frame = np.random.default_rng(0).integers(0, 256, (120, 160, 3), dtype=np.uint8)
    region = (40, 20, 80)
    same = paste.paste_corrections(frame, [(region, np.zeros((96, 96, 3), np.float32))])
    assert same.dtype == np.uint8 and np.array_equal(same, frame)
    brighter = paste.paste_corrections(frame, [(region, np.full((96, 96, 3), 0.2, np.float32))])
    changed = np.any(brighter != frame, -1)
    ys, xs = np.nonzero(changed)
    assert ys.min() > 20 and ys.max() < 99 and xs.min() > 40 and xs.max() < 119   # border weight 0
    assert np.array_equal(brighter[60, 80], np.minimum(frame[60, 80].astype(int) + 51, 255))   # 0.2 x 255


def test_change_image_is_mid_grey_where_nothing_changed_and_amplifies_the_rest():
    before = np.full((10, 10, 3), 100, np.uint8)
    after = before.copy()
    after[:5] += 2                      # half the values up two grey levels
    after[5:, :, 0] -= 1                # a sixth down one
    image, gain = sheets.change_image(before, after)
    assert gain == 63                   # 127 // 2: the largest change nearly fills the range
    assert np.all(image[:5] == 128 + 126) and np.all(image[5:, :, 0] == 128 - 63) and np.all(image[5:, :, 1:] == 128)
    still, gain = sheets.change_image(before, before)
    assert gain == 64 and np.all(still == 128)   # capped: nothing to amplify


def test_demo_scores_give_the_gain_unrounded_and_no_face_scores_without_a_face():
    from deblur3d.video.demo import Scores
    sharp = np.full((2, 32, 32, 3), 100, np.uint8)
    scores = Scores(sharp)
    for t in range(2):   # input two grey levels off, output one: PSNR 42.11 -> 48.13 dB
        scores(t, sharp[t] + 2, sharp[t] + 1, segments=[])
    summary = scores.summary()
    whole = summary["whole_frame"]
    assert whole["input"]["psnr"] == round(10 * np.log10(255 ** 2 / 4), 4)
    assert whole["output"]["psnr"] == round(10 * np.log10(255 ** 2), 4)
    assert whole["psnr_gain_db"] == 6.0   # 20 log10(2) = 6.02, to two significant digits
    assert summary["face_region"]["input"]["psnr"] is None and summary["face_region"]["psnr_gain_db"] is None
    assert summary["frames"] == 2 and summary["frames_with_face"] == 0
    assert summary["warping_error_face"] == {"input": None, "output": None, "sharp": None}   # no face, no region


# --- tracking --------------------------------------------------------------------------

class FakeAnnotator:
    """Detections given per frame; 68 points spread inside the box."""

    def __init__(self, boxes):
        self.boxes = boxes

    def detect(self, rgb):
        return np.array(self.boxes[int(rgb[0, 0, 0])], np.float32).reshape(-1, 4)

    def landmarks(self, rgb, box):
        unit = np.random.default_rng(1).uniform(0.1, 0.9, (68, 2))
        return (box[:2] + unit * (box[2:] - box[:2]) + rgb[0, 0, 0]).astype(np.float32)   # moves 1 px a frame


def test_every_face_is_followed_through_short_gaps_only():
    a, b, small = [50, 50, 150, 150], [300, 60, 400, 160], [200, 300, 240, 340]
    per_frame = [[a, b], [a, b, small], [b], [b], [a, b], [], [], [], [a, b]]   # a missed for 2, then 3 frames
    frames = [np.full((480, 640, 3), t, np.uint8) for t in range(len(per_frame))]
    config = tracks.TrackConfig(min_face=80, cnn_fallback=False)   # HOG alone (the fallback: its own test)
    found, count, hw = tracks.follow_faces(frames, FakeAnnotator(per_frame), config)
    assert count == 9 and hw == (480, 640)
    spans = sorted((min(tr.points), max(tr.points)) for tr in found)
    assert spans == [(0, 4), (0, 4), (8, 8), (8, 8)]   # the 40 px face is ignored
    segments = tracks.segments(found, hw, tracks.TrackConfig(min_face=80))
    assert [(s.start, s.stop) for s in segments] == [(0, 5), (0, 5)]   # 1-frame tracks dropped
    a_points = next(s for s in segments if s.region[0] < 200).points   # frames 2, 3 interpolated
    np.testing.assert_allclose(a_points(2), a_points(1) + (a_points(4) - a_points(1)) / 3, atol=1e-4)
    assert np.abs(a_points(2) - a_points(1)).max() > 0.5


def test_stacks_are_the_clamped_five_frame_windows_of_the_track():
    frames = [np.full((64, 64, 3), 10 * t, np.uint8) for t in range(8)]
    segment = tracks.Segment(0, 2, 6, (2, 6), (0, 0, 64), np.full((4, 68, 2), 32, np.float32))
    seen = {}

    def model(stack, points5, *priors):
        seen[len(seen) + 2] = np.round(stack[0, 0, ::3] * 255 / 10).astype(int).tolist()
        return stack[..., 6:9]   # the centre frame: no change

    out = list(pipeline.deblurred_frames(iter(frames), [segment], model, pipeline.VideoConfig(crop_size=32)))
    assert [t for t, *_ in out] == list(range(8)) and all(np.array_equal(o, f) for (_, _, o, _), f in zip(out, frames))
    assert seen == {2: [2, 2, 2, 3, 4], 3: [2, 2, 3, 4, 5], 4: [2, 3, 4, 5, 5], 5: [3, 4, 5, 5, 5]}


def test_a_model_trained_on_strided_stacks_sees_neighbours_that_far_apart():
    frames = [np.full((64, 64, 3), 5 * t, np.uint8) for t in range(30)]
    segment = tracks.Segment(0, 0, 30, (0, 30), (0, 0, 64), np.full((30, 68, 2), 32, np.float32))
    seen = {}

    def model(stack, points5, *priors):
        seen[len(seen)] = np.round(stack[0, 0, ::3] * 255 / 5).astype(int).tolist()
        return stack[..., 6:9]
    model.stride = 5   # as FaceDeblurrer reads it from the weights header
    out = list(pipeline.deblurred_frames(iter(frames), [segment], model, pipeline.VideoConfig(crop_size=32)))
    assert [t for t, *_ in out] == list(range(30))
    assert seen[0] == [0, 0, 0, 5, 10] and seen[12] == [2, 7, 12, 17, 22] and seen[29] == [19, 24, 29, 29, 29]
    seen.clear()   # the flag overrides the model's stride
    list(pipeline.deblurred_frames(iter(frames), [segment], model, pipeline.VideoConfig(crop_size=32, stride=1)))
    assert seen[12] == [10, 11, 12, 13, 14]


def test_a_one_frame_clip_is_stacked_as_a_photo_of_shifted_copies():
    ramp = np.tile((np.arange(64) * 4).astype(np.uint8)[None, :, None], (64, 1, 3))   # changes along x
    segment = tracks.Segment(0, 0, 1, (0, 1), (0, 0, 64), np.full((1, 68, 2), 32, np.float32))
    seen = []

    def model(stack, points5, *priors):
        seen.append(np.asarray(stack))
        return stack[..., 6:9]
    for shift in (blur.PHOTO_SHIFT, 0):
        config = pipeline.VideoConfig(crop_size=32, gate=Gate(0), photo_shift=shift)
        (_, _, out, _), = pipeline.deblurred_frames(iter([ramp]), [segment], model, config)
        assert np.array_equal(out, ramp)
        np.testing.assert_array_equal(seen[-1], blur.photo_stack(seen[-1][..., 6:9], 5, shift))
    assert blur.PHOTO_SHIFT > 0 and not np.array_equal(seen[0][..., :3], seen[0][..., 6:9])


# --- whole videos ----------------------------------------------------------------------

def test_face_less_frames_stay_exact_and_faces_change_only_in_their_region(models, tmp_path):
    real = face_frames(6, clip=CLIP, size=256)
    black = [np.zeros_like(real[0])] * 3
    clip = write_avi(tmp_path / "in.avi", real[:3] + black + real[3:] + noise_frames(3, size=256))
    source = io.VideoInput(clip)
    frames = read(clip)
    spec = ModelSpec(models["changing"], PriorsSettings(recon_weights=None))
    report = pipeline.deblur_video(source, tmp_path / "out.mkv", spec, SMALL, side_by_side=tmp_path / "sbs.mp4",
                                   contact_sheet=tmp_path / "sheet.png", progress=False)
    out = read(tmp_path / "out.mkv")   # lossless: what the tool made, bit for bit
    assert out.shape == frames.shape and io.video_info(tmp_path / "out.mkv")[0] == 25
    assert report.faces == 2 and report.face_frames == 6
    # the correction's incoherence, frame to frame inside each track (no sharp frames needed)
    assert report.flicker["frames"] == 4 and np.isfinite(report.flicker["output"]) and report.flicker["unsharp"] > 0
    segments, _, _, _ = pipeline.find_faces(source, SMALL, progress=False)
    for t in range(len(frames)):
        here = [s for s in segments if s.start <= t < s.stop]
        if not here:
            assert np.array_equal(out[t], frames[t]), t
            continue
        weight = np.zeros(frames.shape[1:3], np.float32)
        for x0, y0, side in (s.region for s in here):
            weight[y0:y0 + side, x0:x0 + side] += paste.region_feather((x0, y0, side), frames.shape[1:3])
        diff = np.any(out[t] != frames[t], -1)
        assert diff[weight > 0.5].mean() > 0.9 and not diff[weight == 0].any(), t
        assert (weight == 0).mean() > 0.2   # a good share of the frame is outside the face's region
    assert read(tmp_path / "sbs.mp4").shape[:3] == (12, 256 + 24, 512)
    assert cv2.imread(str(tmp_path / "sheet.png")).shape[0] > 4 * 256
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.avi", "out.mkv", "sbs.mp4", "sheet.png"]


class RecordedPriors:
    """OnlineFramePriors that notes every call: per-frame priors, or coefficients then render."""

    def __init__(self, inner):
        self.inner, self.calls = inner, []

    def __call__(self, stack, points5):
        render, identity = self.inner(stack, points5)
        self.calls.append(("frame", np.asarray(render), points5))
        return render, identity

    def coefficients(self, frame, points5):
        self.calls.append(("coefficients", frame.shape, points5))
        return self.inner.coefficients(frame, points5)

    def render(self, coeffs, points5, height, width, albedo=None):
        render = self.inner.render(coeffs, points5, height, width, albedo)
        self.calls.append(("render", np.asarray(render), points5))
        return render


@pytest.mark.parametrize("steady", [True, False])
def test_render_model_runs_with_priors_and_an_identity_model_changes_nothing(models, tmp_path, data_root, steady):
    clip = write_avi(tmp_path / "in.avi", face_frames(3, clip=CLIP, size=256))
    spec = ModelSpec(untrained_weights(tmp_path / "full.weights.npz", identity=True),
                     PriorsSettings(recon_weights=None), str(data_root))
    model = spec.get()
    model.priors = recorded = RecordedPriors(model.priors)
    config = dataclasses.replace(SMALL, smoothing=Smoothing(2, hold_identity=True) if steady else Smoothing(0, hold_identity=False))
    pipeline.deblur_video(io.VideoInput(clip), tmp_path / "out", spec, config, progress=False)
    out = np.stack([readers.read_image(p) for p in readers.frame_files(tmp_path / "out")])
    assert np.array_equal(out, read(clip))   # zero correction: exact, priors or not
    kinds = [c[0] for c in recorded.calls]
    # Steadied: ReconNet once per frame, one render per frame; else the per-frame priors of training.
    assert sorted(kinds) == (["coefficients"] * 3 + ["render"] * 3 if steady else ["frame"] * 3)
    for kind, value, points5 in recorded.calls:
        assert np.all((points5 > 0) & (points5 < 96))
        if kind != "coefficients":
            assert value.shape == (1, 96, 96, 3) and value.max() > 0.1


def test_the_blur_score_rises_with_blur_alike_in_every_direction():
    rng = np.random.default_rng(0)
    texture = cv2.GaussianBlur(rng.random((160, 160, 3)).astype(np.float32), (0, 0), 1.0)
    texture = (texture - texture.min()) / (texture.max() - texture.min())
    scores = [blur_score(cv2.GaussianBlur(texture, (0, 0), s) if s else texture) for s in (0, 1, 2, 4)]
    assert all(a < b for a, b in zip(scores, scores[1:])) and scores[0] < 0.3 and scores[-1] > 0.7
    line = np.full((1, 9), 1 / 9, np.float32)   # a 9 px motion blur, horizontal and vertical
    across, down = blur_score(cv2.filter2D(texture, -1, line)), blur_score(cv2.filter2D(texture, -1, line.T))
    assert abs(across - down) < 0.02 and scores[0] < across < scores[-1]
    assert blur_score((texture * 255).astype(np.uint8)) == pytest.approx(scores[0], abs=0.01)   # uint8 alike
    assert np.isnan(blur_score(texture, (0, 0, 10, 10)))   # too small a face to tell


def test_the_gate_leaves_a_sharp_clip_bit_exact_and_deblurs_it_blurred(models, tmp_path):
    sharp = face_frames(4, clip=CLIP, size=256)
    blurred = [cv2.GaussianBlur(f, (0, 0), 2.0) for f in sharp]
    spec = ModelSpec(models["changing"], PriorsSettings(recon_weights=None))
    reports = {}
    for name, frames in (("sharp", sharp), ("blurred", blurred)):
        clip = write_avi(tmp_path / f"{name}.avi", frames)
        reports[name] = pipeline.deblur_video(io.VideoInput(clip), tmp_path / f"{name}_out", spec,
                                              pipeline.VideoConfig(), progress=False)   # the default gate
        out = np.stack([readers.read_image(p) for p in readers.frame_files(tmp_path / f"{name}_out")])
        assert np.array_equal(out, read(clip)) == (name == "sharp"), name
    assert (reports["sharp"].faces_left_alone, reports["sharp"].faces_deblurred) == (4, 0)
    assert (reports["blurred"].faces_left_alone, reports["blurred"].faces_deblurred) == (0, 4)


def test_two_faces_side_by_side_are_both_deblurred_each_in_its_own_region_and_keep_their_tracks(models, tmp_path):
    left, right = face_frames(10, clip=CLIP, size=256), face_frames(10, clip="dpe-s", size=256)
    # The right face enters at frame 3 and leaves after frame 7; the left one stays throughout.
    frames = [np.concatenate([a, b if 3 <= t < 8 else np.zeros_like(b)], 1)
              for t, (a, b) in enumerate(zip(left, right))]
    clip = write_avi(tmp_path / "two.avi", frames)
    spec = ModelSpec(models["changing"], PriorsSettings(recon_weights=None))
    report = pipeline.deblur_video(io.VideoInput(clip), tmp_path / "out", spec, SMALL, progress=False)
    out = np.stack([readers.read_image(p) for p in readers.frame_files(tmp_path / "out")])
    segments, _, _, _ = pipeline.find_faces(io.VideoInput(clip), SMALL, progress=False)
    assert report.faces == 2 and report.faces_deblurred == 10 + 5
    spans = sorted((s.span, s.face) for s in segments)
    assert [span for span, _ in spans] == [(0, 10), (3, 8)]   # one track each, entering and leaving
    frames = read(clip)
    for s in segments:
        other = [o for o in segments if o.face != s.face]
        x0, y0, side = s.region
        for t in range(s.start, s.stop):
            for o in (o for o in other if o.start <= t < o.stop):
                p = o.points(t)   # the other face lies wholly outside this face's region
                assert np.all((p[:, 0] < x0) | (p[:, 0] >= x0 + side) | (p[:, 1] < y0) | (p[:, 1] >= y0 + side))
            inside = np.any(out[t, y0:y0 + side, x0:x0 + side] != frames[t, y0:y0 + side, x0:x0 + side], -1)
            assert inside.mean() > 0.5, (s.face, t)   # this face was deblurred
    assert np.array_equal(out[:3, :, 256:], frames[:3, :, 256:])   # the right half before its face arrives


def test_no_face_gives_the_input_back_with_a_warning(models, tmp_path):
    frames = noise_frames(5, size=128)
    folder = tmp_path / "frames"
    folder.mkdir()
    for t, f in enumerate(frames):
        cv2.imwrite(str(folder / f"{t}.png"), f[..., ::-1])
    notes = []
    report = pipeline.deblur_video(io.VideoInput(folder), tmp_path / "out", ModelSpec(models["identity"]),
                                   log=notes.append, progress=False)
    out = [readers.read_image(p) for p in readers.frame_files(tmp_path / "out")]
    assert report.faces == 0 and np.array_equal(np.stack(out), np.stack(frames))
    assert any("no face" in n and "frames unchanged" in n for n in notes)
    # A whole video file without a face is copied as it is.
    clip = write_avi(tmp_path / "noise.avi", frames)
    pipeline.deblur_video(io.VideoInput(clip), tmp_path / "copy.avi", ModelSpec("absent.npz"), log=notes.append,
                          progress=False)
    assert (tmp_path / "copy.avi").read_bytes() == clip.read_bytes()


def test_audio_is_copied_and_without_ffmpeg_opencv_writes_the_video(tmp_path, monkeypatch):
    exe = io.ffmpeg_exe()
    if exe is None:
        pytest.skip("no ffmpeg")
    clip = tmp_path / "tone.mp4"
    subprocess.run([exe, "-v", "error", "-f", "lavfi", "-i", "testsrc=size=96x96:rate=10", "-f", "lavfi",
                    "-i", "sine=frequency=440", "-t", "1", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac",
                    str(clip)], check=True)
    source = io.VideoInput(clip, max_frames=4)
    assert source.audio == clip and source.fps == 10
    pipeline.deblur_video(source, tmp_path / "out.mp4", ModelSpec("absent.npz"), log=print, progress=False)
    assert io.audio_codec(tmp_path / "out.mp4") == "aac" and len(read(tmp_path / "out.mp4")) == 4
    monkeypatch.setattr(io, "ffmpeg_exe", lambda: None)
    notes = []
    pipeline.deblur_video(io.VideoInput(clip, max_frames=4), tmp_path / "cv.mp4", ModelSpec("absent.npz"),
                          log=notes.append, progress=False)
    assert len(read(tmp_path / "cv.mp4")) == 4 and any("no ffmpeg" in n and "audio" in n for n in notes)


# --- the command line: bad inputs ------------------------------------------------------

def run_tool(*args):
    script = paths.REPO_ROOT / "experiments" / "deblur_video.py"
    return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, timeout=120)


def bad_case(case, tmp_path, weights_file):
    """(input, weights, what the error line must say)."""
    if case == "corrupt":
        video = tmp_path / "in.mp4"
        video.write_bytes(np.random.default_rng(0).bytes(50_000))
        return video, weights_file, "cannot be decoded as a video"
    if case == "missing input":
        return tmp_path / "absent.mp4", weights_file, "no such file or folder"
    video = write_avi(tmp_path / "in.avi", noise_frames(2, size=64))
    if case == "missing weights":
        return video, str(tmp_path / "none.weights.npz"), "--weights"
    return video, weights_file, "--max_side=32"   # 64 px frames


@pytest.mark.parametrize("case", ["corrupt", "missing input", "missing weights", "too large"])
def test_bad_input_fails_in_one_line_and_leaves_nothing(case, models, tmp_path):
    video, weights_file, expected = bad_case(case, tmp_path, models["identity"])
    out = tmp_path / "out"
    result = run_tool(f"--input={video}", f"--output={out}/x.mp4", f"--weights={weights_file}", "--max_side=32",
                      f"--side_by_side={out}/sbs.mp4")
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert expected in lines[0] and "Traceback" not in result.stderr
    assert not out.exists() or not any(out.iterdir())


# --- the command line: nothing lost, nothing silent ------------------------------------

def test_an_output_that_is_the_input_is_refused_before_anything_is_read(models, tmp_path):
    video = write_avi(tmp_path / "in.avi", noise_frames(3, size=64))
    before = video.read_bytes()
    for output in (video, tmp_path / "." / "in.avi"):
        result = run_tool(f"--input={video}", f"--output={output}", f"--weights={models['identity']}")
        assert result.returncode == 1 and "is an input: refusing to overwrite it" in result.stderr, result.stderr
    folder = tmp_path / "videos"
    folder.mkdir()
    write_avi(folder / "a.avi", noise_frames(3, size=64))
    clip = write_avi(folder / "b.avi", noise_frames(3, size=64))
    (folder / "a.mp4").write_bytes(b"an input")   # a.avi's output folder/a.mp4 would replace it
    result = run_tool(f"--input={folder}", f"--output={folder}", f"--weights={models['identity']}")
    assert result.returncode == 1 and "refusing to overwrite" in result.stderr
    assert (folder / "a.mp4").read_bytes() == b"an input" and video.read_bytes() == before
    frames = tmp_path / "frames"
    frames.mkdir()
    with pytest.raises(io.BadInput, match="replace the folder holding the input"):
        io.plan(frames, tmp_path)   # a PNG folder output is replaced whole
    with pytest.raises(io.BadInput, match="is an input"):
        io.refuse_overwriting([], [clip], [clip])   # --side_by_side onto the input
    result = run_tool(f"--input={video}", f"--output={tmp_path}/o.mp4", "--max_frames=-1")
    assert result.returncode != 0 and "--max_frames must lie in [0, inf)" in result.stderr


def test_a_folder_output_holding_other_files_is_refused_and_survives_byte_for_byte(models, tmp_path):
    frames = tmp_path / "frames"
    frames.mkdir()
    for i, rgb in enumerate(noise_frames(3, size=64)):
        cv2.imwrite(str(frames / f"shot_{i:02d}.jpg"), rgb)
    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    (out / "notes.txt").write_text("notes")
    (out / "sub" / "thesis.docx").write_bytes(b"\x00thesis\xff")
    result = run_tool(f"--input={frames}", f"--output={out}", f"--weights={models['identity']}")
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and lines[-1].startswith("error: ") and "did not write" in lines[-1], result.stderr
    assert (out / "notes.txt").read_text() == "notes" and (out / "sub" / "thesis.docx").read_bytes() == b"\x00thesis\xff"
    assert sorted(p.name for p in out.rglob("*")) == ["notes.txt", "sub", "thesis.docx"]
    fresh = tmp_path / "fresh"
    for _ in range(2):   # a new folder, then our own previous output: written, the input's names kept
        result = run_tool(f"--input={frames}", f"--output={fresh}", f"--weights={models['identity']}")
        assert result.returncode == 0, result.stderr
        assert sorted(p.name for p in fresh.glob("*.png")) == ["shot_00.png", "shot_01.png", "shot_02.png"]


def test_nan_weights_are_refused_before_any_frame_is_read_and_a_broken_output_is_never_pasted(models, tmp_path):
    import json
    with np.load(models["changing"]) as z:
        arrays = {k: z[k] for k in z.files}
    arrays = {k: (v if k == "header" else np.full_like(v, np.nan)) for k, v in arrays.items()}
    np.savez(tmp_path / "nan.weights.npz", **arrays)
    video = write_avi(tmp_path / "in.avi", noise_frames(3, size=64))
    result = run_tool(f"--input={video}", f"--output={tmp_path}/o.mp4", f"--weights={tmp_path}/nan.weights.npz")
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and lines[-1].startswith("error: ") and "nan.weights.npz" in lines[-1]
    assert "NaN" in lines[-1] and "w0000" in lines[-1] and not (tmp_path / "o.mp4").exists()
    assert json.loads(str(arrays["header"]))["shapes"]
    assert not pipeline.usable_output(np.full((4, 4, 3), np.nan))   # handed back untouched (test_faults.py)
    assert not pipeline.usable_output(np.full((4, 4, 3), 3.0))
    assert pipeline.usable_output(np.full((4, 4, 3), 0.5))


def truncated_video(tmp_path, frames=24, keep=0.5):
    """An MJPG .avi whose second half is cut off: the container still declares every frame."""
    clip = write_avi(tmp_path / "full.avi", noise_frames(frames, size=64))
    data = clip.read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[:int(len(data) * keep)])
    return cut


def test_a_truncated_video_says_how_many_frames_were_read_of_how_many_declared(models, tmp_path):
    cut = truncated_video(tmp_path)
    declared = io.video_info(cut)[1]
    result = run_tool(f"--input={cut}", f"--output={tmp_path}/o.avi", f"--weights={models['identity']}")
    assert result.returncode == 0 and f"of the {declared} frames its container declares" in result.stderr
    read = len(list(readers.read_video(tmp_path / "o.avi")))
    assert 0 < read < declared and f"read {read} of" in result.stderr
    strict = run_tool(f"--input={cut}", f"--output={tmp_path}/s.avi", f"--weights={models['identity']}", "--strict")
    assert strict.returncode == 1 and strict.stderr.strip().splitlines()[-1].startswith("error: --strict")
    assert (tmp_path / "s.avi").is_file()   # written all the same


def test_a_folder_of_videos_processes_every_good_file_and_names_the_bad_ones(models, tmp_path):
    folder = tmp_path / "videos"
    folder.mkdir()
    for name in ("a", "c"):
        write_avi(folder / f"{name}.avi", noise_frames(3, size=64))
    (folder / "b.mp4").write_bytes(np.random.default_rng(0).bytes(5000))
    result = run_tool(f"--input={folder}", f"--output={tmp_path}/out", f"--weights={models['identity']}",
                      f"--report={tmp_path}/report.json")
    assert result.returncode == 1 and (tmp_path / "out" / "a.mp4").is_file() and (tmp_path / "out" / "c.mp4").is_file()
    report = json.loads((tmp_path / "report.json").read_text())
    assert [Path(v["input"]).name for v in report["videos"]] == ["a.avi", "c.avi"] and report["failed"] == ["b.mp4"]
    assert report["videos"][0]["frames"] == 3 and report["videos"][0]["flicker"] is None   # no face in noise
    lines = result.stderr.strip().splitlines()
    assert any(line.startswith("error:") and "b.mp4" in line for line in lines[:-1])
    assert lines[-1] == "error: 1 of 3 videos failed: b.mp4"


def test_an_unwritable_output_place_says_so_in_one_line(tmp_path):
    (tmp_path / "file.txt").write_text("x")   # a file where the output's folder should be (root may write anywhere)
    with pytest.raises(OSError, match=r"x.mp4: cannot write there \(") as err:
        with atomic.atomic_file(tmp_path / "file.txt" / "x.mp4"):
            pass
    assert "\n" not in str(err.value)


def test_make_demo_passes_a_video_path_with_a_space_whole():
    out = subprocess.run(["make", "-n", "demo", "VIDEO=my clip.mp4"], cwd=paths.REPO_ROOT, capture_output=True,
                         text=True, check=True).stdout
    assert '--video="my clip.mp4"' in out


def test_a_grayscale_clip_comes_back_grayscale_and_alpha_or_16_bit_frames_are_warned_about(models, tmp_path):
    frames = tmp_path / "frames"
    frames.mkdir()
    for i, rgb in enumerate(face_frames(8)):
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        cv2.imwrite(str(frames / f"{i:03d}.png"), np.dstack([gray, gray, gray, np.full_like(gray, 255)]))
    source = io.VideoInput(frames)
    assert any("alpha channel is not kept" in w for w in source.warnings)
    out = tmp_path / "out"
    report = pipeline.deblur_video(source, out, ModelSpec(models["changing"], PriorsSettings(recon_weights=None)),
                                   SMALL, log=lambda *_: None, progress=False)
    assert report.faces_deblurred > 0 and any("alpha" in w for w in report.warnings)
    written = [cv2.imread(str(p)) for p in sorted(out.glob("*.png"))]
    assert all((w[..., 0] == w[..., 1]).all() and (w[..., 1] == w[..., 2]).all() for w in written)
    deep = tmp_path / "deep"
    deep.mkdir()
    cv2.imwrite(str(deep / "0.png"), np.full((64, 64, 3), 40000, np.uint16))
    assert any("16-bit depth is reduced to 8 bits" in w for w in io.VideoInput(deep).warnings)


def test_a_variable_frame_rate_is_measured_as_drift_from_a_constant_rate(tmp_path):
    source = io.VideoInput(write_avi(tmp_path / "in.avi", noise_frames(3, size=64)))
    source.fps, source.timestamps = 25.0, [0.0, 40.0, 80.0, 120.0]
    assert source.timing_drift() == 0.0
    source.timestamps = [0.0, 40.0, 120.0, 200.0, 240.0]   # 40 ms, then 80 ms apart
    assert source.timing_drift() == pytest.approx(80.0)


# --- photos, aligned crops, the CNN fallback --------------------------------------------

def test_a_photo_comes_back_as_a_photo_of_its_size_and_type_with_its_face_deblurred(models, tmp_path):
    photo = face_frames(1, clip=CLIP, size=256)[0]
    cv2.imwrite(str(tmp_path / "shot.jpg"), cv2.cvtColor(photo, cv2.COLOR_RGB2BGR))
    result = run_tool(f"--input={tmp_path}/shot.jpg", f"--output={tmp_path}/out/shot_deblurred.png",
                      f"--weights={models['changing']}", "--crop_size=96", "--gate=0", f"--report={tmp_path}/r.json")
    assert result.returncode == 0, result.stderr
    def strict(token):
        raise ValueError(f"not JSON: {token}")
    report = json.loads((tmp_path / "r.json").read_text(), parse_constant=strict)   # no NaN: one frame, no score
    assert report["videos"][0]["flicker"]["output"] is None and report["videos"][0]["flicker"]["frames"] == 0
    out = cv2.imread(str(tmp_path / "out" / "shot_deblurred.png"), cv2.IMREAD_UNCHANGED)
    source = readers.read_image(tmp_path / "shot.jpg")
    assert out.shape == source.shape and out.dtype == np.uint8 and "1 face(s) in 1 frames (1 deblurred" in result.stdout
    assert "deblurring on " in result.stdout and ", precision float32" in result.stdout   # its device, one line
    changed = np.any(out[..., ::-1] != source, -1)
    assert 0.05 < changed.mean() < 0.9   # the face's region, not the whole photo
    as_jpeg = run_tool(f"--input={tmp_path}/shot.jpg", f"--output={tmp_path}/j.jpg", f"--weights={models['identity']}")
    assert as_jpeg.returncode == 0 and readers.read_image(tmp_path / "j.jpg").shape == source.shape
    wrong = run_tool(f"--input={tmp_path}/shot.jpg", f"--output={tmp_path}/v.mp4", f"--weights={models['identity']}")
    assert wrong.returncode == 1 and wrong.stderr.strip().splitlines()[-1].startswith("error:") and "image" in wrong.stderr
    assert not (tmp_path / "v.mp4").exists()
    for bad in ("--contact_sheet=sheet", "--side_by_side=s.png", "--report=r.txt", "--stabilise=2",
                "--stabilise_sigma=0"):
        refused = run_tool(f"--input={tmp_path}/shot.jpg", f"--output={tmp_path}/b.png", f"--weights={models['identity']}",
                           bad)
        assert refused.returncode == 1 and len(refused.stderr.strip().splitlines()) == 1, (bad, refused.stderr)
        assert refused.stderr.startswith("error:") and not (tmp_path / "b.png").exists()


def test_aligned_crops_are_all_deblurred_without_calling_a_detector(models, tmp_path, monkeypatch):
    frame = face_frames(1, clip=CLIP, size=256)[0]
    boxes = faces.FaceAnnotator(640).detect(frame)
    x0, y0, x1, y1 = boxes[0]
    side, cx, cy = 1.8 * (x1 - x0), (x0 + x1) / 2, (y0 + y1) / 2   # as the training crops
    crop = faces.crop(frame, (int(cx - side / 2), int(cy - side / 2), int(side)), 128)
    folder = tmp_path / "crops"
    folder.mkdir()
    for k in range(3):
        cv2.imwrite(str(folder / f"c{k}.png"), cv2.cvtColor(np.roll(crop, k, 1), cv2.COLOR_RGB2BGR))

    def no_detection(self, rgb):
        raise AssertionError("a detector was called")
    monkeypatch.setattr(faces.FaceAnnotator, "detect", no_detection)
    monkeypatch.setattr(faces.FaceAnnotator, "detect_cnn", no_detection)
    spec = ModelSpec(models["changing"], PriorsSettings(recon_weights=None))
    config = dataclasses.replace(SMALL, tracking=dataclasses.replace(SMALL.tracking, aligned=True))
    for k in range(3):
        report = pipeline.deblur_video(io.PhotoInput(folder / f"c{k}.png"), tmp_path / f"o{k}.png", spec, config,
                                       progress=False)
        assert report.faces_deblurred == 1 and readers.read_image(tmp_path / f"o{k}.png").shape == (128, 128, 3)
    assert [p for _, p in io.plan(folder, tmp_path / "all", photos=True)] == [tmp_path / "all" / f"c{k}.png"
                                                                              for k in range(3)]


def test_the_cnn_detector_is_tried_only_where_hog_loses_a_live_face():
    class Annotator:
        def __init__(self, hog):
            self.hog, self.cnn_frames = hog, []

        def detect(self, rgb):
            return [np.array([10, 10, 110, 110], np.float32)] if self.hog(int(rgb[0, 0, 0])) else []

        def detect_cnn(self, rgb):
            self.cnn_frames.append(int(rgb[0, 0, 0]))
            return [np.array([12, 8, 112, 108], np.float32)]

        def landmarks(self, rgb, box):
            return np.tile(box[:2], (68, 1))

    frames = [np.full((160, 160, 3), t, np.uint8) for t in range(8)]
    annotator = Annotator(lambda t: t not in (3, 4))                     # HOG misses frames 3 and 4
    found, _, _ = tracks.follow_faces(frames, annotator, tracks.TrackConfig(min_face=50))
    assert annotator.cnn_frames == [3, 4] and len(found) == 1 and sorted(found[0].points) == list(range(8))
    silent = Annotator(lambda t: False)                                   # no face ever: no track to lose
    tracks.follow_faces(frames, silent, tracks.TrackConfig(min_face=50))
    assert silent.cnn_frames == []
    photo = Annotator(lambda t: False)                                    # a photo HOG finds nothing in
    found, _, _ = tracks.follow_faces(frames[:1], photo, tracks.TrackConfig(min_face=50, min_frames=1, photo=True))
    assert photo.cnn_frames == [0] and len(found) == 1
    off = Annotator(lambda t: t not in (3, 4))
    tracks.follow_faces(frames, off, tracks.TrackConfig(min_face=50, cnn_fallback=False))
    assert off.cnn_frames == []
