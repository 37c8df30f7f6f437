"""Weakly supervised pretraining of the reconstruction branch on sharp aligned crops.

Losses of Deng et al. (photometric with skin attention, 68 landmarks, coefficient
regulariser, albedo flatness). Resumable: rerun with the same --run_dir.

    python experiments/pretrain_recon.py --run_dir=runs/recon_pretrain --steps=400000
"""
from absl import flags

import cli
import recon_flags

flags.adopt_module_key_flags(recon_flags)


def main(_):
    from deblur3d.recon import training
    recon_flags.train_flags.one_line_stop(lambda: training.train(recon_flags.config("pretrain", "runs/recon_pretrain")))


if __name__ == "__main__":
    cli.run(main)
