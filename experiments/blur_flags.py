"""The blur flags every script that makes blurry stacks shares -> a motion.BlurConfig."""
from absl import flags

from deblur3d.data import motion

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
