"""`make demo`: deblurs a face video and shows the result.

Without --video: a val clip of <data root>/videos (never trained on; --clip), blurred as
the training data were (the blur preset: --blur, --blur_set; one trajectory over the clip),
deblurred with the committed checkpoints, and scored against its sharp frames. Writes
to --out: blurry.mp4, deblurred.mp4, side_by_side.mp4 (blurry | deblurred),
contact_sheet.png (blurry | deblurred | sharp, whole frame and face, then the face's
change amplified) and metrics.json (PSNR / SSIM of input and output, whole frame and face
region). About 2 s a frame on 2 CPU cores: the default 120 frames take a few minutes.

With --video=path (make demo VIDEO=path): your own video, into --out as
<name>_deblurred.mp4, <name>_side_by_side.mp4 and <name>_contact_sheet.png (no ground
truth, so no scores). experiments/deblur_video.py has every option.

    python experiments/demo.py
    python experiments/demo.py --video=talk.mp4 --max_frames=0
"""
from absl import flags

import cli
import data_flags
import shared_flags
from shared_flags import Own
import video_flags
from deblur3d.video.demo import DemoConfig   # the flags' defaults come from it

flags.adopt_module_key_flags(video_flags)
flags.adopt_module_key_flags(data_flags)

flags.DEFINE_string("video", None, "Your own video; default: the demo val clip.")
flags.DEFINE_string("clip", DemoConfig.clip, "Demo clip id (a val clip of videos/manifest.csv).")
shared_flags.define(out=Own(DemoConfig.out, "Output folder."))
shared_flags.define(max_frames=DemoConfig.max_frames)
shared_flags.define(seed=Own(DemoConfig.seed, "Seed of the clip's head / camera trajectory."))
FLAGS = flags.FLAGS


def main(_):
    from deblur3d.video.demo import run_demo

    config = DemoConfig(video=FLAGS.video, clip=FLAGS.clip, out=FLAGS.out, max_frames=FLAGS.max_frames or None,
                        blur=data_flags.blur_config(), seed=FLAGS.seed, data_dir=FLAGS.data_dir,
                        max_side=FLAGS.max_side,
                        video_config=video_flags.video_config())
    report, scores = run_demo(config, video_flags.model_spec())
    print(f"wrote {config.out}/: {report.frames} frames, {report.faces} face(s) in {report.face_frames} frames "
          f"({report.faces_deblurred} deblurred, {report.faces_left_alone} already sharp), {report.seconds:.0f} s")
    if scores:
        for region in ("whole_frame", "face_region"):
            r = scores[region]
            print(f"{region.replace('_', ' ')}: input {r['input']['psnr']} dB / {r['input']['ssim']}, "
                  f"output {r['output']['psnr']} dB / {r['output']['ssim']} (gain {r['psnr_gain_db']} dB)")


if __name__ == "__main__":
    cli.run(main)
