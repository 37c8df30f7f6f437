"""The blur flags: how blurry stacks are made (-> a blur_settings.BlurConfig), for the
scripts that make them. A script adopts them with `flags.adopt_module_key_flags(data_flags)`;
where the data and the cache are (--data_dir, --cache_dir) and --every are shared_flags'."""
import dataclasses

from absl import flags

from deblur3d.data import blur_settings

flags.DEFINE_enum("blur", blur_settings.DEFAULT_PRESET, list(blur_settings.PRESETS),
                  "Blur synthesis: realistic = the authors' stacks (windows 5 frames apart) plus head motion "
                  "and camera shake, calibrated on their vd001 pairs (docs/blur.md); authors = their stacks, "
                  "no added motion; paper = the paper's text (5-frame averages one frame apart).")
flags.DEFINE_list("blur_set", [], "Blur settings over the preset, KEY=VALUE (ranges as LO:HI), e.g. "
                  "duty=0.5,head_speed=1:4,noise=0.01,jpeg=60:95,stride=1. Keys: "
                  + ", ".join(f.name for f in dataclasses.fields(blur_settings.BlurConfig)) + ".")
# A protocol sets the data choices of every stage that reads data, as flag values; flags
# given on the command line win (docs/reproduction.md#departures-from-the-paper-and-their-flags).
PROTOCOLS = {
    "paper": dict(blur="paper", every=1, flip=False),     # consecutive 5-frame averages, every frame
    "authors": dict(blur="authors", every=1, flip=False),  # the authors' stacks as measured on vd001
}
flags.DEFINE_enum("protocol", None, list(PROTOCOLS),
                  "Sets the data flags of a protocol in every stage: paper = consecutive 5-frame averages "
                  "(--blur=paper, no added motion), no flip, every frame scored (--every=1); authors = the same "
                  "with the authors' stacks (--blur=authors). Unset: today's defaults "
                  "(docs/reproduction.md). prepare_data accepts it too, so one ARGS serves every stage (its "
                  "cache holds sharp frames whatever the protocol).")
FLAGS = flags.FLAGS


def apply_protocol():
    """Gives the flags of --protocol that the command line did not set their protocol value."""
    for name, value in PROTOCOLS.get(FLAGS.protocol, {}).items():
        if name in FLAGS and not FLAGS[name].present:
            FLAGS[name].value = value


def blur_config():
    apply_protocol()
    return blur_settings.resolve(FLAGS.blur, **blur_settings.parse_overrides(FLAGS.blur_set))
