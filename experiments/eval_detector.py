"""How many faces dlib's HOG detector misses on blurry frames, and how many of those the CNN
detector finds (the video tool's --cnn_fallback), at what time per frame.

    python experiments/eval_detector.py            # make eval's val frames, blurred as it blurs them

Every --every-th val frame of the data cache, blurred with the preset (each frame's motion
fixed, as make eval; the authors' vd001 keeps its own blur), the whole frame at the video
tool's detection size (--detect_side).
A face counts as found when a box overlaps the cached face (IoU of its 68 points' box) by 0.3.
"""
import time

import numpy as np
from absl import flags

import cli
import data_flags
import shared_flags
from deblur3d.data import faces
from deblur3d.data.cache import Cache
from deblur3d.data.samples import centre_blurry_frames
from deblur3d.video.tracks import TrackConfig

flags.adopt_module_key_flags(data_flags)
shared_flags.define("cache_dir", "every")
shared_flags.define("split", "detect_side")
FLAGS = flags.FLAGS


def found(boxes, truth):
    return any(faces.iou(b, truth) >= 0.3 for b in boxes)


def main(_):
    annotator = faces.FaceAnnotator(FLAGS.detect_side)
    counts, seconds = dict(frames=0, hog=0, cnn_on_misses=0), dict(hog=0.0, cnn=0.0)
    for run in Cache(FLAGS.cache_dir).runs(FLAGS.split):
        picked = range(0, run.meta["frames"], FLAGS.every)
        points68 = run.array("points68")
        blurred = ((run.array("blurry")[t] / 255.0 for t in picked) if run.has("blurry")   # the authors' own blur
                   else centre_blurry_frames(run, data_flags.blur_config(), picked))
        for t, blurry in zip(picked, blurred):
            rgb, truth = np.round(blurry * 255).astype(np.uint8), faces.points_box(points68[t])
            start = time.perf_counter()
            hog = found(annotator.detect(rgb), truth)
            seconds["hog"] += time.perf_counter() - start
            counts["frames"] += 1
            counts["hog"] += hog
            if not hog:
                start = time.perf_counter()
                counts["cnn_on_misses"] += found(annotator.detect_cnn(rgb), truth)
                seconds["cnn"] += time.perf_counter() - start
    misses = counts["frames"] - counts["hog"]
    print(f"{FLAGS.split}, one frame in {FLAGS.every}, blur {FLAGS.blur}: {counts['frames']} frames; HOG finds the face "
          f"in {counts['hog']} ({seconds['hog'] / max(counts['frames'], 1) * 1000:.0f} ms a frame); of its {misses} "
          f"misses the CNN detector finds {counts['cnn_on_misses']} "
          f"({seconds['cnn'] / max(misses, 1):.2f} s a frame it runs on)")


if __name__ == "__main__":
    cli.run(main)
