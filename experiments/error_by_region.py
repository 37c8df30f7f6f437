"""Where in the face a deblurring model's error is left: mean squared error (0-255) of the
input and of the model, and the gain, per region of the 68 points (eyes, mouth, brows,
nose, the rest of the face, a 10-pixel band inside the face's outline, and outside the
face), on `make eval`'s val frames.

    python experiments/error_by_region.py                       # the committed deblur_full, preset blur
    python experiments/error_by_region.py --blur=authors        # the authors' stacks alone: no added motion
"""
from absl import flags

import cli
import shared_flags
from shared_flags import Own
import data_flags
import priors_flags
from deblur3d import paths

flags.adopt_module_key_flags(data_flags)
shared_flags.define("cache_dir", "every")
flags.adopt_module_key_flags(priors_flags)
shared_flags.define(weights=Own(str(paths.CHECKPOINTS / "deblur_full.weights.npz"), "Deblurring weights."))
shared_flags.define(priors_dir=str(paths.PRIORS))
FLAGS = flags.FLAGS


def main(_):
    import dataclasses

    import numpy as np
    from deblur3d.deblur.face_deblurrer import load_face_deblurrer
    from deblur3d.eval.evaluate import EvalConfig
    from deblur3d.eval.regions import face_regions
    from deblur3d.eval.sources import cache_source
    from deblur3d.priors.settings import recipe_of

    config = EvalConfig(cache_dir=FLAGS.cache_dir or str(paths.DATA_CACHE), blur=data_flags.blur_config(),
                        priors_dir=FLAGS.priors_dir, every=FLAGS.every)
    source = cache_source(config)
    face = load_face_deblurrer(FLAGS.weights, priors_flags.priors_settings(), FLAGS.data_dir)
    if face.priors is not None:
        face.priors.available()
    # The folder's priors only if made as the model's were (else the model makes its own).
    stored = face.priors is not None and recipe_of(FLAGS.priors_dir) == face.priors.settings.recipe
    sums = {}
    for frame in source.frames():
        priors = (frame["render"][None], frame["identity"][None]) if stored and "render" in frame else (None, None)
        out = face(frame["blurry"][None], frame["points5"][None], *priors)[0]
        errors = [((np.clip(x, 0, 1) - frame["sharp"]) ** 2).mean(-1) * 255.0 ** 2
                  for x in (frame["blurry"][..., 6:9], out)]
        for name, mask in face_regions(frame["points68"], frame["sharp"].shape[:2]).items():
            s = sums.setdefault(name, np.zeros(3))
            s += [errors[0][mask].sum(), errors[1][mask].sum(), mask.sum()]
    face_pixels, face_error = sums["face"][2], sums["face"][1]
    print(f"{source.description}; {FLAGS.weights}; blur {dataclasses.asdict(config.blur)}")
    print("| region | share of face pixels | input MSE | output MSE | gain dB | share of the face's output error |")
    print("|---|---|---|---|---|---|")
    for name, (before, after, n) in sums.items():
        print(f"| {name} | {n / face_pixels:.3f} | {before / n:.1f} | {after / n:.1f} | "
              f"{10 * np.log10(before / after):+.2f} | {after / face_error:.3f} |")


if __name__ == "__main__":
    cli.run(main)
