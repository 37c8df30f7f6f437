"""Speed of the video tool: frames per second with one face, at 360×450 and at 720p.

Everything a run does is timed: finding the faces, the 3D priors, deblurring the face at
320×320, the paste-back and H.264 encoding. The clip is the first frame of the demo clip
(a val identity) scaled to the frame's height and widened with replicated edges, repeated;
one short clip per size is run first so graph tracing is not timed. Committed weights
when present, else a freshly built full DeblurNet and an untrained ReconNet (same cost).

    python experiments/bench_video.py [--frames=10] [--sizes=360x450,720x1280]
"""
import dataclasses
import itertools
import tempfile
import time
from pathlib import Path

from absl import flags

import cli
import shared_flags
from shared_flags import Own
import priors_flags
from deblur3d import paths
from deblur3d.data import readers
from deblur3d.video.demo import DemoConfig, demo_clip

flags.DEFINE_integer("frames", 10, "Timed frames per size.")
flags.DEFINE_list("sizes", ["360x450", "720x1280"], "Frame sizes, height x width.")
shared_flags.define(weights=Own(str(paths.DEBLUR_WEIGHTS), "Deblurring weights (fresh model if absent)."))
flags.DEFINE_list("precisions", ["float32", "mixed_bfloat16"], "DeblurNet compute types to time (--precision of "
                  "deblur_video.py).")
flags.adopt_module_key_flags(priors_flags)   # an absent --recon_weights file: an untrained ReconNet (same cost)
FLAGS = flags.FLAGS


def face_frame(height, width):
    """The demo clip's first frame, scaled to `height`, edges replicated to `width`."""
    import cv2

    rgb = next(readers.read_video(demo_clip(DemoConfig(data_dir=FLAGS.data_dir)).path))
    scaled = cv2.resize(rgb, (round(rgb.shape[1] * height / rgb.shape[0]), height), interpolation=cv2.INTER_AREA)
    extra = max(0, width - scaled.shape[1])
    return cv2.copyMakeBorder(scaled, 0, 0, extra // 2, extra - extra // 2, cv2.BORDER_REPLICATE)[:, :width]


def main(_):
    import numpy as np

    from deblur3d.video import io, pipeline
    from deblur3d.video.gate import Gate
    from deblur3d.video.pipeline import VideoConfig
    from deblur3d.video.model import ModelSpec, untrained_weights
    from deblur3d.deblur.header import ModelHeader

    with tempfile.TemporaryDirectory() as tmp:
        trained = Path(FLAGS.weights).is_file()
        weights = FLAGS.weights if trained else untrained_weights(Path(tmp) / "fresh.weights.npz")
        settings = priors_flags.priors_settings().for_model(ModelHeader.read(weights))
        recon = settings.recon_weights if settings.trained else None
        print(f"model: {weights if trained else 'freshly built full DeblurNet (no trained weights: same cost)'}, "
              f"ReconNet: {recon or 'untrained (same cost)'}")
        # One spec per precision: each loads its model once, for every size.
        specs = {p: ModelSpec(weights, dataclasses.replace(settings, recon_weights=recon), FLAGS.data_dir, p)
                 for p in FLAGS.precisions}
        for size, precision in ((s, p) for p in FLAGS.precisions for s in FLAGS.sizes):
            spec = specs[precision]
            height, width = (int(v) for v in size.lower().split("x"))
            frame = face_frame(height, width)

            def run(count, gate):
                clip = io.ArrayInput(np.repeat(frame[None], count, 0), 25.0, f"{height}x{width}")
                return pipeline.deblur_video(clip, Path(tmp) / "out.mp4", spec, VideoConfig(gate=Gate(gate)),
                                             progress=False, log=lambda _: None)

            run(3, 0.0)   # loads the model, traces this size (3 frames: shorter tracks are dropped)
            # The clip is one sharp frame repeated: the gate's default leaves its face alone.
            for what, gate in (("every face deblurred (--gate=0)", 0.0), ("default gate", Gate().threshold)):
                start = time.perf_counter()
                report = run(FLAGS.frames, gate)
                seconds = time.perf_counter() - start
                print(f"{height}x{width}, {precision}, {report.faces} face, {what}: {FLAGS.frames / seconds:.2f} frames/s "
                      f"({seconds / FLAGS.frames:.2f} s a frame, {FLAGS.frames} frames; {report.faces_left_alone} "
                      f"faces left alone)")
        # The repeated frame cannot flicker: the correction's incoherence on the demo clip's own frames.
        frames = np.stack(list(itertools.islice(readers.read_video(demo_clip(DemoConfig(data_dir=FLAGS.data_dir)).path),
                                                max(FLAGS.frames, 3))))
        report = pipeline.deblur_video(io.ArrayInput(frames, 25.0, "demo clip"), None, specs[FLAGS.precisions[0]],
                                       VideoConfig(gate=Gate(0.0)), progress=False, log=lambda _: None)
        flicker = report.flicker or dict(output=float("nan"), unsharp=float("nan"), frames=0)
        print(f"demo clip, its first {len(frames)} frames, every face deblurred: the correction changes by "
              f"{flicker['output']:.2f} of its size from frame to frame (a static unsharp mask: {flicker['unsharp']:.2f}; "
              f"{flicker['frames']} frame pairs)")


if __name__ == "__main__":
    cli.run(main)
