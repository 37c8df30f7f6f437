"""`make demo`: a val clip, blurred as the training data were, deblurred and scored.

The blur is synthesised on whole frames (the tool deblurs whole frames) with the blur
preset (deblur3d/data/motion.py: one head / camera trajectory over the clip), so the sharp
frames, each at its mid-exposure position, are a ground truth: metrics.json gives PSNR /
SSIM of the blurry input and of the output against them, and the PSNR gain, over whole
frames and over the face (hull of the 68 points found on the blurry frames).
Scores are computed on the frames before video encoding. With `video`, the user's own
video is deblurred instead (no ground truth, no scores).
"""
import dataclasses
import json
from pathlib import Path

import numpy as np

from deblur3d import paths
from deblur3d.data import readers
from deblur3d.video import io, outputs, pipeline, sheets

@dataclasses.dataclass(frozen=True)
class DemoConfig:
    video: str | None = None        # the user's video; None: the demo clip
    # The val clip that moves most: its 9-frame blur leaves 34.9 dB (livep-d0, the first: 40.5).
    clip: str | None = "mimictalk-german"
    out: str = "outputs/demo"
    max_frames: int | None = 120    # None: every frame
    blur: object = None             # blur_settings preset name or BlurConfig; None: the default preset
    seed: int = 0                   # of the clip's trajectory
    data_dir: str | None = None
    max_side: int = io.MAX_SIDE
    video_config: pipeline.VideoConfig = pipeline.VideoConfig()


def demo_clip(config):
    folder = paths.data_path("videos", root=config.data_dir)
    val = [c for c in readers.manifest_clips(folder) if c.split == "val"]
    chosen = [c for c in val if c.clip_id == config.clip]
    if not chosen:
        raise readers.BadInput(f"no val clip {config.clip!r} in {folder}/manifest.csv "
                               f"(val clips: {', '.join(c.clip_id for c in val)})")
    return chosen[0]


def own_video(config, model, log=print):
    """The user's video -> <out>/<stem>_deblurred.mp4, _side_by_side.mp4, _contact_sheet.png."""
    model.check()   # a missing weights file fails before the faces are searched
    source = io.VideoInput(config.video, max_frames=config.max_frames, max_side=config.max_side)
    out = Path(config.out)
    report = pipeline.deblur_video(source, out / f"{source.name}_deblurred.mp4", model, config.video_config,
                                   side_by_side=out / f"{source.name}_side_by_side.mp4",
                                   contact_sheet=out / f"{source.name}_contact_sheet.png", log=log)
    return report, None


class Scores:
    """Per-frame PSNR / SSIM and warping error of input and output against the sharp frames
    (on_frame hook); the sharp frames' own warping error is the floor."""

    def __init__(self, sharp):
        from deblur3d.eval.temporal import ClipWarping, CorrectionFlicker
        self.sharp, self.rows, self.warping, self.floor = sharp, [], ClipWarping(), []
        self.ideal = CorrectionFlicker()   # the incoherence of the true correction, sharp - blurry

    def __call__(self, t, blurry, output, segments):
        from deblur3d.eval.metrics import frame_metrics
        mask = pipeline.face_region(blurry.shape, segments, t)
        self.ideal.add(blurry, self.sharp[t], mask)
        no_identity = lambda image: float("nan")   # noqa: E731  (dlib identity: not part of the demo)
        images = {"input": blurry, "output": output}
        warp, floor = self.warping.score("clip", self.sharp[t], images, mask)
        self.floor.append(floor)
        self.rows.append({name: dict(frame_metrics(image, self.sharp[t], mask, no_identity), warp=warp[name])
                          for name, image in images.items()})

    def summary(self):
        def mean(name, key):
            values = np.array([r[name][key] for r in self.rows], np.float64)
            return float(np.nanmean(values)) if np.isfinite(values).any() else None

        def region(psnr, ssim):
            scores = {n: {"psnr": mean(n, psnr), "ssim": mean(n, ssim)} for n in ("input", "output")}
            # The gain unrounded to 4 decimals: a small model's is often below 1e-4 dB.
            gain = None if scores["input"]["psnr"] is None else scores["output"]["psnr"] - scores["input"]["psnr"]
            rounded = {n: {k: None if v is None else round(v, 4) for k, v in s.items()} for n, s in scores.items()}
            return dict(rounded, psnr_gain_db=None if gain is None else float(f"{gain:.2g}"))

        face = sum(np.isfinite(r["input"]["face_psnr"]) for r in self.rows)
        floor = np.array(self.floor, np.float64)
        warping = {n: None if mean(n, "warp") is None else round(mean(n, "warp"), 3) for n in ("input", "output")}
        warping["sharp"] = round(float(np.nanmean(floor)), 3) if np.isfinite(floor).any() else None
        return {"whole_frame": region("psnr", "ssim"), "face_region": region("face_psnr", "face_ssim"),
                "warping_error_face": warping, "frames": len(self.rows), "frames_with_face": int(face)}


def val_clip_demo(config, model, log=print):
    """A val clip blurred, deblurred and scored -> blurry.mp4, deblurred.mp4, side_by_side.mp4,
    contact_sheet.png, metrics.json in config.out."""
    from deblur3d.data import blur_settings, faces, motion

    model.check()
    blur_config = blur_settings.resolve(config.blur)
    clip = demo_clip(config)
    original = np.stack(list(io.checked(readers.read_video(clip.path, config.max_frames), clip.path)))
    fps, _ = io.video_info(clip.path)
    log(f"demo clip {clip.clip_id} (val): {len(original)} frames of {original.shape[2]}x{original.shape[1]} at "
        f"{fps:g} fps, blurred with {blur_config}")
    points, _, _ = faces.track(original, faces.FaceAnnotator())   # the head mask of each frame
    blurry, sharp = motion.blur_video(original.astype(np.float32) / 255, points, blur_config, config.seed)
    blurry, sharp = (np.rint(a * 255).astype(np.uint8) for a in (blurry, sharp))
    out = Path(config.out)
    with outputs.open_output(out / "blurry.mp4", fps, sharp.shape[1:3], warn=log) as write:
        for frame in blurry:
            write(frame)

    scores, kept = Scores(sharp), {}
    picked = set(sheets.pick_frames(range(len(sharp)), config.video_config.sheet_frames))

    def on_frame(t, a, b, segments):
        scores(t, a, b, segments)
        if t in picked:
            kept[t] = sheets.sheet_row(t, [("blurry", a), ("deblurred", b), ("sharp", sharp[t])], segments)

    source = io.ArrayInput(blurry, fps, clip.clip_id)
    report = pipeline.deblur_video(source, out / "deblurred.mp4", model, config.video_config,
                                   side_by_side=out / "side_by_side.mp4", on_frame=on_frame, log=log)
    outputs.write_image(out / "contact_sheet.png", sheets.contact_sheet([kept[t] for t in sorted(kept)]))
    result = dict(clip=clip.clip_id, split="val", blur=dataclasses.asdict(blur_config), weights=str(model.weights),
                  recon_weights=str(model.recon.for_model(model.header()).recon_weights), seconds=round(report.seconds, 1), **scores.summary(),
                  correction_incoherence=dict(report.flicker or {}, true_correction=scores.ideal.result()["output"],
                                              tracks=report.tracks),
                  conventions="RGB at 0-255 (deblur3d/eval/metrics.py), mean of per-frame values, on the frames "
                              "before video encoding; face: hull of the 68 points found on the blurry frames")
    (out / "metrics.json").write_text(json.dumps(result, indent=1) + "\n")
    return report, result


def run_demo(config, model, log=print):
    return (own_video if config.video else val_clip_demo)(config, model, log)
