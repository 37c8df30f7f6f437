"""Basel Face Model 2009, "front" variant of Deng et al. (docs/reproduction.md §2).

`convert_official` builds `BFM_model_front.mat` (the file layout of Deep3DFaceReconstruction)
from the official downloads, which users bring themselves (the BFM licence forbids
redistribution); `load_front_mat` turns that file into a `FaceModel`. Files are MATLAB style:
indices are 1-based, bases are (3V, K) with the x, y, z rows of a vertex adjacent.
"""
from pathlib import Path

import numpy as np
import scipy.io
from tqdm import tqdm

from deblur3d.face import coeffs as coeffs_lib
from deblur3d.face.model import FaceModel

NUM_ID, NUM_EXP, NUM_TEX = (coeffs_lib.SIZES[k] for k in ("identity", "expression", "texture"))
UNITS_PER_DECIMETRE = 1e5  # BFM09 geometry is in micrometres; the model works in decimetres
# facemodel_info.mat fields copied as they are; V = front vertices, T = triangles.
INFO_FIELDS = {"tri": ("T", 3), "point_buf": ("V", "*"), "keypoints": (1, 68),
               "frontmask2_idx": ("*", 1), "tri_mask2": ("*", 3), "skinmask": (1, "V")}


class BFMFileError(ValueError):
    """A BFM input file is unreadable or lacks a field of the expected shape (one-line message)."""


def _loadmat(path, variable_names=None):
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        return scipy.io.loadmat(str(path), variable_names=variable_names)
    except Exception as err:  # scipy raises several unrelated types for non-.mat input
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise BFMFileError(f"{path.name}: not a readable MATLAB .mat file ({reason})") from err


def _field(mat, source, name, expected, dims):
    """mat[name] as float64 with shape `expected`: sizes, '*' (any) or symbols such as 'V', '3V'.

    A symbol's letter not yet in `dims` is bound to the size found, so later fields must agree.
    """
    if name not in mat:
        raise BFMFileError(f"{source}: field {name!r} is missing")
    try:
        value = np.asarray(mat[name], np.float64)
    except (TypeError, ValueError) as err:
        raise BFMFileError(f"{source}: field {name!r} is not numeric") from err
    ok = value.ndim == len(expected)
    for want, got in zip(expected, value.shape if ok else ()):
        if isinstance(want, str) and want != "*":
            unit, scale = want[-1], int(want[:-1] or 1)
            dims.setdefault(unit, got // scale if got % scale == 0 else -1)
            want = scale * dims[unit]
        ok = ok and want in ("*", got)
    if not ok:
        spec = "(" + ", ".join(map(str, expected)) + ")"
        used = sorted({e[-1] for e in expected if isinstance(e, str) and e != "*"})
        known = ", ".join(f"{u}={dims[u]}" for u in used if dims.get(u, -1) >= 0)
        raise BFMFileError(f"{source}: field {name!r} has shape {value.shape}, expected {spec}"
                           + (f" with {known}" if known else ""))
    return value


def _index(value, source, name, high):
    """1-based integer ids in 1..high -> 0-based int32 (or a one-line error)."""
    ids = np.rint(value)
    if ids.size and (np.any(ids != value) or ids.min() < 1 or ids.max() > high):
        raise BFMFileError(f"{source}: field {name!r} must hold integer ids in 1..{high}, "
                           f"found {value.min():g}..{value.max():g}")
    return ids.astype(np.int32) - 1


def _rows(vertex_ids):
    """0-based vertex ids -> the 3 rows (x, y, z) of each in a (3N, ...) MATLAB array."""
    return (3 * np.asarray(vertex_ids)[:, None] + np.arange(3)).ravel()


def read_exp_pca(path, num_vertices):
    """Exp_Pca.bin of Guo et al. -> mean (3N,), components (3N, K) (docs/reproduction.md §2 layout)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    k = int(np.fromfile(path, "<i4", count=1)[0]) if path.stat().st_size >= 4 else 0
    want = 4 + 4 * 3 * num_vertices * (1 + k)
    if k <= 0 or path.stat().st_size != want:
        raise BFMFileError(f"{path.name}: {path.stat().st_size} bytes with exp_dim={k}, expected "
                           f"int32 exp_dim + float32 mean (3·{num_vertices}) + exp_dim × 3·{num_vertices}")
    data = np.fromfile(path, "<f4", offset=4)
    return data[:3 * num_vertices], data[3 * num_vertices:].reshape(k, 3 * num_vertices).T


def convert_official(morphable_model_mat, exp_pca_bin, std_exp_txt, front_idx_mat, exp_idx_mat,
                     facemodel_info_mat, out_mat, progress=False):
    """Official BFM09 + Guo et al. expressions + Deep3D index files -> BFM_model_front.mat.

    Returns the dict written to `out_mat` (MATLAB layout, 1-based indices, float32).
    """
    steps = tqdm(total=5, desc="BFM front model", disable=not progress, postfix="index files")

    def step(next_label):
        steps.update()
        steps.set_postfix_str(next_label)

    dims = {}
    trim = _field(_loadmat(exp_idx_mat), Path(exp_idx_mat).name, "trimIndex", ("E", 1), dims)
    front = _field(_loadmat(front_idx_mat), Path(front_idx_mat).name, "idx", ("V", 1), dims)
    info_mat = _loadmat(facemodel_info_mat, list(INFO_FIELDS))
    info = {name: _field(info_mat, Path(facemodel_info_mat).name, name, shape, dims).astype(np.float32)
            for name, shape in INFO_FIELDS.items()}
    step("reading 01_MorphableModel.mat")

    source = Path(morphable_model_mat).name
    bfm = _loadmat(morphable_model_mat, ["shapeMU", "shapePC", "shapeEV", "texMU", "texPC", "texEV"])
    mu = _field(bfm, source, "shapeMU", ("3B", 1), dims)
    exp_vertex = _index(front, Path(front_idx_mat).name, "idx", dims["E"])[:, 0]
    bfm_vertex = _index(trim, Path(exp_idx_mat).name, "trimIndex", dims["B"])[exp_vertex, 0]
    rows, exp_rows = _rows(bfm_vertex), _rows(exp_vertex)
    step("reading Exp_Pca.bin")

    # The expression mean of Exp_Pca.bin is not used: the notes give meanshape = shapeMU / 1e5,
    # as Deep3DFaceReconstruction's transferBFM09 does (it reads expMU and drops it).
    _, exp_pc = read_exp_pca(exp_pca_bin, dims["E"])
    exp_std = np.loadtxt(std_exp_txt, ndmin=1)
    if exp_std.shape != (exp_pc.shape[1],) or exp_pc.shape[1] < NUM_EXP:
        raise BFMFileError(f"{Path(std_exp_txt).name}: {exp_std.size} values, {Path(exp_pca_bin).name}: "
                           f"exp_dim={exp_pc.shape[1]}; expected one value per component, "
                           f"exp_dim >= {NUM_EXP}")
    step("gathering bases")

    def basis(pc_name, ev_name, count, divisor):
        pc = _field(bfm, source, pc_name, ("3B", "*"), dims)
        ev = _field(bfm, source, ev_name, (pc.shape[1], 1), dims)[:count, 0]
        if pc.shape[1] < count:
            raise BFMFileError(f"{source}: field {pc_name!r} has {pc.shape[1]} columns, expected >= {count}")
        return pc[rows, :count] * ev / divisor

    out = {
        "meanshape": mu[rows].T / UNITS_PER_DECIMETRE,
        "idBase": basis("shapePC", "shapeEV", NUM_ID, UNITS_PER_DECIMETRE),
        "exBase": exp_pc[exp_rows, :NUM_EXP] * exp_std[:NUM_EXP] / UNITS_PER_DECIMETRE,
        "meantex": _field(bfm, source, "texMU", ("3B", 1), dims)[rows].T,
        "texBase": basis("texPC", "texEV", NUM_TEX, 1.0),  # texture stays in 0-255
    }
    out = {name: value.astype(np.float32) for name, value in out.items()}
    out.update(info)
    step("writing " + Path(out_mat).name)
    Path(out_mat).parent.mkdir(parents=True, exist_ok=True)
    scipy.io.savemat(str(out_mat), out)
    steps.update()
    steps.close()
    return out


def load_front_mat(path):
    """BFM_model_front.mat -> FaceModel (0-based ids, (K, V, 3) bases, albedo in [0, 1])."""
    source = Path(path).name
    mat = _loadmat(path)
    dims = {}

    def field(name, *shape):
        return _field(mat, source, name, shape, dims)

    mean = field("meanshape", 1, "3V").reshape(-1, 3)
    v = dims["V"]

    def basis(name, count):  # (3V, K) -> (K, V, 3)
        return field(name, "3V", count).reshape(v, 3, count).transpose(2, 0, 1)

    id_basis, exp_basis = basis("idBase", NUM_ID), basis("exBase", NUM_EXP)
    tex_basis = basis("texBase", NUM_TEX)
    mean_tex = field("meantex", 1, "3V").reshape(v, 3)
    triangles = _index(field("tri", "T", 3), source, "tri", v)
    # 1-based T+1 pads point_buf; after the shift it is T, the zero row FaceModel.normals adds.
    point_buf = _index(field("point_buf", "V", "*"), source, "point_buf", dims["T"] + 1)
    landmarks = _index(field("keypoints", 1, 68), source, "keypoints", v)[0]
    photo_ids = _index(field("frontmask2_idx", "*", 1), source, "frontmask2_idx", v)[:, 0]
    skin = field("skinmask", 1, "V")[0] > 0.5
    photo = np.zeros(v, bool)
    photo[photo_ids] = True
    return FaceModel(
        name="bfm09-front",
        mean_shape=(mean - mean.mean(axis=0)).astype(np.float32),  # docs/reproduction.md §3: centre on the mean shape
        id_basis=id_basis.astype(np.float32),
        exp_basis=exp_basis.astype(np.float32),
        mean_albedo=(mean_tex / 255.0).astype(np.float32),
        albedo_basis=(tex_basis / 255.0).astype(np.float32),
        triangles=triangles,
        point_buf=point_buf,
        landmarks=landmarks,
        skin_mask=skin,
        photo_mask=photo,
    )
