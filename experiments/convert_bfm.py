"""Build BFM_model_front.mat (35,709 vertices) from the official Basel Face Model 2009 downloads.

Put in one folder (--bfm_dir):
  01_MorphableModel.mat   from the University of Basel (registration required), and
  Exp_Pca.bin             the expression basis of Guo et al. (see Deep3DFaceReconstruction's README).
The Deep3DFaceReconstruction index files (BFM_front_idx.mat, BFM_exp_idx.mat, facemodel_info.mat,
std_exp.txt) are taken from --bfm_dir when present there, otherwise from the data folder's
bfm-topology/. The result is written to --bfm_dir/BFM_model_front.mat; --bfm_dir defaults to
<data root>/bfm, where `load_face_model("bfm")` looks for it.

    python experiments/convert_bfm.py --bfm_dir=/path/to/BFM
"""
import sys
from pathlib import Path

from absl import app, flags

import cli
import shared_flags
from shared_flags import Own

from deblur3d import paths

_INPUTS = {  # flag -> (file name, also looked for in bfm-topology/, what it is)
    "morphable_model": ("01_MorphableModel.mat", False, "official BFM09 model"),
    "exp_pca": ("Exp_Pca.bin", False, "expression basis of Guo et al."),
    "std_exp": ("std_exp.txt", True, "expression standard deviations"),
    "front_idx": ("BFM_front_idx.mat", True, "front vertices in the expression mesh"),
    "exp_idx": ("BFM_exp_idx.mat", True, "expression-mesh vertices in BFM09"),
    "facemodel_info": ("facemodel_info.mat", True, "triangles, point_buf, landmarks, masks"),
}

shared_flags.define("data_dir")
flags.DEFINE_string("bfm_dir", None, "Folder holding the official downloads (and optionally the index "
                    "files); default: <data root>/bfm.")
for _flag, (_name, _, _what) in _INPUTS.items():
    flags.DEFINE_string(_flag, None, f"{_what}; default: {_name} in --bfm_dir")
shared_flags.define(out=Own(None, "Output .mat; default: BFM_model_front.mat in --bfm_dir."))
FLAGS = flags.FLAGS


def _input_path(flag, bfm_dir, data_root):
    name, shared, what = _INPUTS[flag]
    if FLAGS[flag].value:
        return Path(FLAGS[flag].value)
    candidates = [bfm_dir / name]
    if shared and data_root:
        candidates.append(data_root / "bfm-topology" / name)
    for path in candidates:
        if path.is_file():
            return path
    raise app.UsageError(f"{name} ({what}) not found in {' or '.join(map(str, candidates))}; "
                         f"pass --{flag}")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    from deblur3d.face import bfm  # here, not at the top: --help need not start TensorFlow

    data_root = Path(FLAGS.data_dir) if FLAGS.data_dir else paths.default_data_root()
    if not FLAGS.bfm_dir and not data_root:
        raise app.UsageError("no data folder found: pass --bfm_dir (or --data_dir)")
    bfm_dir = Path(FLAGS.bfm_dir) if FLAGS.bfm_dir else data_root / "bfm"
    inputs = {flag: _input_path(flag, bfm_dir, data_root) for flag in _INPUTS}
    out = Path(FLAGS.out) if FLAGS.out else bfm_dir / "BFM_model_front.mat"
    try:
        bfm.convert_official(inputs["morphable_model"], inputs["exp_pca"], inputs["std_exp"],
                             inputs["front_idx"], inputs["exp_idx"], inputs["facemodel_info"], out,
                             progress=True)
        model = bfm.load_front_mat(out)
    except (bfm.BFMFileError, FileNotFoundError) as err:  # bad input: the message suffices
        sys.exit(f"error: {err}")
    print(f"wrote {out}: {model.num_vertices} vertices, {model.num_triangles} triangles")


if __name__ == "__main__":
    cli.run(main)
