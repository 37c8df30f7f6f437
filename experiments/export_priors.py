"""Precomputes the 3D priors of every cached frame (render + 239 coefficients).

As the authors did before training the deblurring branch: ReconNet on the aligned crop
of the blurry centre frame, render pasted back into the frame's geometry.

    python experiments/export_priors.py --recon_weights=checkpoints/recon_ict.weights.npz --out=cache/priors
    python experiments/export_priors.py --refine_landmarks=200 --out=cache/priors_refined   # not in the paper
    python experiments/export_priors.py --refine_landmarks=200 --texture=basis --out=cache/priors_fitted
"""
from absl import flags

import cli
import shared_flags
from shared_flags import Own
import data_flags
import priors_flags
from deblur3d import paths

flags.adopt_module_key_flags(data_flags)
shared_flags.define("cache_dir")
flags.adopt_module_key_flags(priors_flags)

shared_flags.define(out=Own(str(paths.PRIORS), "Output folder (replaced atomically when complete)."))
shared_flags.define(batch_size=Own(16, "Frames per call."))
FLAGS = flags.FLAGS


def main(_):
    from deblur3d.priors.export import export_priors
    from deblur3d.priors.online import build_online_priors

    settings = priors_flags.priors_settings().for_export()   # unset: the default recipe
    online = build_online_priors(settings, FLAGS.data_dir)
    recipe, refiner, annotator = settings.recipe, None, None
    if recipe["refine_landmarks"] > 0:
        from deblur3d.data.faces import FaceAnnotator
        from deblur3d.priors.refine import LandmarkRefiner
        refiner, annotator = LandmarkRefiner(online.renderer, recipe["refine_landmarks"]), FaceAnnotator()
    texture = None
    if recipe["texture"] != "recon":
        from deblur3d.priors.online import OnlineFramePriors
        texture = OnlineFramePriors(settings, FLAGS.data_dir)
        if not texture.available():
            raise SystemExit(f"error: {texture.reason}")
    count = export_priors(online, FLAGS.out, FLAGS.cache_dir, FLAGS.batch_size,
                          note=f"recon_weights={settings.recon_weights}, face_model={FLAGS.face_model}, "
                               f"refine_landmarks={recipe['refine_landmarks']}, texture={recipe['texture']}",
                          blur=data_flags.blur_config(), refiner=refiner, annotator=annotator, texture=texture,
                          recon=recipe["recon"])
    print(f"wrote priors of {count} frames to {FLAGS.out}")


if __name__ == "__main__":
    cli.run(main)
