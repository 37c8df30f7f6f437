"""Evaluates the blurry input and deblurring checkpoints: paper Tables 1–3 and figures (`make eval`).

Writes under --out: table1.md + table1.csv (PSNR / SSIM, whole frame and face region, per
method and dataset, with the paper's numbers), table2.md (the priors ablation, rows matched
to checkpoints by their header, with dlib identity similarity), table3.md (seconds per frame
at 360×450 and 580×610, priors included), frames.csv (per-frame values) and figures/*.png
(input | DBN | SRN | ours | sharp for 4 val frames). Conventions: deblur3d/eval/evaluate.py.

    python experiments/evaluate.py                        # every deblurring model in checkpoints/
    python experiments/evaluate.py --checkpoints=full=checkpoints/deblur_full.weights.npz,dbn=runs/dbn/deblur.weights.npz
    python experiments/evaluate.py --every=1 --authors_dir=   # every val frame, no authors' folder
"""

from absl import app, flags

import cli
import data_flags
import priors_flags
import shared_flags
from shared_flags import Own
from deblur3d.eval.evaluate import EvalConfig

flags.adopt_module_key_flags(data_flags)
shared_flags.define("cache_dir", "every")
flags.adopt_module_key_flags(priors_flags)   # the ReconNet of priors computed online
E = EvalConfig()   # every default below comes from it
flags.DEFINE_list("checkpoints", [], "name=path of deblurring weights (DeblurNet, DBN, SRN); default: every "
                  "checkpoints/*.weights.npz whose header is a deblurring model, named by file stem.")
shared_flags.define(split=E.split)
shared_flags.define(authors_dir=E.authors_dir, priors_dir=E.priors_dir)
shared_flags.define(out=Own(E.out, "Output folder."))
flags.DEFINE_integer("figures", E.figures, "Val frames shown in figures/.")
flags.DEFINE_bool("identity", E.identity, "Compute dlib identity similarity (Table 2).")
flags.DEFINE_list("timing_sizes", [f"{h}x{w}" for h, w in E.timing_sizes],
                  "Table 3 frame sizes, height x width; empty: no timing.")
flags.DEFINE_integer("timing_repeats", E.timing_repeats, "Timed calls per model and size (after one warm-up call).")
shared_flags.define("precision", "photo_shift", "flip_ensemble")
shared_flags.define(photos=Own(E.photos, "Deblur every frame as a photo: its stack is its blurry centre frame five "
                                         "times, moved sideways by --photo_shift px per neighbour (what the video "
                                         "tool does with a photo)."))
FLAGS = flags.FLAGS


def config_from_flags():
    data_flags.apply_protocol()
    checkpoints = tuple(tuple(item.split("=", 1)) for item in FLAGS.checkpoints)
    sizes = tuple(tuple(s.lower().split("x")) for s in FLAGS.timing_sizes)
    bad = [item for item, c in zip(FLAGS.checkpoints, checkpoints) if len(c) != 2]
    if bad:
        raise app.UsageError(f"--checkpoints takes name=path items, not {bad[0]!r}")
    if any(len(s) != 2 or not "".join(s).isdigit() for s in sizes):
        raise app.UsageError("--timing_sizes takes HxW items, e.g. 360x450")
    sizes = tuple((int(h), int(w)) for h, w in sizes)
    simple = ("cache_dir", "split", "every", "authors_dir", "priors_dir", "data_dir", "out", "figures", "identity",
              "timing_repeats", "precision", "flip_ensemble", "photos", "photo_shift")
    return EvalConfig(checkpoints=checkpoints, timing_sizes=sizes, blur=data_flags.blur_config(),
                      recon=priors_flags.priors_settings(), **{k: FLAGS[k].value for k in simple})


def main(_):
    from deblur3d.eval.evaluate import evaluate
    evaluate(config_from_flags())   # no cache, no priors, a missing file: one line (cli.py)


if __name__ == "__main__":
    cli.run(main)
