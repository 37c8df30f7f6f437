"""ICT-FaceKit OBJ folder -> archive, on a tiny hand-made folder with small region ranges."""
import json

import numpy as np
import pytest

from deblur3d import paths
from deblur3d.face import ict_convert

# 16 vertices: 2..7 face (a 3x2 grid), 10..14 eyeball, the rest outside both regions.
# Polygons: 0 outside (touches face vertices with other texcoords), 1-2 face quads,
# 3 outside, 4-5 eyeball (a quad and a triangle), 6 outside.
NUM_VERTICES = 16
POLYGONS = [
    "f 1/7 2/7 4/8 3/7",
    "f 6/1/1 7/5/1 4/6/1 3/3/1",    # quad (5, 6, 3, 2), texcoords of vertices 2..7 are permuted
    "f 7/5 8/4 5/2 4/6",            # quad (6, 7, 4, 3), another token spelling
    "f 9/8/1 10/8/1 8/7/1",         # vertex 7 again, with a seam texcoord
    "f 11//1 12//1 13//1 14//1",    # eyeball quad, no texcoords
    "f 11 14 15",                   # eyeball triangle
    "f 16/7 1/7 2/7",
]
TEXCOORD_OF_FACE_VERTEX = [2, 5, 1, 0, 4, 3]  # 0-based vt line of face vertices 2..7 in polygons 1-2
TEXCOORDS = np.array([[0.05 + 0.1 * k, 0.9 - 0.1 * k] for k in range(8)])
REGIONS = dict(face_vertices=(2, 7), face_polygons=(1, 2), eyeball_vertices=(10, 14), eyeball_polygons=(4, 5),
               eyeball_part_starts=(10, 12, 13, 14),
               jawlines={"jawline_right": (2, 5), "jawline_left": (4, 7),
                         "jawline_right_extended": (2, 5, 6), "jawline_left_extended": (4, 7, 6)})
EXPRESSIONS = ["jawOpen", "browDown_L"]                # JSON order, not alphabetical
EXTRAS = ["PupilDilate_L", "cheekRaiser_L"]
IDENTITIES = ["identity002", "identity000", "identity001"]
LANDMARKS = [2, 3, 4, 5, 6, 7] * 11 + [7, 2]           # original vertex ids


def _write_obj(path, coords, polygons=POLYGONS):
    lines = [f"v {x} {y} {z}" for x, y, z in coords] + [f"vt {u:.6g} {v:.6g}" for u, v in TEXCOORDS]
    path.write_text("\n".join(["# test mesh", *lines, "vn 0 0 1", "g face", *polygons]) + "\n")


def _write_folder(folder, rng):
    """The folder, and the float32 positions of each OBJ (parsed from the text written)."""
    folder.mkdir()
    positions = {}
    for name in ["generic_neutral_mesh"] + IDENTITIES + EXPRESSIONS + EXTRAS:
        coords = [[f"{x:.6g}" for x in row] for row in rng.uniform(-15, 15, (NUM_VERTICES, 3))]
        _write_obj(folder / f"{name}.obj", coords)
        positions[name] = np.array([[np.float32(float(x)) for x in row] for row in coords])
    (folder / "vertex_indices.json").write_text(json.dumps(
        {"expressions": EXPRESSIONS, "idx_to_landmark_verts": LANDMARKS, "other_key": [1, 2]}))
    return positions


@pytest.fixture()
def converted(tmp_path):
    positions = _write_folder(tmp_path / "FaceXModel", np.random.default_rng(0))
    arrays = ict_convert.convert_obj_folder(tmp_path / "FaceXModel", tmp_path / "out.npz",
                                            source_commit="abc123", **REGIONS)
    return positions, arrays, tmp_path / "out.npz"


def test_topology(converted):
    _, a, _ = converted
    np.testing.assert_array_equal(a["vertex_orig_index"], np.arange(2, 8))
    np.testing.assert_array_equal(a["quads"], [[3, 4, 1, 0], [4, 5, 2, 1]])
    np.testing.assert_array_equal(a["triangles"], [[3, 4, 1], [3, 1, 0], [4, 5, 2], [4, 2, 1]])
    np.testing.assert_array_equal(a["triangle_quad_index"], [0, 0, 1, 1])
    np.testing.assert_array_equal(a["eyeball_orig_index"], np.arange(10, 15))
    np.testing.assert_array_equal(a["eyeball_triangles"], [[0, 1, 2], [0, 2, 3], [0, 3, 4]])
    np.testing.assert_array_equal(a["eyeball_part"], [0, 0, 1, 2, 3])
    for name in ("triangles", "quads", "triangle_quad_index", "eyeball_triangles", "uv_source_index"):
        assert a[name].dtype == np.int32, name
    assert a["eyeball_part"].dtype == np.int8


def test_uv_from_kept_corners(converted):
    _, a, _ = converted
    np.testing.assert_array_equal(a["uv_source_index"], TEXCOORD_OF_FACE_VERTEX)
    np.testing.assert_array_equal(a["uv"], TEXCOORDS[TEXCOORD_OF_FACE_VERTEX].astype(np.float32))
    assert a["uv"].dtype == np.float32


def test_landmarks_and_lists(converted):
    _, a, _ = converted
    np.testing.assert_array_equal(a["landmarks68"], np.array(LANDMARKS) - 2)
    np.testing.assert_array_equal(a["jawline_left_extended"], [2, 5, 4])
    np.testing.assert_array_equal(a["rigid_landmark_ids"], [0, 36, 39, 42, 45, 16, 28, 31, 35])
    assert a["source_repo"] == "ICT-VGL/ICT-FaceKit" and a["source_commit"] == "abc123"


def test_shapes_and_names(converted):
    positions, a, _ = converted
    assert a["identity_names"].tolist() == ["identity000", "identity001", "identity002"]
    assert a["expression_names"].tolist() == EXPRESSIONS
    assert a["extra_expression_names"].tolist() == ["cheekRaiser_L", "PupilDilate_L"]
    np.testing.assert_array_equal(a["neutral_vertices"], positions["generic_neutral_mesh"][2:8])
    np.testing.assert_array_equal(a["eyeball_neutral_vertices"], positions["generic_neutral_mesh"][10:15])
    for group in ict_convert.SHAPE_SETS:
        names = a[f"{group}_names"]
        want = np.stack([positions[n] for n in names])
        np.testing.assert_array_equal(a[f"{group}_vertices"], want[:, 2:8])  # bit-exact float32
        np.testing.assert_array_equal(a[f"eyeball_{group}_vertices"], want[:, 10:15])
        assert a[f"{group}_vertices"].dtype == np.float32


def test_saved_archive_round_trips(converted):
    _, a, path = converted
    with np.load(path) as z:  # allow_pickle stays off
        assert z.files == list(a)
        for name in z.files:
            assert z[name].dtype == a[name].dtype and np.array_equal(z[name], a[name]), name


def test_same_names_and_kinds_as_shared_archive(converted):
    root = paths.default_data_root()
    shared = root / "ict-facekit" / "ict_facekit_face.npz" if root else None
    if shared is None or not shared.is_file():
        pytest.skip("no ict-facekit/ict_facekit_face.npz in the data folder")
    _, a, _ = converted
    with np.load(shared) as z:
        assert set(z.files) == set(a)
        for name in z.files:
            assert (z[name].dtype.kind, z[name].ndim) == (a[name].dtype.kind, a[name].ndim), name
            assert z[name].dtype.kind == "U" or z[name].dtype == a[name].dtype, name


@pytest.mark.parametrize("change, message", [
    (dict(face_polygons=(0, 2)), "face polygon 0 uses vertices outside 2..7"),
    (dict(face_vertices=(0, 7), face_polygons=(0, 2)), "more than one texture coordinate"),
    (dict(face_polygons=(1, 3)), "face polygon 3 uses vertices outside"),
    (dict(eyeball_polygons=(4, 7)), "eyeball vertices 10..14, polygons 4..7, but the mesh has 16 vert"),
    (dict(eyeball_vertices=(10, 16)), "but the mesh has 16 vertices"),
])
def test_region_errors(tmp_path, change, message):
    _write_folder(tmp_path / "f", np.random.default_rng(1))
    with pytest.raises(ict_convert.ObjTopologyError, match=message):
        ict_convert.convert_obj_folder(tmp_path / "f", **{**REGIONS, **change})


def test_topology_mismatch_and_missing_expression(tmp_path):
    _write_folder(tmp_path / "f", np.random.default_rng(2))
    _write_obj(tmp_path / "f" / "identity001.obj", [["0", "0", "0"]] * NUM_VERTICES, POLYGONS[:-1])
    with pytest.raises(ict_convert.ObjTopologyError, match="identity001.obj: topology differs"):
        ict_convert.convert_obj_folder(tmp_path / "f", **REGIONS)
    (tmp_path / "f" / "jawOpen.obj").unlink()
    with pytest.raises(FileNotFoundError, match="jawOpen"):
        ict_convert.convert_obj_folder(tmp_path / "f", **REGIONS)
