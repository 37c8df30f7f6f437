import cv2
import numpy as np
import tensorflow as tf

from deblur3d.face import align
from deblur3d.face.align import Alignment, alignment_params, fit_alignment
from deblur3d.priors import online as priors


def test_tf_alignment_equals_the_numpy_fit():
    points = np.array([[[80.2, 90.1], [140.7, 92.3], [111.0, 125.5], [88.4, 160.2], [135.9, 161.0]],
                       [[30.0, 40.0], [60.0, 41.0], [45.0, 58.0], [33.0, 72.0], [58.0, 73.0]]], np.float32)
    params = alignment_params(tf.constant(points)).numpy()
    for p, got in zip(points, params):
        a = fit_alignment(p)
        np.testing.assert_allclose(got, [a.scale, *a.center], rtol=1e-5)


def test_graph_crop_and_uncrop_match_the_numpy_alignment():
    rng = np.random.default_rng(0)
    frame = cv2.GaussianBlur(rng.uniform(size=(180, 200, 3)).astype(np.float32), (0, 0), 3)
    a = Alignment(scale=1.3, center=(97.5, 88.25))
    params = tf.constant([[a.scale, *a.center]], tf.float32)
    got = align.crop(tf.constant(frame[None]), params).numpy()[0]
    want = a.crop(frame, interpolation=cv2.INTER_LINEAR)
    np.testing.assert_allclose(got[2:-2, 2:-2], want[2:-2, 2:-2], atol=2e-3)
    back = align.uncrop(tf.constant(want[None]), params, 180, 200).numpy()[0]
    # Away from the crop's border, where the two libraries blend with the fill differently.
    ys, xs = np.mgrid[:180, :200]
    inner = np.all((a.to_crop(np.stack([xs, ys], -1)) > 2) & (a.to_crop(np.stack([xs, ys], -1)) < 221), -1)
    np.testing.assert_allclose(back[inner], a.uncrop(want, frame.shape)[inner], atol=2e-3)


def test_online_priors_give_a_render_in_frame_geometry(ict_model):
    from deblur3d.face.render import FaceRenderer

    class ZeroNet:  # stands in for ReconNet: the lit mean face
        def __call__(self, images, training=False):
            return tf.zeros([images.shape[0], 239])

    points = np.array([[[120.0, 130.0], [180.0, 130.0], [150.0, 165.0], [128.0, 195.0], [172.0, 195.0]]])
    online = priors.OnlinePriors(ZeroNet(), FaceRenderer(ict_model))
    blurry = tf.zeros([1, 256, 300, 15])
    render, coverage, coeffs = online.frame_priors(blurry, tf.constant(points, tf.float32))
    assert render.shape == (1, 256, 300, 3) and coverage.shape == (1, 256, 300, 1)
    ys, xs = np.nonzero(coverage.numpy()[0, ..., 0] > 0.5)
    # The mean face lands between the eyes and below the mouth of the given points.
    assert 120 < xs.mean() < 180 and 130 < ys.mean() < 200
    _, identity = online({"blurry": blurry, "points5": tf.constant(points, tf.float32)})
    assert identity.shape == (1, 80)
