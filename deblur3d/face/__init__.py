"""The 3D face: coefficients, morphable models, shading, camera, rasterization, alignment."""
from pathlib import Path

from deblur3d import paths

FACE_MODELS = ("ict", "bfm")
# Where each model is looked for under the data root when no path is given.
DEFAULT_FILES = {"ict": ("ict-facekit", "ict_facekit_face.npz"), "bfm": ("bfm", "BFM_model_front.mat")}


def default_model_path(name, data_dir=None):
    return paths.data_path(*DEFAULT_FILES[name], root=data_dir)


# The ICT model's learned albedo basis (experiments/build_albedo.py), used when present.
ICT_ALBEDO = paths.ICT_ALBEDO


def load_face_model(name, path=None, data_dir=None, albedo_path=None):
    """'ict' or 'bfm' -> FaceModel, from `path` or the default file under the data root.

    ICT albedo: `albedo_path`, else the learned basis in checkpoints/ when it exists;
    "constant" forces the constant skin colour.
    """
    if name not in FACE_MODELS:
        raise ValueError(f"unknown face model {name!r}; choose one of {', '.join(FACE_MODELS)}")
    path = Path(path) if path else default_model_path(name, data_dir)
    if name == "ict":
        from deblur3d.face.ict import load_ict
        if albedo_path is None and ICT_ALBEDO.exists():
            albedo_path = ICT_ALBEDO
        return load_ict(path, albedo_path=None if albedo_path == "constant" else albedo_path)
    from deblur3d.face.bfm import load_front_mat
    return load_front_mat(path)
