"""ICT-FaceKit `FaceXModel/` OBJ folder -> the archive layout of `ict_facekit_face.npz`.

Keeps ICT's narrow face area and the eyeball meshes (region tables of the ICT README, given
here as inclusive index ranges), re-indexed to 0..n-1. Shapes are full vertex positions (not
deltas), float32, in the OBJ's centimetres. See the archive's README for every array.
"""
import json
import re
from pathlib import Path

import numpy as np
from tqdm import tqdm

SOURCE_REPO = "ICT-VGL/ICT-FaceKit"
NEUTRAL = "generic_neutral_mesh"
# Inclusive (first, last) ranges from the ICT README's region tables.
FACE_VERTICES, FACE_POLYGONS = (0, 6705), (0, 6559)               # "Narrow face area"
EYEBALL_VERTICES, EYEBALL_POLYGONS = (21451, 24590), (21496, 24691)
# First vertex of each eyeball part: sclera left, iris left, sclera right, iris right (the
# boundaries of `eyeball_part` in the shared archive).
EYEBALL_PART_STARTS = (21451, 22221, 23021, 23791)
# Lists printed in the ICT README (original vertex ids; rigid ids are positions in the 68 list).
JAWLINES = {
    "jawline_right": (1278, 1272, 12, 1834, 243, 781, 2199, 1447),
    "jawline_left": (3661, 4390, 3022, 2484, 4036, 2253, 3490, 3496),
    "jawline_right_extended": (1280, 1278, 1275, 1272, 1248, 12, 820, 1834, 1902, 243, 844, 781, 1673,
                               2199, 801, 1447, 800),
    "jawline_left_extended": (3041, 3661, 3042, 4390, 3880, 3022, 3085, 2484, 4102, 4036, 3061, 2253,
                              3466, 3490, 3493, 3496, 3498),
}
RIGID_LANDMARK_IDS = (0, 36, 39, 42, 45, 16, 28, 31, 35)
SHAPE_SETS = ("identity", "expression", "extra_expression")


class ObjTopologyError(ValueError):
    """The OBJ folder does not have the layout the conversion assumes."""


def read_obj(path):
    """OBJ -> (vertices (N, 3) float32, texcoords (M, 2) float32, polygons as lists of 'f' tokens).

    Decimal text is parsed to float64, then rounded to float32: for inputs of up to 8
    significant digits this equals rounding the decimal straight to float32.
    """
    verts, texcoords, polygons = [], [], []
    with open(path) as f:
        for line in f:
            if line.startswith("v "):
                verts.append(line.split()[1:4])
            elif line.startswith("vt "):
                texcoords.append(line.split()[1:3])
            elif line.startswith("f "):
                polygons.append(line.split()[1:])
    return _float32(verts, 3), _float32(texcoords, 2), polygons


def _float32(rows, width):
    return np.array(rows, np.float64).reshape(-1, width).astype(np.float32)


def _vertex_tokens(polygons):
    # The vertex part of each 'f' token: compares topology, not how a file spells its corners.
    return [[token.split("/", 1)[0] for token in polygon] for polygon in polygons]


def _corners(polygon, path):
    """'f' tokens (v, v/vt, v//vn, v/vt/vn) -> [(vertex, texcoord or -1)], 0-based."""
    out = []
    for token in polygon:
        parts = token.split("/")
        v, vt = int(parts[0]), int(parts[1]) if len(parts) > 1 and parts[1] else 0
        if v < 1 or vt < 0:
            raise ObjTopologyError(f"{path}: OBJ indices must be positive (relative ones are not "
                                   f"supported): {token!r}")
        out.append((v - 1, vt - 1))
    return out


def _region(polygons, num_vertices, vertex_range, polygon_range, path, name):
    """Polygons of a region -> (corner lists re-indexed into the region, original vertex ids)."""
    (v0, v1), (p0, p1) = vertex_range, polygon_range
    if p1 >= len(polygons) or v1 >= num_vertices:
        raise ObjTopologyError(f"{path}: {name} vertices {v0}..{v1}, polygons {p0}..{p1}, but the mesh "
                               f"has {num_vertices} vertices, {len(polygons)} polygons")
    region = [_corners(p, path) for p in polygons[p0:p1 + 1]]
    for i, poly in enumerate(region):
        if any(not v0 <= v <= v1 for v, _ in poly):
            raise ObjTopologyError(f"{path}: {name} polygon {p0 + i} uses vertices outside {v0}..{v1}")
    return [[(v - v0, vt) for v, vt in poly] for poly in region], np.arange(v0, v1 + 1, dtype=np.int32)


def _fan(polygons):
    """Polygons -> triangles (a, b, c), (a, c, d), ... keeping the winding; and the polygon of each."""
    tris = [(p[0][0], p[k][0], p[k + 1][0]) for p in polygons for k in range(1, len(p) - 1)]
    source = [i for i, p in enumerate(polygons) for _ in range(len(p) - 2)]
    return np.array(tris, np.int32).reshape(-1, 3), np.array(source, np.int32)


def _per_vertex_uv(polygons, num_vertices, texcoords, path):
    """The one texture coordinate each vertex uses in the region's polygon corners."""
    source = np.full(num_vertices, -1, np.int64)
    for poly in polygons:
        for v, vt in poly:
            if vt < 0 or (source[v] >= 0 and source[v] != vt):
                raise ObjTopologyError(f"{path}: face vertex {v} has {'no' if vt < 0 else 'more than one'} "
                                       "texture coordinate in the kept polygons")
            source[v] = vt
    if np.any(source < 0) or source.max() >= len(texcoords):
        raise ObjTopologyError(f"{path}: face vertices without a valid texture coordinate")
    return texcoords[source], source.astype(np.int32)


def _remap(orig_ids, orig_index, what):
    lookup = {int(o): i for i, o in enumerate(orig_index)}
    missing = [int(o) for o in orig_ids if int(o) not in lookup]
    if missing:
        raise ObjTopologyError(f"{what}: vertices {missing[:5]} lie outside the kept face region")
    return np.array([lookup[int(o)] for o in orig_ids], np.int32)


def _shape_files(folder, expression_names):
    """{set: [(name, path)]}: identities by number, expressions in JSON order, others by name."""
    objs = {p.stem: p for p in folder.glob("*.obj")}
    identity = sorted((n for n in objs if re.fullmatch(r"identity\d+", n)), key=lambda n: int(n[8:]))
    missing = [n for n in [NEUTRAL] + list(expression_names) if n not in objs]
    if missing:
        raise FileNotFoundError(f"{folder}: missing OBJ files for {missing[:5]}")
    # Case-insensitive, as in the shared archive: cheekRaiser_* before PupilDilate_*.
    extra = sorted(set(objs) - set(identity) - set(expression_names) - {NEUTRAL}, key=str.lower)
    return {name: [(n, objs[n]) for n in names]
            for name, names in zip(SHAPE_SETS, (identity, list(expression_names), extra))}


def convert_obj_folder(folder, out_npz=None, face_vertices=FACE_VERTICES, face_polygons=FACE_POLYGONS,
                       eyeball_vertices=EYEBALL_VERTICES, eyeball_polygons=EYEBALL_POLYGONS,
                       eyeball_part_starts=EYEBALL_PART_STARTS, jawlines=None, source_commit="unknown",
                       progress=False):
    """ICT `FaceXModel/` folder -> dict of archive arrays, also saved to `out_npz` when given.

    `jawlines` maps the four jawline names to original vertex ids (default: ICT's lists).
    """
    folder = Path(folder)
    with open(folder / "vertex_indices.json") as f:
        meta = json.load(f)
    expression_names = [Path(n).stem if n.endswith(".obj") else n for n in meta["expressions"]]
    files = _shape_files(folder, expression_names)

    neutral_path = folder / f"{NEUTRAL}.obj"
    neutral, texcoords, polygons = read_obj(neutral_path)
    n = len(neutral)
    face_polys, face_index = _region(polygons, n, face_vertices, face_polygons, neutral_path, "face")
    eye_polys, eye_index = _region(polygons, n, eyeball_vertices, eyeball_polygons, neutral_path, "eyeball")
    if any(len(p) != 4 for p in face_polys):
        raise ObjTopologyError(f"{neutral_path}: the face region must be all quads")
    uv, uv_source = _per_vertex_uv(face_polys, len(face_index), texcoords, neutral_path)
    triangles, triangle_quad = _fan(face_polys)
    eye_triangles, _ = _fan(eye_polys)
    topology = _vertex_tokens(polygons)

    face_shapes, eye_shapes = {g: [] for g in SHAPE_SETS}, {g: [] for g in SHAPE_SETS}
    todo = [(group, path) for group, items in files.items() for _, path in items]
    for group, path in tqdm(todo, desc="ICT shapes", disable=not progress):
        verts, _, polys = read_obj(path)
        if len(verts) != len(neutral) or _vertex_tokens(polys) != topology:
            raise ObjTopologyError(f"{path}: topology differs from {neutral_path.name}")
        face_shapes[group].append(verts[face_index])
        eye_shapes[group].append(verts[eye_index])

    def stack(shapes, count):  # a set may be empty, e.g. a folder without extra OBJs
        return np.stack(shapes) if shapes else np.zeros((0, count, 3), np.float32)

    landmarks = _remap(meta["idx_to_landmark_verts"], face_index, "idx_to_landmark_verts")
    if landmarks.shape != (68,):
        raise ObjTopologyError(
            f"vertex_indices.json: idx_to_landmark_verts has {len(landmarks)} ids, expected 68")
    arrays = {
        "neutral_vertices": neutral[face_index],
        **{f"{g}_vertices": stack(face_shapes[g], len(face_index)) for g in SHAPE_SETS},
        "triangles": triangles,
        "quads": np.array([[v for v, _ in p] for p in face_polys], np.int32).reshape(-1, 4),
        "triangle_quad_index": triangle_quad,
        "uv": uv,
        "uv_source_index": uv_source,
        "landmarks68": landmarks,
        **{k: _remap(ids, face_index, k) for k, ids in (jawlines or JAWLINES).items()},
        "rigid_landmark_ids": np.array(RIGID_LANDMARK_IDS, np.int32),
        **{f"{g}_names": np.array([n for n, _ in files[g]], dtype=str) for g in SHAPE_SETS},
        "vertex_orig_index": face_index,
        "source_repo": np.array(SOURCE_REPO),
        "source_commit": np.array(source_commit),
        "eyeball_neutral_vertices": neutral[eye_index],
        **{f"eyeball_{g}_vertices": stack(eye_shapes[g], len(eye_index)) for g in SHAPE_SETS},
        "eyeball_triangles": eye_triangles,
        "eyeball_part": (np.searchsorted(eyeball_part_starts, eye_index, side="right") - 1).astype(np.int8),
        "eyeball_orig_index": eye_index,
    }
    if out_npz is not None:
        Path(out_npz).parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(out_npz, **arrays)
    return arrays
