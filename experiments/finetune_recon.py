"""Fine-tunes the reconstruction branch with the rendering loss L_r (paper Eq. 3).

The input is the blurry centre frame's aligned crop, the target the sharp crop; by
default L_r alone, as in the paper (`--terms` adds the weak-supervision terms).

    python experiments/finetune_recon.py --init_weights=runs/recon_pretrain/recon.weights.npz
"""
from absl import flags

import cli
import shared_flags
import recon_flags

flags.adopt_module_key_flags(recon_flags)

shared_flags.define(init_weights="runs/recon_pretrain/recon.weights.npz")


def main(_):
    from deblur3d.recon import training
    config = recon_flags.config("finetune", "runs/recon_finetune", flags.FLAGS.init_weights)
    recon_flags.train_flags.one_line_stop(lambda: training.train(config))


if __name__ == "__main__":
    cli.run(main)
