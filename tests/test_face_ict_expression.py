"""ICT's expression blendshapes are weights in [0, 1]: bounded, every combination of their
ends gives a closed face whose eyes are never inside out; unbounded, they break."""
import dataclasses

import cv2
import numpy as np
import pytest
import tensorflow as tf

from deblur3d.data.faces import hull_mask
from deblur3d.face import coeffs as coeffs_lib
from deblur3d.face.render import FaceRenderer

EXPRESSION = coeffs_lib.SLICES["expression"]


def expression_batch(weights):
    c = np.zeros((len(weights), coeffs_lib.NUM_COEFFS), np.float32)
    c[:, EXPRESSION.start:EXPRESSION.start + weights.shape[1]] = weights
    return c


def defects(model, coeffs):
    """Per render: (background px inside the landmark hull, back-facing px inside the eye hulls).
    The hull is eroded by 3 px, as the jaw's landmarks lie on the mesh's own border."""
    both, front = FaceRenderer(model)(tf.constant(coeffs)), FaceRenderer(model, cull_back_faces=True)(tf.constant(coeffs))
    out = []
    for image, culled, mask, points in zip(both.image.numpy(), front.image.numpy(), both.mask.numpy()[..., 0],
                                           both.landmarks.numpy()):
        hull = cv2.erode(hull_mask(points, mask.shape).astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
        eyes = hull_mask(points[36:42], mask.shape) | hull_mask(points[42:48], mask.shape)
        backs = np.abs(image - culled).max(-1) > 0.02   # what culling back faces removes was seen from behind
        out.append((int((hull & (mask == 0)).sum()), int((eyes & backs).sum())))
    return np.array(out)


@pytest.fixture(scope="module")
def ict(ict_model):
    return ict_model


def test_every_weight_at_either_end_gives_a_closed_face_with_eyes_the_right_way_out(ict):
    n = ict.exp_basis.shape[0] - int((np.abs(ict.exp_basis).reshape(64, -1).max(1) == 0).sum())
    assert n == 53 and ict.expression_range == (0.0, 1.0)
    rng = np.random.default_rng(0)
    ends = np.concatenate([np.zeros((1, n)), np.ones((1, n)), np.eye(n), rng.integers(0, 2, (8, n))]).astype(np.float32)
    found = np.concatenate([defects(ict, expression_batch(ends[i:i + 16])) for i in range(0, len(ends), 16)])
    assert found[:, 0].max() == 0, np.nonzero(found[:, 0])   # no hole: background inside the face
    assert found[:, 1].max() <= 3, np.nonzero(found[:, 1])   # eyes: at most an edge pixel seen from behind


def test_weights_beyond_the_range_act_as_its_ends_and_unbounded_ones_break_the_face(ict):
    rng = np.random.default_rng(1)
    wild = rng.normal(0, 1.5, (8, 53)).astype(np.float32)
    bounded = FaceRenderer(ict)(tf.constant(expression_batch(wild))).image.numpy()
    clipped = FaceRenderer(ict)(tf.constant(expression_batch(np.clip(wild, 0, 1)))).image.numpy()
    np.testing.assert_allclose(bounded, clipped, atol=1e-5)
    free = defects(dataclasses.replace(ict, expression_range=None), expression_batch(wild))
    assert free[:, 0].max() > 30 or free[:, 1].max() > 3   # the test above could fail: this is what it catches
    np.testing.assert_array_equal(ict.bound(expression_batch(wild))[:, EXPRESSION], np.clip(expression_batch(wild)[:, EXPRESSION], 0, 1))


def test_the_lips_opening_is_closed_by_a_dark_fan_that_is_not_skin(ict):
    open_mouth = np.zeros((1, 53), np.float32)
    open_mouth[0, 26] = 1.0   # jawOpen
    rendering = FaceRenderer(ict)(tf.constant(expression_batch(open_mouth)))
    points = rendering.landmarks.numpy()[0]
    inner = hull_mask(points[60:68], (224, 224))
    assert inner.sum() > 200 and rendering.mask.numpy()[0, ..., 0][inner].min() == 1
    assert rendering.image.numpy()[0][inner].mean() < 0.3    # dark inside, not skin
    mouth = ict.num_vertices - 1 - 3140   # the fan's vertex follows the face's, before the eyeballs
    assert not ict.skin_mask[mouth] and np.allclose(ict.albedo_basis[:, mouth], 0)
