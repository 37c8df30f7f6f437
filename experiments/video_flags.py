"""Flags shared by deblur_video.py and demo.py -> ModelSpec, VideoConfig."""
import os

# libav's own messages ("moov atom not found", ...) would precede ours; we say it in one line.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")

from absl import flags  # noqa: E402

from deblur3d.data.readers import BadInput  # noqa: E402
from deblur3d.train.weights import WeightsFileError  # noqa: E402
from deblur3d.video import io  # noqa: E402
import priors_flags  # noqa: E402
import shared_flags  # noqa: E402
from shared_flags import Own  # noqa: E402
from deblur3d.video.model import DEFAULT_WEIGHTS, ModelSpec  # noqa: E402
from deblur3d.video.pipeline import VideoConfig  # noqa: E402
from deblur3d.video.gate import Gate  # noqa: E402
from deblur3d.video.smoothing import FILTERS, Smoothing  # noqa: E402
from deblur3d.video.stabiliser import Stabiliser  # noqa: E402
from deblur3d.video.tracks import TrackConfig  # noqa: E402

flags.adopt_module_key_flags(priors_flags)
_T, _V, _S = TrackConfig(), VideoConfig(), Smoothing()
flags.DEFINE_float("gate", _V.gate.threshold, "Faces whose blur score (0 sharp .. 1 blurry, deblur3d/video/gate.py) "
                   "is below this are left untouched; 0 deblurs every face.")
shared_flags.define(weights=Own(DEFAULT_WEIGHTS, "Deblurring model weights (.weights.npz: DeblurNet, DBN or SRN)."))
flags.DEFINE_integer("min_face", _T.min_face, "Faces narrower than this (px, detector box) are left as they are.")
shared_flags.define("detect_side")
flags.DEFINE_integer("max_gap", _T.max_gap, "Frames a face may go undetected inside its track (deblurred with "
                     "interpolated points); longer gaps end the track.")
flags.DEFINE_bool("aligned", _T.aligned, "The inputs are already aligned face crops (one face filling each frame, "
                  "as GFPGAN's --aligned): no detection, the 68 points are found in the frame's centre.")
flags.DEFINE_bool("cnn_fallback", _T.cnn_fallback, "Where the HOG detector loses a face inside its track, or finds "
                  "none in a photo, try dlib's CNN detector on that frame (slower; not in the paper).")
flags.DEFINE_integer("max_side", io.MAX_SIDE, "Larger frames are refused (memory, time).")
shared_flags.define(crop_size=Own(_V.crop_size, "Faces are deblurred at this size (the training crops': 320)."))
flags.DEFINE_float("feather", _V.feather, "Share of the face region's side over which the correction fades out.")
flags.DEFINE_integer("sheet_frames", _V.sheet_frames, "Frames (rows) of the contact sheet.")
flags.DEFINE_integer("stride", _V.stride, "Frames between the neighbours of the 5-frame stack (default: the stride "
                     "the model was trained with, in its weights header: 5 for the authors' stacks, 1 for the paper's "
                     "text).")
flags.DEFINE_integer("smooth_radius", _S.radius, "Frames either side over which each face's points and the pose, "
                     "expression and light of its 3D priors are smoothed (jitter removed; 0: frame by frame).")
flags.DEFINE_enum("smooth_filter", _S.filter, list(FILTERS), "bilateral keeps real fast moves sharp; gaussian "
                  "smooths everything alike.")
flags.DEFINE_bool("hold_identity", _S.hold_identity, "Hold identity and texture of the priors at their running "
                  "mean along each face's track (ReconNet's per-frame estimate of a face's shape jitters; "
                  "--nohold_identity: each frame's own, as in training).")
flags.DEFINE_float("stabilise", _V.stabiliser.weight, "Blend each face's correction with the previous frame's, "
                   "carried along the input's flow where it is reliable, by a share chosen per track up to this "
                   "ceiling: the smallest that makes the correction as steady as a static unsharp mask's (0 off; "
                   "not in the paper: less flicker, docs/video.md#flicker-without-sharp-frames).")
flags.DEFINE_float("stabilise_sigma", _V.stabiliser.sigma, "Input change (grey levels, 0-255) at which the carried "
                   "share falls to 1/e: where the input changed more (a blur that changed), a frame keeps its own "
                   "correction.")
flags.DEFINE_integer("texture_every", _V.texture_every, "Frames between fits of each face's light and texture to "
                     "the frame for its 3D priors, held between (not in the paper, whose ReconNet gives them per frame; "
                     "1: every frame, as training's priors; docs/video.md).")
shared_flags.define("photo_shift", "precision", "flip_ensemble")
FLAGS = flags.FLAGS


def model_spec():
    return ModelSpec(FLAGS.weights, priors_flags.priors_settings(), FLAGS.data_dir, FLAGS.precision,
                     FLAGS.flip_ensemble)


def video_config():
    tracking = TrackConfig(min_face=FLAGS.min_face, detect_side=FLAGS.detect_side, max_gap=FLAGS.max_gap,
                           aligned=FLAGS.aligned, cnn_fallback=FLAGS.cnn_fallback)
    return VideoConfig(tracking=tracking, crop_size=FLAGS.crop_size, feather=FLAGS.feather,
                       sheet_frames=FLAGS.sheet_frames, stride=FLAGS.stride,
                       smoothing=Smoothing(FLAGS.smooth_radius, FLAGS.smooth_filter, FLAGS.hold_identity),
                       gate=Gate(FLAGS.gate), stabiliser=Stabiliser(FLAGS.stabilise, FLAGS.stabilise_sigma),
                       photo_shift=FLAGS.photo_shift, texture_every=FLAGS.texture_every)


USER_ERRORS = (BadInput, WeightsFileError, OSError, RuntimeError)   # one failed video of a folder: the rest go on
