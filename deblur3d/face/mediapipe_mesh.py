"""MediaPipe's canonical 468-point face mesh, and which vertex of our face model each point is.

The face-mesh network (recon/teacher.py) predicts the 468 points of this mesh. To fit a
morphable model to them we need, for each point, the model vertex it lands on. The two rest
shapes differ in units and placement, so we align them (a similarity from six points both
name: eye corners, nose tip, mouth corners, chin), refine the alignment by closest points
(ICP over the model's face region), and take each point's nearest model vertex.
"""
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

from deblur3d import paths

NUM_POINTS = 468
# Mesh indices of outer eye corners (subject's right, left), nose tip, mouth corners, chin,
# and the dlib 68-point indices of the same places (our face models carry those 68).
MESH_ANCHORS = (33, 263, 1, 61, 291, 152)
DLIB_ANCHORS = (36, 45, 30, 48, 54, 8)


def canonical_path(data_dir=None):
    return paths.data_path("mediapipe", "canonical_face_model.obj", root=data_dir)


def read_canonical(path=None):
    """-> (468, 3) rest shape in centimetres (+y up, face toward +z), (T, 3) triangles."""
    path = Path(path or canonical_path())
    if not path.is_file():
        raise OSError(f"{path}: MediaPipe's canonical face mesh not found (docs/data.md says where it comes from)")
    vertices, triangles = [], []
    for line in path.read_text().splitlines():
        parts = line.split()
        if parts[:1] == ["v"]:
            vertices.append([float(v) for v in parts[1:4]])
        elif parts[:1] == ["f"]:
            triangles.append([int(p.split("/")[0]) - 1 for p in parts[1:4]])
    vertices = np.asarray(vertices, np.float64)
    if vertices.shape != (NUM_POINTS, 3):
        raise ValueError(f"{path}: expected {NUM_POINTS} vertices, found {len(vertices)}")
    return vertices, np.asarray(triangles, np.int32)


def similarity(source, target):
    """Least-squares s, R, t with target ≈ s·R·source + t (Umeyama), row vectors."""
    mu_s, mu_t = source.mean(0), target.mean(0)
    a, b = source - mu_s, target - mu_t
    u, d, vt = np.linalg.svd(b.T @ a / len(a))
    sign = np.diag([1.0, 1.0, np.sign(np.linalg.det(u @ vt))])
    rotation = u @ sign @ vt
    scale = np.trace(np.diag(d) @ sign) / a.var(0).sum()
    return scale, rotation, mu_t - scale * mu_s @ rotation.T


def correspondence(face_model, canonical, iterations=20):
    """(468,) int32: the face-model vertex nearest each canonical point once the two rest
    shapes are aligned. Only vertices of the model's photometric region (the skin of the
    face, no eyeballs or mouth interior) are candidates."""
    model = np.asarray(face_model.mean_shape, np.float64)
    region = np.flatnonzero(face_model.photo_mask)
    tree = cKDTree(model[region])
    anchors = model[np.asarray(face_model.landmarks)[list(DLIB_ANCHORS)]]
    scale, rotation, shift = similarity(canonical[list(MESH_ANCHORS)], anchors)
    for _ in range(iterations):
        moved = scale * canonical @ rotation.T + shift
        _, nearest = tree.query(moved)
        scale, rotation, shift = similarity(canonical, model[region[nearest]])
    _, nearest = tree.query(scale * canonical @ rotation.T + shift)
    return region[nearest].astype(np.int32)


def vertex_ids(face_model, data_dir=None):
    """The face-model vertex of each of the teacher's 468 points (the shipped canonical mesh's)."""
    return correspondence(face_model, read_canonical(canonical_path(data_dir))[0])
