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


def load_ict(path, albedo_path=None):
    """ICT archive (.npz) -> FaceModel; `albedo_path`: an .npz with mean_albedo, albedo_basis."""
    with np.load(path) as z:
        arrays = {name: z[name] for name in z.files}
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

    if albedo_path is None:
        mean_albedo = _constant_albedo(num_face, eye_neutral, arrays["eyeball_part"])
        albedo_basis = np.zeros((coeffs_lib.SIZES["texture"], num_vertices, 3), np.float32)
    else:
        with np.load(albedo_path) as z:
            mean_albedo, albedo_basis = z["mean_albedo"], z["albedo_basis"]

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
    )
