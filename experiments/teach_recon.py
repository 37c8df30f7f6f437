"""Trains ReconNet on people: the faces corpus and the train clips, taught by dlib's 68
points, the MediaPipe teacher's 468 and the face model fitted to both (not in the paper,
whose network comes pretrained by Deng et al.; docs/model.md). Resumable: rerun with the
same --run_dir. Then `finetune_recon.py --init_weights=<its export>` runs the paper's Eq. 3.

    python experiments/label_faces.py --split=train
    python experiments/teach_recon.py --labels=cache/recon_labels/train.npz --steps=6000 \\
        --learning_rate=3e-4 --decay_every=2500
"""
from absl import flags

import cli
import recon_flags
import shared_flags

flags.adopt_module_key_flags(recon_flags)
shared_flags.define(init_weights=None)


def main(_):
    from deblur3d.recon import training
    config = recon_flags.config("teacher", "runs/recon_teacher", flags.FLAGS.init_weights)
    recon_flags.train_flags.one_line_stop(lambda: training.train(config))


if __name__ == "__main__":
    cli.run(main)
