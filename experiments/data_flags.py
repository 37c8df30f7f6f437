"""The data flags the scripts share, each defined once with one default: where the data
and the cache are, which frames are scored, and how blurry stacks are made
(-> a blur_settings.BlurConfig). A script adopts them with
`flags.adopt_module_key_flags(data_flags)`."""
import dataclasses

from absl import flags

from deblur3d.data import blur_settings

flags.DEFINE_string("data_dir", None, "Data root (default: $DEBLUR3D_DATA, else ../shared/data; docs/data.md says "
                    "where each input comes from).")
flags.DEFINE_string("cache_dir", None, "Data cache built by `make data` (default cache/data).")
flags.DEFINE_integer("every", 10, "Use one frame in this many of each run (make eval's 10: 106 of the 1,081 val "
                     "frames; 1: all).")

flags.DEFINE_enum("blur", blur_settings.DEFAULT_PRESET, list(blur_settings.PRESETS),
                  "Blur synthesis: realistic = the authors' stacks (windows 5 frames apart) plus head motion "
                  "and camera shake, calibrated on their vd001 pairs (docs/blur.md); authors = their stacks, "
                  "no added motion; paper = the paper's text (5-frame averages one frame apart).")
flags.DEFINE_list("blur_set", [], "Blur settings over the preset, KEY=VALUE (ranges as LO:HI), e.g. "
                  "duty=0.5,head_speed=1:4,noise=0.01,jpeg=60:95,stride=1. Keys: "
                  + ", ".join(f.name for f in dataclasses.fields(blur_settings.BlurConfig)) + ".")
FLAGS = flags.FLAGS


def blur_config():
    return blur_settings.resolve(FLAGS.blur, **blur_settings.parse_overrides(FLAGS.blur_set))
