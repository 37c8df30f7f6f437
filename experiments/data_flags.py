"""The data flags the scripts share, each defined once with one default: where the data
and the cache are, which frames are scored, and how blurry stacks are made
(-> a motion.BlurConfig). A script adopts them with
`flags.adopt_module_key_flags(data_flags)`."""
from absl import flags

from deblur3d.data import motion

flags.DEFINE_string("data_dir", None, "Data root (default: $DEBLUR3D_DATA, else ../shared/data; docs/data.md says "
                    "where each input comes from).")
flags.DEFINE_string("cache_dir", None, "Data cache built by `make data` (default cache/data).")
flags.DEFINE_integer("every", 10, "Use one frame in this many of each run (make eval's 10: 106 of the 1,081 val "
                     "frames; 1: all).")

flags.DEFINE_enum("blur", motion.DEFAULT_PRESET, list(motion.PRESETS),
                  "Blur synthesis: realistic = the authors' stacks (windows 5 frames apart) plus head motion "
                  "and camera shake, calibrated on their vd001 pairs (docs/blur.md); authors = their stacks, "
                  "no added motion; paper = the paper's text (5-frame averages one frame apart).")
flags.DEFINE_list("blur_set", [], "Blur settings over the preset, KEY=VALUE (ranges as LO:HI), e.g. "
                  "duty=0.5,head_speed=1:4,noise=0.01,jpeg=60:95,stride=1. Keys: "
                  + ", ".join(f.name for f in motion.dataclasses.fields(motion.BlurConfig)) + ".")
FLAGS = flags.FLAGS


def blur_config():
    return motion.resolve(FLAGS.blur, **motion.parse_overrides(FLAGS.blur_set))
