"""BFM09 front model: conversion from synthetic official-format files on the real topology."""
import shutil

import numpy as np
import pytest
import scipy.io

from deblur3d import paths
from deblur3d.face import bfm

NUM_BFM, NUM_EXP_MESH = 53490, 53215  # vertices of BFM09 and of the Guo et al. expression mesh
NUM_PC, NUM_EXP_PC = 199, 79          # components in the official files


def _topology_dir():
    root = paths.default_data_root()
    folder = root / "bfm-topology" if root else None
    if folder is None or not (folder / "facemodel_info.mat").is_file():
        pytest.skip("no bfm-topology/ in the data folder ($DEBLUR3D_DATA or ../shared/data)")
    return folder


@pytest.fixture(scope="module")
def official(tmp_path_factory):
    """Official-layout inputs (random bases, vertex-id-encoding means) and their conversion."""
    topo = _topology_dir()
    tmp = tmp_path_factory.mktemp("bfm")
    rng = np.random.default_rng(0)
    # Mean coordinate = vertex id + axis/4 (exact in float32): reveals which vertex was gathered.
    encoded = (np.arange(NUM_BFM)[:, None] + np.arange(3) / 4).reshape(-1, 1).astype(np.float32)
    src = {
        "shapeMU": encoded, "texMU": encoded + 1000,
        "shapePC": rng.standard_normal((3 * NUM_BFM, NUM_PC), np.float32),
        "texPC": rng.standard_normal((3 * NUM_BFM, NUM_PC), np.float32),
        "shapeEV": rng.uniform(1e3, 1e5, (NUM_PC, 1)).astype(np.float32),
        "texEV": rng.uniform(1, 100, (NUM_PC, 1)).astype(np.float32),
    }
    scipy.io.savemat(tmp / "01_MorphableModel.mat", src)
    exp_mean = rng.standard_normal(3 * NUM_EXP_MESH, np.float32)
    exp_pc = rng.standard_normal((NUM_EXP_PC, 3 * NUM_EXP_MESH), np.float32)  # component-major
    with open(tmp / "Exp_Pca.bin", "wb") as f:
        np.array([NUM_EXP_PC], "<i4").tofile(f)
        exp_mean.astype("<f4").tofile(f)
        exp_pc.astype("<f4").tofile(f)
    out = tmp / "BFM_model_front.mat"
    written = bfm.convert_official(tmp / "01_MorphableModel.mat", tmp / "Exp_Pca.bin", topo / "std_exp.txt",
                                   topo / "BFM_front_idx.mat", topo / "BFM_exp_idx.mat",
                                   topo / "facemodel_info.mat", out)
    yield dict(
        src=src, exp_pc=exp_pc, written=written, front=scipy.io.loadmat(out),
        model=bfm.load_front_mat(out), std=np.loadtxt(topo / "std_exp.txt"),
        idx=scipy.io.loadmat(topo / "BFM_front_idx.mat")["idx"][:, 0].astype(int),
        trim=scipy.io.loadmat(topo / "BFM_exp_idx.mat")["trimIndex"][:, 0].astype(int),
        select=scipy.io.loadmat(topo / "select_vertex_id.mat")["select_id"][:, 0].astype(int),
        info=scipy.io.loadmat(topo / "facemodel_info.mat"))
    shutil.rmtree(tmp)  # ~400 MB of synthetic inputs and output


def test_front_mat_layout(official):
    front, info = official["front"], official["info"]
    v = len(official["idx"])
    t = len(info["tri"])
    expected = {"meanshape": (1, 3 * v), "idBase": (3 * v, 80), "exBase": (3 * v, 64), "meantex": (1, 3 * v),
                "texBase": (3 * v, 80), "tri": (t, 3), "point_buf": (v, 8), "keypoints": (1, 68),
                "frontmask2_idx": (27660, 1), "skinmask": (1, v), "tri_mask2": (54681, 3)}
    assert {k: front[k].shape for k in expected} == expected
    assert set(official["written"]) == set(expected)
    for name, value in official["written"].items():  # the returned dict is what was saved
        assert value.dtype == np.float32 and np.array_equal(front[name], value), name
    for name in bfm.INFO_FIELDS:  # copied unchanged, still 1-based
        np.testing.assert_array_equal(front[name], info[name])


def test_mean_shape_gathers_trim_index_of_front_index(official):
    # meanshape / texture decode to the BFM09 vertex each front vertex came from.
    front, select = official["front"], official["select"]
    code = front["meanshape"].reshape(-1, 3) * bfm.UNITS_PER_DECIMETRE
    np.testing.assert_allclose(code, (select - 1)[:, None] + np.arange(3) / 4, atol=0.02)
    # select_vertex_id.mat is Deep3D's own trimIndex[idx - 1], stored separately: an independent check.
    np.testing.assert_array_equal(select, official["trim"][official["idx"] - 1])
    np.testing.assert_array_equal(front["meantex"].reshape(-1, 3),
                                  (select - 1)[:, None] + np.arange(3) / 4 + 1000)


@pytest.mark.parametrize("j", [0, 1, 12345, 35708])
def test_bases_by_hand(official, j):
    src, front, idx, trim = official["src"], official["front"], official["idx"], official["trim"]
    e = idx[j] - 1         # vertex in the expression mesh
    b = trim[e] - 1        # vertex in BFM09
    for axis in range(3):
        row, bfm_row, exp_row = 3 * j + axis, 3 * b + axis, 3 * e + axis
        np.testing.assert_allclose(front["idBase"][row],
                                   src["shapePC"][bfm_row, :80] * src["shapeEV"][:80, 0] / 1e5, rtol=1e-6)
        np.testing.assert_allclose(front["texBase"][row],
                                   src["texPC"][bfm_row, :80] * src["texEV"][:80, 0], rtol=1e-6)
        # Exp_Pca.bin is component-major: column c of exBase is component c of the file.
        np.testing.assert_allclose(front["exBase"][row],
                                   official["exp_pc"][:64, exp_row] * official["std"][:64] / 1e5, rtol=1e-6)
        # Expression mean dropped (docs/reproduction.md §2; Deep3D transferBFM09).
        assert front["meanshape"][0, row] == np.float32(src["shapeMU"][bfm_row, 0] / 1e5)


def test_face_model_conventions(official):
    model, front, info = official["model"], official["front"], official["info"]
    v, t = model.num_vertices, model.num_triangles
    assert (v, t) == (35709, 70789)
    mean = front["meanshape"].reshape(v, 3).astype(np.float64)
    np.testing.assert_allclose(model.mean_shape, mean - mean.mean(axis=0), atol=1e-6)
    np.testing.assert_allclose(model.mean_shape.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_array_equal(model.id_basis[7, 100], front["idBase"][300:303, 7])
    np.testing.assert_array_equal(model.exp_basis[63, v - 1], front["exBase"][-3:, 63])
    np.testing.assert_allclose(model.albedo_basis[5, 2], front["texBase"][6:9, 5] / 255, rtol=1e-6)
    np.testing.assert_allclose(model.mean_albedo, front["meantex"].reshape(v, 3) / 255, rtol=1e-6)
    np.testing.assert_array_equal(model.triangles, info["tri"] - 1)
    np.testing.assert_array_equal(model.landmarks, info["keypoints"][0] - 1)
    assert model.skin_mask.sum() == 9642 and model.photo_mask.sum() == 27660
    np.testing.assert_array_equal(np.flatnonzero(model.photo_mask), np.flatnonzero(info["frontmask2"][0]))
    dtypes = (model.id_basis.dtype, model.triangles.dtype, model.point_buf.dtype)
    assert dtypes == (np.float32, np.int32, np.int32)


def test_point_buf_padding_reads_zero_normal(official):
    model = official["model"]
    t = model.num_triangles
    pad = model.point_buf == t
    assert model.point_buf.max() == t and pad.sum() == 73305  # 70790 (1-based) padding -> T
    np.testing.assert_array_equal(pad, official["info"]["point_buf"] == t + 1)
    verts = np.random.default_rng(1).standard_normal((1, model.num_vertices, 3)).astype(np.float32)
    got = model.normals(verts).numpy()[0]
    a, b, c = (verts[0][model.triangles[:, k]] for k in range(3))
    face = np.cross(b - a, c - b)
    face /= np.linalg.norm(face, axis=1, keepdims=True)
    summed = np.where(pad[..., None], 0.0, face[np.minimum(model.point_buf, t - 1)]).sum(axis=1)
    np.testing.assert_allclose(got, summed / np.linalg.norm(summed, axis=1, keepdims=True), atol=1e-4)


# --- one-line errors, on a tiny hand-made front file (4 vertices, 2 triangles)


def _tiny_front():
    v, t = 4, 2
    return {"meanshape": np.arange(3 * v, dtype=np.float32)[None], "idBase": np.ones((3 * v, 80), np.float32),
            "exBase": np.ones((3 * v, 64), np.float32), "meantex": np.full((1, 3 * v), 255, np.float32),
            "texBase": np.ones((3 * v, 80), np.float32), "tri": np.array([[1, 2, 3], [1, 3, 4]], np.float32),
            "point_buf": np.array([[1, 2], [1, 3], [1, 2], [2, 3]], np.float32),
            "keypoints": np.tile(np.arange(1, v + 1, dtype=np.float32), 17)[None],
            "frontmask2_idx": np.array([[1], [3]], np.float32),
            "skinmask": np.array([[1, 0, 0, 1]], np.float32),
            "tri_mask2": np.array([[1, 2, 1]], np.float32)}


def test_tiny_front_loads(tmp_path):
    scipy.io.savemat(tmp_path / "f.mat", _tiny_front())
    model = bfm.load_front_mat(tmp_path / "f.mat")
    np.testing.assert_array_equal(model.point_buf, [[0, 1], [0, 2], [0, 1], [1, 2]])
    np.testing.assert_array_equal(model.photo_mask, [True, False, True, False])
    np.testing.assert_array_equal(model.mean_albedo, 1.0)


@pytest.mark.parametrize("name, value, expected", [
    ("idBase", None, "field 'idBase' is missing"),
    ("idBase", np.ones((12, 79)), "field 'idBase' has shape (12, 79), expected (3V, 80) with V=4"),
    ("exBase", np.ones((9, 64)), "field 'exBase' has shape (9, 64), expected (3V, 64) with V=4"),
    ("meanshape", np.ones((1, 13)), "field 'meanshape' has shape (1, 13), expected (1, 3V)"),
    ("point_buf", np.ones((3, 8)), "field 'point_buf' has shape (3, 8), expected (V, *) with V=4"),
    ("keypoints", np.ones((1, 67)), "field 'keypoints' has shape (1, 67), expected (1, 68)"),
    ("tri", np.array([[0, 1, 2]]), "field 'tri' must hold integer ids in 1..4, found 0..2"),
    ("point_buf", np.full((4, 2), 4), "field 'point_buf' must hold integer ids in 1..3, found 4..4"),
])
def test_one_line_field_errors(tmp_path, name, value, expected):
    fields = _tiny_front()
    fields.pop(name) if value is None else fields.update({name: value})
    scipy.io.savemat(tmp_path / "BFM_model_front.mat", fields)
    with pytest.raises(bfm.BFMFileError) as err:
        bfm.load_front_mat(tmp_path / "BFM_model_front.mat")
    assert str(err.value) == "BFM_model_front.mat: " + expected


def test_not_a_mat_and_missing_file(tmp_path):
    (tmp_path / "model.mat").write_text("hello\nworld\n")
    with pytest.raises(ValueError, match=r"^model\.mat: not a readable MATLAB \.mat file") as err:
        bfm.load_front_mat(tmp_path / "model.mat")
    assert "\n" not in str(err.value)
    with pytest.raises(FileNotFoundError, match="no such file"):
        bfm.load_front_mat(tmp_path / "absent.mat")


def test_exp_pca_size_error(tmp_path):
    np.array([79], "<i4").tofile(tmp_path / "Exp_Pca.bin")
    with pytest.raises(bfm.BFMFileError, match=r"expected int32 exp_dim") as err:
        bfm.read_exp_pca(tmp_path / "Exp_Pca.bin", 10)
    assert "\n" not in str(err.value)
