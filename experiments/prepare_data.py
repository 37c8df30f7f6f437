"""Builds the data cache (`make data`): face clips -> steady sharp face crops, points, split.

    .venv/bin/python experiments/prepare_data.py [--data_dir=../shared/data] [--cache_dir=cache/data]

Prints and saves (<cache_dir>/summary.txt, <cache_dir>/index.json) how many clips and frames each split
keeps, and which frames were dropped and why. The cache appears only when complete.
"""
import logging as std_logging

from absl import flags, logging

import cli
import shared_flags
from shared_flags import Own

from deblur3d.data import cache

D = cache.BuildConfig()
shared_flags.define("data_dir", cache_dir=D.out)
flags.DEFINE_list("sources", list(D.sources),
                  "Inputs: `videos` (<data_dir>/videos, split from its manifest.csv), `300vw-sample` "
                  "(<data_dir>/300vw-sample/vd001, authors' layout), or KIND:PATH[@SPLIT] with KIND one of "
                  "manifest, 300vw, vidtimit, video, frames, authors (e.g. 300vw:/data/300VW@train).")
shared_flags.define(crop_size=Own(D.crop_size, "Side of the stored square face crops (>= the training patch)."))
flags.DEFINE_float("crop_scale", D.crop_scale, "Crop side / median face size (the paper's ~1.6-2x).")
flags.DEFINE_float("max_upscale", D.max_upscale, "Drop runs whose crop would be enlarged more than this.")
flags.DEFINE_integer("min_run_frames", D.min_run_frames, "Keep face runs of at least this many frames.")
flags.DEFINE_integer("max_frames_per_clip", None, "Read at most this many frames of each clip (quick builds).")
flags.DEFINE_list("excluded_clips", list(D.excluded_clips), "Clips skipped unread: by default the soft "
                  "clips of the videos README, not usable as sharp ground truth.")
flags.DEFINE_bool("include_soft_clips", False, "Also use the soft clips (drops them from --excluded_clips).")
flags.DEFINE_enum("authors_split", D.authors_split, ["train", "val"], "Split of the 300VW sample.")
flags.DEFINE_integer("detect_max_side", D.detect_max_side, "Face detection runs on frames reduced to this side.")
flags.DEFINE_string("split_file", D.split_file, "Text file, `<clip id> <split>` a line (e.g. `300vw-001 train`): "
                    "only the clips it names are read, each in its split (docs/data.md#reproducing-on-300vw).")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    std_logging.getLogger("deblur3d").setLevel(std_logging.INFO)
    config = cache.BuildConfig(
        out=FLAGS.cache_dir, data_dir=FLAGS.data_dir,
        sources=tuple(FLAGS.sources), crop_size=FLAGS.crop_size, crop_scale=FLAGS.crop_scale,
        max_upscale=FLAGS.max_upscale, min_run_frames=FLAGS.min_run_frames,
        max_frames_per_clip=FLAGS.max_frames_per_clip,
        excluded_clips=tuple(c for c in FLAGS.excluded_clips
                             if not (FLAGS.include_soft_clips and c in cache.SOFT_CLIPS)),
        authors_split=FLAGS.authors_split, detect_max_side=FLAGS.detect_max_side, split_file=FLAGS.split_file)
    summary = cache.build_cache(config)
    print(cache.format_summary(summary))
    logging.info("cache written to %s", config.out)


if __name__ == "__main__":
    cli.run(main)
