"""Deblurs the faces of a video: every face of at least --min_face px is found, followed,
deblurred at the training scale with its 3D priors and pasted back feathered; the rest
of each frame, and frames without a face, are left exactly as they were. Frame rate,
frame count and (with ffmpeg) the audio track are kept.

    python experiments/deblur_video.py --input=talk.mp4 --output=talk_deblurred.mp4
    python experiments/deblur_video.py --input=talk.mp4 --output=out.mp4 --side_by_side=sbs.mp4 --contact_sheet=s.png
    python experiments/deblur_video.py --input=frames/ --output=deblurred_frames/ --fps=30
    python experiments/deblur_video.py --input=videos/ --output=deblurred/      # every video of a folder
    python experiments/deblur_video.py --input=photo.jpg --output=photo_deblurred.png
    python experiments/deblur_video.py --input=photos/ --output=deblurred/ --photos   # each photo on its own
    python experiments/deblur_video.py --input=crops/ --output=out/ --aligned   # aligned face crops, each a photo

--input: a video file, a folder of frames (images in name order), a folder of videos, a
photo, or with --photos a folder of photos. A photo is deblurred as a stack of five
copies of itself, each moved --photo_shift px sideways from the last.
--output: .mp4 / .mov (H.264), .mkv / .avi (lossless FFV1: bit-exact frames), an image for
a photo, or a folder: PNG frames for a frame-folder input, <folder>/<name>.mp4 for a video,
<folder>/<name>.png for a photo. Outputs appear only when complete. A bad input ends with
one `error:` line and status 1.
"""
import dataclasses
import json
import math
import sys
from pathlib import Path

from absl import flags

import cli
import shared_flags
from shared_flags import Own
import video_flags
from deblur3d import devices
from deblur3d.atomic import atomic_file

flags.adopt_module_key_flags(video_flags)

flags.DEFINE_string("input", None, "Video file, folder of frames, folder of videos, or a photo.")
flags.DEFINE_string("output", None, "Output video (.mp4 .mov .mkv .avi), image (for a photo) or folder.")
shared_flags.define(photos=Own(False, "--input is a folder of photos, each deblurred on its own (not the frames of "
                                      "one video). With --aligned a folder is taken as photos unless --nophotos "
                                      "says it holds one clip's frames."))
flags.DEFINE_string("side_by_side", None, "Also write an input | output video here.")
flags.DEFINE_string("contact_sheet", None, "Also write a PNG of a few frames (input | output, whole and face, "
                    "then the face's change amplified).")
flags.DEFINE_string("report", None, "Also write each input's summary as JSON here (frames, faces, time, warnings, "
                    "the correction's incoherence beside a static unsharp mask's).")
shared_flags.define("max_frames")
flags.DEFINE_float("fps", None, "Frame rate of a frame-folder input (default 25; videos keep their own).")
flags.DEFINE_bool("strict", False, "Exit with status 1 when a video ends before the frame count its container "
                  "declares (a truncated or partly corrupt file); by default the frames read are deblurred and "
                  "written, with a warning line, and the exit status is 0.")
flags.mark_flags_as_required(["input", "output"])
FLAGS = flags.FLAGS


def suffixed(path, name, several):
    """With several inputs, one side-by-side / sheet per input: <stem>-<name><suffix>."""
    if path is None or not several:
        return path
    path = Path(path)
    return path.with_name(f"{path.stem}-{name}{path.suffix}")


def main(_):
    from deblur3d.video import io

    spec, config = video_flags.model_spec(), video_flags.video_config()
    header = spec.check()   # a missing weights file fails now, not after finding the faces
    blur = header.blur
    if blur:
        kind = "with head / camera motion" if blur.get("motion") else "frame averages"
        print(f"model {spec.weights}: trained on synthetic blur ({blur['window']}-frame {kind}, stacks "
              f"{blur.get('stride', 1)} frames apart; {'?' if header.steps is None else header.steps} steps); real blur may differ")
    jobs = io.plan(FLAGS.input, FLAGS.output, photos())
    several = len(jobs) > 1
    for flag, kinds in (("side_by_side", io.LOSSY + io.LOSSLESS), ("contact_sheet", io.IMAGE_SUFFIXES),
                        ("report", (".json",))):   # refused now, not after the work
        if FLAGS[flag].value and Path(FLAGS[flag].value).suffix.lower() not in kinds:
            raise io.BadInput(f"--{flag}={FLAGS[flag].value}: use a {' / '.join(kinds)} file")
    io.refuse_overwriting(jobs, [src for src, _ in jobs], [suffixed(p, Path(src).stem, several) for src, _ in jobs
                                                           for p in (FLAGS.side_by_side, FLAGS.contact_sheet)]
                          + [FLAGS.report])
    print(f"deblurring on {devices.describe()}, precision {spec.precision}")   # stdout: stderr is for errors
    failed, short, reports = [], [], []
    for src, out in jobs:
        try:
            report, ended_early = deblur_one(src, out, spec, config, several)
            reports.append(dict(dataclasses.asdict(report), input=str(src), output=str(out)))
            short += ended_early
        except video_flags.USER_ERRORS as err:
            if not several:
                raise
            print(f"error: {err}", file=sys.stderr)   # the other videos of the folder still run
            failed.append(Path(src).name)
    if FLAGS.report:
        with atomic_file(Path(FLAGS.report)) as tmp:
            # No score (nan: no two consecutive face frames) is null, which every JSON reader takes.
            tmp.write_text(json.dumps(no_nan(dict(videos=reports, failed=failed)), indent=1, allow_nan=False) + "\n")
    if failed:
        sys.exit(f"error: {len(failed)} of {len(jobs)} {'photos' if photos() else 'videos'} failed: "
                 f"{', '.join(failed)}")
    if short and FLAGS.strict:
        sys.exit(f"error: --strict: {', '.join(short)} ended before the frame count the container declares")


def photos():
    """Whether --input is a folder of photos: --photos, or (as GFPGAN's --aligned) a folder of
    aligned crops, each its own face, unless --nophotos says they are one clip's frames."""
    from deblur3d.video import io
    if FLAGS["photos"].present or not FLAGS.aligned:
        return FLAGS.photos
    folder = Path(FLAGS.input)
    return folder.is_dir() and any(p.suffix.lower() in io.IMAGE_SUFFIXES for p in folder.iterdir())


def deblur_one(src, out, spec, config, several):
    """One input -> its output; returns the report, and [name] when it ended before its declared length."""
    from deblur3d.video import io, pipeline
    source = io.open_input(src, FLAGS.fps, FLAGS.max_frames or None, FLAGS.max_side)
    report = pipeline.deblur_video(source, out, spec, config,
                                   side_by_side=suffixed(FLAGS.side_by_side, source.name, several),
                                   contact_sheet=suffixed(FLAGS.contact_sheet, source.name, several),
                                   log=lambda line: print(line, file=sys.stderr))
    print(f"{out}: {report.frames} frames at {report.fps:g} fps, {report.faces} face(s) in {report.face_frames} "
          f"frames ({report.faces_deblurred} deblurred, {report.faces_left_alone} already sharp), {report.seconds:.1f} s "
          f"({report.frames / max(report.seconds, 1e-9):.2f} frames/s){incoherence(report.flicker)}")
    if source.is_video and report.frames < source.length:
        print(f"warning: {src}: read {report.frames} of the {source.length} frames its container declares (the rest "
              f"cannot be decoded); the {report.frames} were deblurred and written"
              f"{'' if FLAGS.strict else ' (--strict makes this an error)'}", file=sys.stderr)
        return report, [Path(src).name]
    return report, []


def no_nan(value):
    if isinstance(value, dict):
        return {k: no_nan(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [no_nan(v) for v in value]
    return None if isinstance(value, float) and value != value else value


def incoherence(flicker):
    """The summary's words for CorrectionFlicker's result (no sharp frames needed); nothing
    when no face was changed (no correction, no score)."""
    if not flicker or flicker["frames"] == 0 or not math.isfinite(flicker["output"]):
        return ""
    return (f"; the correction changes by {flicker['output']:.2f} of its size from frame to frame "
            f"(a static unsharp mask: {flicker['unsharp']:.2f}; lower is steadier)")


if __name__ == "__main__":
    cli.run(main)
