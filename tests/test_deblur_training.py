"""Trainer wiring: configurations -> tasks, and the joint L_r + L_c mode."""
import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from deblur3d.deblur import archs, training
from deblur3d.deblur.task import precomputed_priors
from deblur3d.data import priors_store as store
from deblur3d.priors.settings import PriorsSettings
from deblur3d.train import loop, run_config, schedules
from deblur3d.train.step import make_train_step


def test_configurations_choose_their_priors():
    no_priors = archs.Arch(use_render=False, use_identity=False)
    net, task = training.make_task(training.DeblurTrainConfig(arch=no_priors, priors="none"))
    assert task.priors({}) == (None, None) and not net.use_render
    _, task = training.make_task(training.DeblurTrainConfig())
    assert task.priors is precomputed_priors
    with pytest.raises(ValueError, match="online"):
        training.make_task(training.DeblurTrainConfig(joint=True))
    _, task = training.make_task(training.DeblurTrainConfig(face_weight=2.0))
    assert task.face_weight == 2.0
    with pytest.raises(ValueError, match="face_weight"):
        training.make_task(training.DeblurTrainConfig(arch=archs.Arch("srn"), priors="none", face_weight=2.0))


def test_joint_mode_trains_both_branches_in_one_step(ict_model, monkeypatch, tmp_path):
    # An untrained ReconNet stands in for the committed one; the face model is the test's.
    monkeypatch.setattr("deblur3d.face.load_face_model", lambda *a, **k: ict_model)
    config = training.DeblurTrainConfig(priors="online", joint=True, recon=PriorsSettings(recon_weights=None),
                                        arch=archs.Arch(residual=True))
    net, task = training.make_task(config)
    rng = np.random.default_rng(0)
    points5 = np.array([[[22, 26], [42, 26], [32, 36], [24, 46], [40, 46]]], np.float32)
    points68 = np.tile(points5.mean(1, keepdims=True), (1, 68, 1)) + rng.normal(scale=5, size=(1, 68, 2))
    batch = {"blurry": tf.constant(rng.uniform(size=(1, 64, 64, 15)), tf.float32),
             "sharp": tf.constant(rng.uniform(size=(1, 64, 64, 3)), tf.float32),
             "points5": tf.constant(points5), "points68": tf.constant(points68, tf.float32)}
    optimizer = schedules.adam(schedules.learning_rate())
    loop.build(task, optimizer, batch)
    recon = task.parts["rendering"].task.net
    before = [v.numpy().copy() for v in (recon.head.kernel, net.conv_out.kernel)]
    losses = make_train_step(task, optimizer)(batch)
    assert {"rendering", "content", "total"} <= set(losses)
    np.testing.assert_allclose(float(losses["total"]), float(losses["rendering"]) * 1.92 + float(losses["content"]),
                               rtol=1e-4)
    after = [v.numpy() for v in (recon.head.kernel, net.conv_out.kernel)]
    # Both branches moved (the deblurring net first at its zero-initialised residual output).
    assert all(np.abs(a - b).max() > 0 for a, b in zip(after, before))


@pytest.fixture(scope="module")
def tiny_cache(tmp_path_factory):
    from deblur3d import atomic
    from deblur3d.data import cache, faces
    root = tmp_path_factory.mktemp("data") / "cache"
    rng = np.random.default_rng(0)
    p68 = rng.uniform(4, 44, (9, 68, 2)).astype(np.float32)
    with atomic.atomic_dir(root) as tmp:
        run = cache.write_run(tmp, dict(name="a-00", clip_id="a", identity="a", split="train"),
                              sharp=rng.integers(0, 256, (9, 48, 48, 3), dtype=np.uint8), points68=p68,
                              points5=faces.five_points(p68))
        cache.write_index(tmp, cache.BuildConfig(), [run], cache.summarize([]))
    return str(root)


def test_init_weights_starts_training_from_a_file(tiny_cache, tmp_path):
    from deblur3d.deblur.header import ModelHeader
    from deblur3d.deblur.inference import build
    from deblur3d.train import weights
    from deblur3d.train.config import TrainSchedule

    def config(name, model="ours", **kw):
        return training.DeblurTrainConfig(
            cache_dir=tiny_cache, priors="none", arch=archs.Arch(model, use_render=False, use_identity=False),
            patch_size=32,
            run_dir=str(tmp_path / name), export=str(tmp_path / f"{name}.npz"), **kw,
            train=TrainSchedule(steps=1, batch_size=2, learning_rate=0.0, checkpoint_every=1))

    tf.keras.utils.set_random_seed(7)
    start = tmp_path / "start.npz"
    weights.save(build(archs.build(config("x").arch)), start, **ModelHeader(config("x").arch, steps=30).fields())
    first = {"script": "experiments/train_deblur.py", "flags": {"steps": 30}}
    run_config.export(start, [first])
    for name, init in (("warm", start), ("cold", None)):
        training.train(config(name, init_weights=init and str(start), command={"steps": 1, "run_dir": name}),
                       log=lambda *a: None)
    # Its config and header: the start's step, then its own; the cold file's, its own alone.
    own = {"script": "experiments/train_deblur.py", "flags": {"steps": 1, "run_dir": "warm"}}
    made_by = weights.read_header(tmp_path / "warm.npz")["made_by"]
    assert run_config.steps_of(tmp_path / "warm.npz") == [first, own] == made_by
    assert [s["flags"]["run_dir"] for s in run_config.steps_of(tmp_path / "cold.npz")] == ["cold"]
    # One record of the run: the file's config holds the settings its run folder recorded.
    beside = run_config.read(run_config.config_path(tmp_path / "warm.npz"))
    assert beside["settings"] == run_config.read(tmp_path / "warm" / "run_config.json")["settings"]
    assert beside["settings"]["patch_size"] == 32 and beside["settings"]["arch.model"] == "ours"

    def arrays(path):
        with np.load(path) as z:
            return [z[k] for k in sorted(z.files) if k.startswith("w")]
    # The warm file counts its start's 30 steps and its own one.
    assert weights.read_header(tmp_path / "warm.npz")["steps"] == 31
    assert weights.read_header(tmp_path / "cold.npz")["steps"] == 1
    # A step at learning rate 0 changes nothing: the warm run exports exactly its start.
    assert all(np.array_equal(a, b) for a, b in zip(arrays(tmp_path / "warm.npz"), arrays(start)))
    assert not all(np.array_equal(a, b) for a, b in zip(arrays(tmp_path / "cold.npz"), arrays(start)))
    with pytest.raises(weights.WeightsFileError, match="wrong model file"):
        training.train(config("dbn", model="dbn", init_weights=str(start)), log=lambda *a: None)


def test_a_grown_network_starts_as_its_smaller_self_and_its_new_blocks_learn(tmp_path):
    from deblur3d.deblur.inference import build
    from deblur3d.train import weights

    def arch(blocks):
        return archs.Arch(blocks=blocks, widths=(8, 16, 32), kernel=3, residual=True, res_scale=0.2)
    tf.keras.utils.set_random_seed(3)
    small = build(archs.build(arch(1)))
    for w in small.weights:   # a "trained" small net: its output layer is not near zero
        w.assign(w + tf.random.normal(w.shape, stddev=0.05))
    weights.save(small, tmp_path / "small.npz", dtype=np.float32)
    grown = build(archs.build(arch(2)))
    added = weights.load_grown(grown, tmp_path / "small.npz")
    assert added == ["enc1_1", "enc2_1", "enc3_1", "dec3_1", "dec2_1", "dec1_1"]
    grown.start_near_identity(added)
    x, render, identity = (tf.random.uniform([2, 40, 40, 15]), tf.random.uniform([2, 40, 40, 3]),
                           tf.random.normal([2, 80]))
    before = small(x, render, identity)
    assert float(tf.reduce_max(tf.abs(before - x[..., 6:9]))) > 0.05   # the small net does change its input
    np.testing.assert_allclose(grown(x, render, identity), before, atol=1e-3)   # a 50th of its change
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(grown(x, render, identity) - 0.5))
    new = [v for v in grown.trainable_variables if any(f"/{name}/" in v.path for name in added)]
    grads = tape.gradient(loss, new)
    assert len(new) == 24 and all(float(tf.reduce_max(tf.abs(g))) > 0 for g in grads)
    # A file of a bigger network does not load into a smaller one.
    weights.save(grown, tmp_path / "grown.npz")
    with pytest.raises(weights.WeightsFileError, match="only grows"):
        weights.load_grown(build(archs.build(arch(1))), tmp_path / "grown.npz")
    with pytest.raises(ValueError, match="not ResBlocks"):
        grown.start_near_identity(["conv_in"])


def test_a_widened_network_computes_what_the_narrow_one_did_and_its_new_channels_learn(tmp_path):
    from deblur3d.deblur.inference import build
    from deblur3d.train import weights

    def arch(widths, blocks=1):
        return archs.Arch(blocks=blocks, widths=widths, kernel=3, residual=True, res_scale=0.2)
    tf.keras.utils.set_random_seed(4)
    narrow = build(archs.build(arch((8, 16, 32))))
    for w in narrow.weights:   # "trained": every layer away from its initial values
        w.assign(w + tf.random.normal(w.shape, stddev=0.05))
    weights.save(narrow, tmp_path / "narrow.npz", dtype=np.float32)
    wide = build(archs.build(arch((13, 16, 40), blocks=2)))   # wider stages 1 and 3, and a block more
    maps = wide.channel_maps((8, 16, 32))
    assert maps == {8: list(range(8)), 11: list(range(8)) + [13, 14, 15],
                    32: list(range(32)), 33: list(range(32)) + [40]}
    added = weights.load_grown(wide, tmp_path / "narrow.npz", maps)
    wide.start_near_identity(added)
    x, render, identity = (tf.random.uniform([2, 40, 40, 15]), tf.random.uniform([2, 40, 40, 3]),
                           tf.random.normal([2, 80]))
    before = narrow(x, render, identity)
    assert float(tf.reduce_max(tf.abs(before - x[..., 6:9]))) > 0.05
    np.testing.assert_allclose(wide(x, render, identity), before, atol=1e-3)   # only the added blocks' hair
    # The cut-off weights (an added input channel into an old output) start at zero and get gradient.
    conv = wide.enc1[0].conv1
    assert conv.kernel.shape == (3, 3, 16, 16)
    np.testing.assert_array_equal(conv.kernel.numpy()[:, :, 8:13][..., list(range(8)) + [13, 14, 15]], 0.0)
    assert float(tf.reduce_max(tf.abs(conv.kernel[:, :, 8:13, 8:13]))) > 0   # added -> added: initialised
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(wide(x, render, identity) - 0.5))
    grad = tape.gradient(loss, wide.conv_out.kernel)
    assert float(tf.reduce_max(tf.abs(grad[:, :, 8:13]))) > 0
    with pytest.raises(ValueError, match="only grows"):
        build(archs.build(arch((6, 16, 32)))).channel_maps((8, 16, 32))


def test_a_baseline_grown_into_the_full_model_ignores_its_priors_at_first_and_then_learns_from_them(tmp_path):
    from deblur3d.deblur.inference import build
    from deblur3d.train import weights

    def arch(priors):
        return archs.Arch(use_render=priors, use_identity=priors, widths=(8, 16, 32), blocks=1, kernel=3,
                          residual=True, res_scale=0.2)
    tf.keras.utils.set_random_seed(6)
    baseline = build(archs.build(arch(False)))
    for w in baseline.weights:
        w.assign(w + tf.random.normal(w.shape, stddev=0.05))
    weights.save(baseline, tmp_path / "baseline.npz", dtype=np.float32)
    full = build(archs.build(arch(True)))
    maps = full.channel_maps((8, 16, 32), old_render=False, old_identity=False)
    assert maps == {8: list(range(8)), 32: list(range(32))}   # the render (11) and identity (33) inputs added
    assert weights.load_grown(full, tmp_path / "baseline.npz", maps) == []
    x = tf.random.uniform([2, 40, 40, 15])
    before = baseline(x)
    for render, identity in [(tf.zeros([2, 40, 40, 3]), tf.zeros([2, 80])),
                             (tf.random.uniform([2, 40, 40, 3]), tf.random.normal([2, 80]))]:
        np.testing.assert_allclose(full(x, render, identity), before, atol=1e-5)
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(full(x, tf.random.uniform([2, 40, 40, 3]), tf.random.normal([2, 80])) - 0.5))
    grad = tape.gradient(loss, full.enc1[0].conv1.kernel)
    assert full.enc1[0].conv1.kernel.shape[2] == 11   # the first-stage block reads features + render
    assert float(tf.reduce_max(tf.abs(grad[:, :, 8:]))) > 0   # the render's cut-off weights learn
    with pytest.raises(ValueError, match="only grows"):
        baseline.channel_maps((8, 16, 32), old_render=True, old_identity=True)


def test_grow_from_trains_and_counts_the_smaller_model_steps(tiny_cache, tmp_path):
    from deblur3d.deblur.inference import build
    from deblur3d.train import weights
    from deblur3d.train.config import TrainSchedule

    def config(blocks, name, **kw):
        return training.DeblurTrainConfig(
            cache_dir=tiny_cache, priors="none", patch_size=32, run_dir=str(tmp_path / name),
            arch=archs.Arch(use_render=False, use_identity=False, blocks=blocks, residual=True, res_scale=0.2),
            export=str(tmp_path / f"{name}.npz"), **kw,
            train=TrainSchedule(steps=1, batch_size=2, learning_rate=0.0, checkpoint_every=1))
    tf.keras.utils.set_random_seed(5)
    small = config(1, "x").arch
    weights.save(build(archs.build(small)), tmp_path / "start.npz", steps=40, arch=small.header())
    training.train(config(2, "grown", grow_from=str(tmp_path / "start.npz")), log=lambda *a: None)
    header = weights.read_header(tmp_path / "grown.npz")
    assert header["steps"] == 41 and header["arch"]["blocks"] == 2
    with pytest.raises(ValueError, match="not both"):
        training.train(config(2, "both", grow_from=str(tmp_path / "start.npz"),
                              init_weights=str(tmp_path / "start.npz")), log=lambda *a: None)


def test_the_weights_header_says_how_the_training_priors_were_made(tmp_path):
    store.write_index(tmp_path, "cache", [], {}, refined=dict(steps=200, frames_without_detection=3), texture="basis",
                      recon="recon_people.weights.npz")
    full = archs.Arch(use_render=True, use_identity=True)
    config = training.DeblurTrainConfig(priors="precomputed", priors_dir=str(tmp_path), arch=full)
    assert training.priors_recipe(config) == dict(refine_landmarks=200, texture="basis", recon="recon_people.weights.npz")
    paper = dict(refine_landmarks=0, texture="recon", recon="recon_ict.weights.npz")   # recon_ict's, as older files
    assert training.priors_recipe(dataclasses.replace(config, priors_dir=str(tmp_path / "plain"))) == paper
    no_priors = dataclasses.replace(config, arch=archs.Arch(use_render=False, use_identity=False))
    assert training.priors_recipe(no_priors) == paper
    for recon in (PriorsSettings(refine_landmarks=200), PriorsSettings(texture="basis")):
        with pytest.raises(ValueError, match="need precomputed priors"):   # no dlib or fit inside the training step
            training.make_task(dataclasses.replace(config, priors="online", recon=recon))


def test_a_full_disk_at_export_names_the_run_folder_and_the_space_needed_and_a_rerun_exports(
        tiny_cache, tmp_path, monkeypatch):
    import errno
    from deblur3d.deblur.inference import build
    from deblur3d.train import weights
    from deblur3d.train.config import TrainSchedule
    run, export = tmp_path / "run", tmp_path / "out" / "x.weights.npz"
    config = training.DeblurTrainConfig(
        cache_dir=tiny_cache, priors="none", arch=archs.Arch("ours", use_render=False, use_identity=False),
        patch_size=32, run_dir=str(run), export=str(export), command={"steps": 1},
        train=TrainSchedule(steps=1, batch_size=2, checkpoint_every=1))

    def full(file, *args, **kwargs):   # the disk fills while the weights are written
        raise OSError(errno.ENOSPC, "No space left on device")
    with monkeypatch.context() as patch:
        patch.setattr(np, "savez_compressed", full)
        with pytest.raises(OSError) as err:
            training.train(config, log=lambda *a: None)
    needed = sum(w.shape.num_elements() for w in build(archs.build(config.arch)).weights) * 2   # float16
    assert str(err.value).startswith(f"{run}: no space left on the device to export the weights to {export} (")
    assert f"MB free, it needs about {needed / 2**20:.2g} MB); its checkpoints are kept" in str(err.value)
    assert "\n" not in str(err.value) and list(export.parent.iterdir()) == []
    notes = []   # the same command again: nothing left to train, the export is written
    training.train(config, log=notes.append)
    assert any("resumed from" in n and "step 1" in n for n in notes) and weights.read_header(export)["steps"] == 1
    assert run_config.steps_of(export) == [{"script": "experiments/train_deblur.py", "flags": {"steps": 1}}]
