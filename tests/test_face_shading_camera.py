import math

import numpy as np
import tensorflow as tf

from deblur3d.face import shading
from deblur3d.face.camera import Camera, rigid_transform, rotation_matrix


def test_sh_basis_by_hand_for_a_normal_facing_the_camera():
    y = shading.sh_basis(tf.constant([[0.0, 0.0, 1.0]])).numpy()[0]
    a1c1 = 2 * math.pi / math.sqrt(3) * math.sqrt(3) / math.sqrt(4 * math.pi)
    a2c2 = 2 * math.pi / math.sqrt(8) * 3 * math.sqrt(5) / math.sqrt(12 * math.pi)
    expected = [math.pi / math.sqrt(4 * math.pi), 0, a1c1, 0, 0, 0, a2c2 * 0.5 / math.sqrt(3) * 2, 0, 0]
    np.testing.assert_allclose(y, expected, rtol=1e-6, atol=1e-7)


def test_zero_light_is_the_ambient_term():
    albedo = tf.constant([[[0.5, 0.25, 1.0]]])
    normals = tf.constant([[[0.0, 0.0, 1.0]]])
    out = shading.shade(albedo, normals, tf.zeros([1, 9])).numpy()
    ambient = 0.8 * math.pi / math.sqrt(4 * math.pi)
    np.testing.assert_allclose(out, [[[0.5 * ambient, 0.25 * ambient, ambient]]], rtol=1e-6)


def test_rotation_is_rz_ry_rx_applied_to_row_vectors():
    r = rotation_matrix(tf.constant([[0.0, math.pi / 2, 0.0]]))
    # yaw +90°: +z (the face's forward) turns to +x.
    p = rigid_transform(tf.constant([[[0.0, 0.0, 1.0]]]), r, tf.constant([[0.0, 0.0, 0.5]]))
    np.testing.assert_allclose(p.numpy(), [[[1.0, 0.0, 0.5]]], atol=1e-6)
    angles = tf.constant([[0.3, -0.2, 0.7]])
    x, y, z = 0.3, -0.2, 0.7
    rx = np.array([[1, 0, 0], [0, math.cos(x), -math.sin(x)], [0, math.sin(x), math.cos(x)]])
    ry = np.array([[math.cos(y), 0, math.sin(y)], [0, 1, 0], [-math.sin(y), 0, math.cos(y)]])
    rz = np.array([[math.cos(z), -math.sin(z), 0], [math.sin(z), math.cos(z), 0], [0, 0, 1]])
    np.testing.assert_allclose(rotation_matrix(angles).numpy()[0], rz @ ry @ rx, atol=1e-6)


def test_projection_by_hand_and_agrees_with_clip_space():
    cam = Camera()
    points = tf.constant([[[0.0, 0.0, 0.0], [0.5, 0.25, 1.0]]])
    uv = cam.project(points).numpy()[0]
    np.testing.assert_allclose(uv[0], [112, 112], atol=1e-4)
    # x = 112 + 1015 * 0.5 / 9, row = 224 - (112 + 1015 * 0.25 / 9)
    np.testing.assert_allclose(uv[1], [112 + 1015 * 0.5 / 9, 112 - 1015 * 0.25 / 9], rtol=1e-5)
    clip = np.concatenate([points.numpy()[0], np.ones((2, 1))], 1) @ cam.view_projection().numpy().T
    ndc = clip[:, :2] / clip[:, 3:]
    np.testing.assert_allclose((ndc[:, 0] + 1) * 112, uv[:, 0], rtol=1e-5)
    np.testing.assert_allclose(224 - (ndc[:, 1] + 1) * 112, uv[:, 1], rtol=1e-5)
