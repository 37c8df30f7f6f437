import numpy as np
import pytest
import tensorflow as tf

from deblur3d.deblur.model import DeblurNet, identity_map


@pytest.mark.parametrize("use_render,use_identity", [(False, False), (True, False), (False, True), (True, True)])
def test_every_configuration_maps_a_stack_to_a_frame(use_render, use_identity):
    net = DeblurNet(use_render=use_render, use_identity=use_identity, widths=(8, 16, 32), blocks=1)
    out = net(tf.zeros([2, 40, 56, 15]), tf.zeros([2, 40, 56, 3]), tf.zeros([2, 80]))
    assert out.shape == (2, 40, 56, 3)
    # The fusion points widen exactly the stages the paper says.
    assert net.enc1[0].conv1.kernel.shape[-2] == 8 + 3 * use_render
    assert net.dec3[0].conv1.kernel.shape[-2] == 32 + use_identity


def test_paper_widths_and_release_input():
    net = DeblurNet(double_input=True)
    net(tf.zeros([1, 64, 64, 15]), tf.zeros([1, 64, 64, 3]), tf.zeros([1, 80]))
    assert net.conv_in.kernel.shape == (5, 5, 30, 32)
    assert net.enc1[0].conv1.kernel.shape == (5, 5, 35, 35)
    assert net.dec3[0].conv1.kernel.shape == (5, 5, 129, 129)
    assert net.up1.kernel.shape[-2:] == (35, 64)  # transposed conv: (k, k, out, in)


def test_identity_map_is_centred_row_major_with_a_zero_last_element():
    alpha = np.arange(1, 81, dtype=np.float32)[None]
    grid = identity_map(tf.constant(alpha), 64, 64).numpy()[0, ..., 0]
    assert grid.shape == (64, 64)
    # (64 - 9) // 2 = 27 rows / columns of zeros before the 9×9 block.
    block = grid[27:36, 27:36]
    np.testing.assert_array_equal(block.reshape(-1), np.append(alpha[0], 0))
    assert grid.sum() == block.sum()


def test_resblock_variants_differ_only_by_the_last_relu():
    from deblur3d.deblur.model import ResBlock
    x = tf.constant(np.random.default_rng(0).normal(size=(1, 8, 8, 4)), tf.float32)
    paper, release = ResBlock(4), ResBlock(4, release_variant=True)
    paper(x), release(x)
    release.set_weights(paper.get_weights())
    inner = paper.conv2.convolution_op(paper.conv1(x), paper.conv2.kernel) + paper.conv2.bias
    np.testing.assert_allclose(paper(x), x + tf.nn.relu(inner), atol=1e-5)
    np.testing.assert_allclose(release(x), x + inner, atol=1e-5)


def test_residual_variant_starts_near_the_blurry_centre_frame_with_gradient_everywhere():
    stack = tf.constant(np.random.default_rng(2).uniform(size=(1, 40, 40, 15)), tf.float32)
    tf.keras.utils.set_random_seed(0)
    net = DeblurNet(use_render=False, use_identity=False, widths=(8, 16, 16), blocks=1, residual=True)
    with tf.GradientTape() as tape:
        out = net(stack)
        loss = tf.reduce_mean(tf.square(out - 0.5))
    assert 0 < np.abs(out.numpy() - stack.numpy()[..., 6:9]).max() < 0.02
    grads = tape.gradient(loss, net.trainable_variables)
    assert all(float(tf.reduce_max(tf.abs(g))) > 0 for g in grads if g is not None)


def test_scaled_residual_branch_and_zero_output_start_exactly_at_the_input():
    stack = tf.constant(np.random.default_rng(3).uniform(size=(2, 32, 32, 15)), tf.float32)
    net = DeblurNet(use_render=False, use_identity=False, widths=(8, 16, 16), blocks=2, kernel=3,
                    res_scale=0.2, residual=True, zero_out=True)
    with tf.GradientTape() as tape:
        out = net(stack)
        loss = tf.reduce_mean(tf.square(out - 0.5))
    np.testing.assert_array_equal(out, stack[..., 6:9])   # the identity: no deblurring at first
    assert net.conv_in.kernel.shape == (3, 3, 15, 8)
    # The first step's gradient reaches the output layer (and then, once it moves, the rest).
    grads = tape.gradient(loss, net.trainable_variables)
    out_kernel = next(g for v, g in zip(net.trainable_variables, grads) if v is net.conv_out.kernel)
    assert float(tf.reduce_max(tf.abs(out_kernel))) > 0


def test_a_resblock_branch_is_scaled_by_res_scale():
    from deblur3d.deblur.model import ResBlock
    x = tf.constant(np.random.default_rng(0).normal(size=(1, 8, 8, 4)), tf.float32)
    full, scaled = ResBlock(4, kernel=3), ResBlock(4, kernel=3, scale=0.2)
    full(x), scaled(x)
    scaled.set_weights(full.get_weights())
    np.testing.assert_allclose(scaled(x) - x, 0.2 * (full(x) - x), atol=1e-6)


def test_arch_round_trips_through_a_weights_header_and_reads_old_headers():
    from deblur3d.deblur import archs
    arch = archs.Arch(use_identity=False, widths=(16, 32, 64), blocks=1, kernel=3, res_scale=0.2, zero_out=True)
    assert archs.Arch.from_header({"arch": arch.header()}) == arch
    old = {"architecture": "ours", "use_render": True, "use_identity": False, "residual": True}
    assert archs.Arch.from_header(old) == archs.Arch(use_identity=False, residual=True)
    assert archs.Arch.from_header({"architecture": "dbn"}).model == "dbn"


def test_a_baseline_arch_takes_no_priors_and_drops_the_deblurnet_fields():
    from deblur3d.deblur import archs
    srn = archs.Arch(model="srn", residual=True, widths=(8, 16, 32), kernel=3)  # as --recipe=cpu --model=srn
    assert srn == archs.Arch(model="srn", use_render=False, use_identity=False)
    assert (srn.use_render, srn.use_identity, srn.needs_priors, srn.residual) == (False, False, False, False)
    assert archs.Arch.from_header({"arch": srn.header()}) == srn
    dbn = archs.Arch(model="dbn", residual=True, zero_out=True, kernel=3, use_render=True)   # DBN takes these two
    assert (dbn.residual, dbn.zero_out, dbn.kernel, dbn.needs_priors) == (True, True, 5, False)
    assert archs.build(dbn).residual


def test_the_face_deblurrer_uses_given_priors_computes_missing_ones_and_keeps_the_batch():
    from deblur3d.deblur.face_deblurrer import FaceDeblurrer
    from deblur3d.deblur.header import ModelHeader
    from deblur3d.deblur.inference import Deblurrer, build_from_header

    header = ModelHeader.parse(dict(architecture="ours", use_render=True, use_identity=True, widths=(8, 16, 32),
                                    blocks=1, kernel=3, blur={"stride": 5}))   # an older file's flat keys
    net = build_from_header(header)
    calls = []

    def online(stack, points5):
        calls.append((stack.shape, points5.shape))
        return np.zeros(stack.shape[:3] + (3,), np.float32), np.zeros((len(stack), 80), np.float32)

    face = FaceDeblurrer(Deblurrer(net, header), online)
    stack = np.random.default_rng(0).uniform(size=(40, 40, 15)).astype(np.float32)
    points5 = np.full((5, 2), 20.0, np.float32)
    single = face(stack, points5)
    assert single.shape == (40, 40, 3) and calls == [((1, 40, 40, 15), (1, 5, 2))] and face.stride == 5
    batch = face(np.stack([stack, stack]), np.stack([points5, points5]))
    assert batch.shape == (2, 40, 40, 3) and calls[-1] == ((2, 40, 40, 15), (2, 5, 2))
    np.testing.assert_allclose(batch[1], single, atol=1e-5)
    given = face(stack[None], None, np.zeros((1, 40, 40, 3), np.float32), np.zeros((1, 80), np.float32))
    assert len(calls) == 2 and np.allclose(given[0], single, atol=1e-5)   # given priors: none computed
    with pytest.raises(ValueError, match="needs 3D priors"):
        FaceDeblurrer(face.deblurrer)(stack, points5)
