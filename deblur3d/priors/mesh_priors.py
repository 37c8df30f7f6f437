"""The teacher fit as a priors source: MediaPipe's 468 points on the aligned crop, the face
model fitted to them (recon/teacher.py, recon/mesh_fit.py). Not in the paper; scored beside
ReconNet by eval_recon.py, and what ReconNet is taught toward.
"""
import numpy as np
import tensorflow as tf

from deblur3d.face.mediapipe_mesh import vertex_ids
from deblur3d.recon.mesh_fit import MeshFitter
from deblur3d.recon.teacher import FaceMesh


class TeacherFit:
    """images (B, 224, 224, 3) aligned crops in [0, 1] -> coefficients (B, 239); the face is
    looked for in the mean face's box (the crop is aligned), the teacher's second pass crops
    about its own points. `shared_identity`: the frames of one call are one person."""

    def __init__(self, renderer, data_dir=None, shared_identity=False):
        self.mesh, self.shared_identity = FaceMesh(), shared_identity
        self.fitter = MeshFitter(renderer, vertex_ids(renderer.face_model, data_dir))
        mean = renderer.landmarks(tf.zeros([1, 239])).numpy()[0]
        self.box = np.concatenate([mean.min(0), mean.max(0)])

    def points(self, images):
        return np.stack([self.mesh(np.asarray(image, np.float32), self.box)[0] for image in images])

    def __call__(self, images):
        return self.fitter(self.points(images), shared_identity=self.shared_identity)
