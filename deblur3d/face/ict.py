"""The open ICT-FaceKit model (MIT) as a FaceModel in the Basel model's frame.

Reads the archive layout of `ict_facekit_face.npz` (written from the ICT OBJ folder by
`ict_convert.py`): face region plus eyeball meshes, 100 identity shapes (the first 80
fill alpha), 53 expression blendshapes (in the first 53 of the 64 beta slots, the rest
zero). Centimetres become decimetres and the neutral face's mean vertex goes to the
origin, so the BFM camera (docs/reproduction.md §3) frames it the same way.

ICT ships no albedo. Until a learned albedo basis is given (`albedo_path`), the face is
a constant skin colour with white-ish sclera and dark irises, and delta has no effect.
"""
import numpy as np

from deblur3d.face import coeffs as coeffs_lib
from deblur3d.face.model import FaceModel, pad_components, point_buffer

CM_TO_MODEL_UNITS = 0.1  # the BFM front model is in decimetres after its /1e5
SKIN_ALBEDO = (0.72, 0.53, 0.45)
SCLERA_ALBEDO, IRIS_ALBEDO = (0.85, 0.82, 0.80), (0.22, 0.14, 0.10)
IRIS_RADIUS_CM = 0.6
# ICT's face mesh is open at the lips: an open mouth showed the background through the
# face. A fan of triangles closes it, from the lips' inner edge to one vertex set this far
# behind their mean, dark like a mouth's inside.
MOUTH_DEPTH_CM, MOUTH_ALBEDO = 1.5, (0.12, 0.06, 0.06)
INNER_LIPS = range(60, 68)


def _constant_albedo(num_face, eyeball_vertices, eyeball_part):
    # The sclera mesh is a shell over the iris mesh, so colour the eyeball by where a
    # vertex lies: in front and within an iris radius of the eye's axis -> iris.
    right_eye = eyeball_part >= 2
    eyes = np.tile(np.array(SCLERA_ALBEDO, np.float32), (len(eyeball_part), 1))
    for side in (right_eye, ~right_eye):
        centre = eyeball_vertices[side].mean(axis=0)
        offset = eyeball_vertices - centre
        iris = side & (np.hypot(offset[:, 0], offset[:, 1]) < IRIS_RADIUS_CM) & (offset[:, 2] > 0)
        eyes[iris] = IRIS_ALBEDO
    skin = np.tile(np.array(SKIN_ALBEDO, np.float32), (num_face, 1))
    return np.concatenate([skin, eyes])


def boundary_loops(triangles):
    """Closed loops of the mesh's open edges, each a list of directed edges (a, b) in the
    winding of the triangle they border."""
    directed = set()
    for tri in np.asarray(triangles):
        directed |= {(int(tri[0]), int(tri[1])), (int(tri[1]), int(tri[2])), (int(tri[2]), int(tri[0]))}
    following = {a: b for (a, b) in directed if (b, a) not in directed}
    loops, seen = [], set()
    for start in sorted(following):
        loop, a = [], start
        while a not in seen and a in following:
            seen.add(a)
            loop.append((a, following[a]))
            a = following[a]
        if loop and a == start:
            loops.append(loop)
    return loops


def _close_mouth(arrays):
    """Adds the mouth's fan (one vertex, its triangles) to the face arrays; returns its vertex
    id, or None for a mesh without an opening at the lips. The opening is the loop of open
    edges nearest the inner-lip landmarks (they sit on the lips' visible edge, in front of it)."""
    triangles, neutral = arrays["triangles"], arrays["neutral_vertices"]
    lips = neutral[arrays["landmarks68"][list(INNER_LIPS)]]
    loops = [np.array([a for a, _ in loop]) for loop in boundary_loops(triangles)]
    lip_size = np.ptp(lips[:, 0])
    near = [(np.linalg.norm(neutral[ring].mean(0) - lips.mean(0)), k) for k, ring in enumerate(loops)
            if np.ptp(neutral[ring][:, 0]) < 2 * lip_size]
    if not near or min(near)[0] > lip_size:
        return None
    loop = boundary_loops(triangles)[min(near)[1]]
    ring = np.array([a for a, _ in loop])
    cap = len(neutral)
    for key in ("neutral_vertices", "identity_vertices", "expression_vertices"):
        shapes = arrays[key]
        inside = shapes[..., ring, :].mean(-2, keepdims=True) - np.array([0, 0, MOUTH_DEPTH_CM], np.float32)
        arrays[key] = np.concatenate([shapes, inside.astype(shapes.dtype)], -2)
    fan = np.array([[b, a, cap] for a, b in loop], triangles.dtype)   # the border's other side: reversed
    arrays["triangles"] = np.concatenate([triangles, fan])
    return cap


def load_ict(path, albedo_path=None):
    """ICT archive (.npz) -> FaceModel; `albedo_path`: an .npz with mean_albedo, albedo_basis."""
    with np.load(path) as z:
        arrays = {name: z[name] for name in z.files}
    mouth = _close_mouth(arrays)
    face_neutral = arrays["neutral_vertices"]
    eye_neutral = arrays["eyeball_neutral_vertices"]
    num_face = len(face_neutral)
    neutral = np.concatenate([face_neutral, eye_neutral])

    def deltas(face_key, eye_key):
        full = np.concatenate([arrays[face_key], arrays[eye_key]], axis=1)
        return (full - neutral[None]) * CM_TO_MODEL_UNITS

    centre = face_neutral.mean(axis=0)
    mean_shape = (neutral - centre) * CM_TO_MODEL_UNITS
    triangles = np.concatenate([arrays["triangles"], arrays["eyeball_triangles"] + num_face]).astype(np.int32)
    num_vertices = len(neutral)
    is_face = np.arange(num_vertices) < num_face
    if mouth is not None:
        is_face[mouth] = False   # not skin

    if albedo_path is None:
        mean_albedo = _constant_albedo(num_face, eye_neutral, arrays["eyeball_part"])
        albedo_basis = np.zeros((coeffs_lib.SIZES["texture"], num_vertices, 3), np.float32)
    else:
        with np.load(albedo_path) as z:
            mean_albedo, albedo_basis = z["mean_albedo"].astype(np.float32), z["albedo_basis"].astype(np.float32)
        if mouth is not None and len(mean_albedo) == num_vertices - 1:   # a basis learned before the fan
            mean_albedo = np.insert(mean_albedo, mouth, 0.0, axis=0)
            albedo_basis = np.insert(albedo_basis, mouth, 0.0, axis=1)
    if mouth is not None:
        mean_albedo[mouth], albedo_basis[:, mouth] = MOUTH_ALBEDO, 0.0

    return FaceModel(
        name="ict",
        mean_shape=mean_shape.astype(np.float32),
        id_basis=pad_components(deltas("identity_vertices", "eyeball_identity_vertices"),
                                coeffs_lib.SIZES["identity"]),
        exp_basis=pad_components(deltas("expression_vertices", "eyeball_expression_vertices"),
                                 coeffs_lib.SIZES["expression"]),
        mean_albedo=np.asarray(mean_albedo, np.float32),
        albedo_basis=pad_components(albedo_basis, coeffs_lib.SIZES["texture"]),
        triangles=triangles,
        point_buf=point_buffer(triangles, num_vertices),
        landmarks=arrays["landmarks68"].astype(np.int32),
        skin_mask=is_face,
        photo_mask=np.ones(num_vertices, bool),
        expression_range=(0.0, 1.0),
    )
