"""Build ict_facekit_face.npz (face region + eyeballs) from an ICT-FaceKit checkout.

--facekit_dir is the repository (https://github.com/ICT-VGL/ICT-FaceKit) or its FaceXModel/
folder, which holds generic_neutral_mesh.obj, identity000.obj ... identity099.obj, the
expression OBJs and vertex_indices.json. The archive has the layout documented in
shared/data/ict-facekit/README.md; deblur3d.face.ict.load_ict reads it.

    python experiments/convert_ict.py --facekit_dir=/path/to/ICT-FaceKit --out=ict_facekit_face.npz
"""
import subprocess
import sys
from pathlib import Path

from absl import app, flags

import cli
import shared_flags
from shared_flags import Own

from deblur3d.face import ict_convert

flags.DEFINE_string("facekit_dir", None, "ICT-FaceKit checkout or its FaceXModel/ folder.", required=True)
shared_flags.define(out=Own("ict_facekit_face.npz", "Output .npz archive."))
flags.DEFINE_string("source_commit", None, "Commit recorded in the archive; default: the checkout's "
                    "git HEAD, else 'unknown'.")
FLAGS = flags.FLAGS


def _git_head(repo):
    if not (repo / ".git").exists():  # only the checkout's own history, never an enclosing repo's
        return "unknown"
    try:
        out = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True)
    except OSError:
        return "unknown"
    return out.stdout.strip() if out.returncode == 0 else "unknown"


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    root = Path(FLAGS.facekit_dir)
    folder = root / "FaceXModel" if (root / "FaceXModel").is_dir() else root
    if not (folder / "vertex_indices.json").is_file():
        raise app.UsageError(
            f"{folder} has no vertex_indices.json: pass the ICT-FaceKit checkout or FaceXModel/")
    commit = FLAGS.source_commit or _git_head(folder.parent)
    try:
        arrays = ict_convert.convert_obj_folder(folder, FLAGS.out, source_commit=commit, progress=True)
    except (ict_convert.ObjTopologyError, FileNotFoundError) as err:  # bad input: the message suffices
        sys.exit(f"error: {err}")
    print(f"wrote {FLAGS.out}: {len(arrays['neutral_vertices'])} face vertices, "
          f"{len(arrays['triangles'])} triangles, {len(arrays['identity_names'])} identities, "
          f"{len(arrays['expression_names'])} + {len(arrays['extra_expression_names'])} expressions, "
          f"{len(arrays['eyeball_orig_index'])} eyeball vertices; commit {commit}")


if __name__ == "__main__":
    cli.run(main)
