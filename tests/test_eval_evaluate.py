"""Deblurrer (any frame size, loading by header) and the evaluation tables, on tiny synthetic data."""
import csv
import dataclasses
import json
import subprocess
import sys
import types
from pathlib import Path

import cv2
import numpy as np
import pytest
import tensorflow as tf

from deblur3d import atomic, paths
from deblur3d.data import blur, blur_settings, cache, faces
from deblur3d.data import priors_store as store
from deblur3d.data.frames import face_mask
from deblur3d.deblur import archs
from deblur3d.deblur.face_deblurrer import FaceDeblurrer
from deblur3d.deblur.header import ModelHeader
from deblur3d.deblur.inference import load_deblurrer
from deblur3d.eval import evaluate as ev
from deblur3d.eval import metrics, reference, timing, writers
from deblur3d.eval.methods import Method, load_methods
from deblur3d.eval.sources import cache_source
from deblur3d.priors.settings import DEFAULT_RECIPE, PAPER_RECIPE, PriorsSettings
from deblur3d.train import weights

H, W, T = 44, 52, 6   # frames of 44×52: identity map needs >= 36 pixels, SSIM > 11


def save_deblurnet(path, use_render, use_identity, seed=0):
    tf.keras.utils.set_random_seed(seed)
    net = archs.build(archs.Arch(use_render=use_render, use_identity=use_identity, residual=True))
    net(tf.zeros([1, 40, 40, 15]), tf.zeros([1, 40, 40, 3]) if use_render else None,
        tf.zeros([1, 80]) if use_identity else None)
    weights.save(net, path, architecture="ours", use_render=use_render, use_identity=use_identity,
                 residual=True, steps=0)
    return net


@pytest.fixture(scope="module")
def nets(tmp_path_factory):
    root = tmp_path_factory.mktemp("weights")
    return {name: (save_deblurnet(root / f"{name}.weights.npz", render, identity), root / f"{name}.weights.npz")
            for name, render, identity in (("base", False, False), ("full", True, True))}


def smooth_frames(rng, n):
    """Blurred noise: images with structure, so SSIM and PSNR are not degenerate."""
    noise = rng.integers(0, 256, (n, H, W, 3)).astype(np.float32)
    return np.stack([cv2.GaussianBlur(f, (0, 0), 2) for f in noise]).round().astype(np.uint8)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """A cache with two val runs and precomputed priors, and a folder in the authors' layout."""
    root = tmp_path_factory.mktemp("eval")
    rng = np.random.default_rng(0)
    runs, sharp = [], {}
    with atomic.atomic_dir(root / "cache") as tmp:
        for name in ("r1-00", "r2-00"):
            sharp[name] = smooth_frames(rng, T)
            p68 = rng.uniform([8, 8], [W - 8, H - 8], (T, 68, 2)).astype(np.float32)
            meta = dict(name=name, clip_id=name, identity=name, split="val")
            runs.append(cache.write_run(tmp, meta, sharp=sharp[name], points68=p68, points5=faces.five_points(p68)))
        cache.write_index(tmp, cache.BuildConfig(), runs, cache.summarize([]))
    for name in sharp:   # what experiments/export_priors.py writes
        store.write_run(root / "priors", name, rng.integers(0, 256, (T, H, W, 4)).astype(np.uint8),
                        rng.normal(size=(T, 239)))
    store.write_index(root / "priors", root / "cache", list(sharp),   # read from frames blurred as the tests blur
                      blur=dataclasses.asdict(blur_settings.PRESETS["paper"]))

    authors = root / "vd001"
    a_sharp, a_blurry = smooth_frames(rng, 5), smooth_frames(rng, 5)
    for sub in ("sharp", "blurry", "face"):
        (authors / sub).mkdir(parents=True)
    for t in range(5):
        name = f"{t + 1:05d}"
        for sub, images in (("sharp", a_sharp), ("blurry", a_blurry)):
            cv2.imwrite(str(authors / sub / f"{name}.png"), images[t][..., ::-1])
        np.savetxt(authors / "face" / f"{name}.txt", [[18, 18], [34, 18], [26, 26], [20, 33], [32, 33]])
    (authors / "bbox.txt").write_text("".join(f"image/{t + 1:05d}.png 8 44 6 40\n" for t in range(5)))
    return dict(root=root, sharp=sharp, authors=authors, a_sharp=a_sharp, a_blurry=a_blurry)


# --- Deblurrer -----------------------------------------------------------------------

def test_deblurrer_reproduces_the_model_and_pads_any_size(nets):
    net, path = nets["base"]
    deblur = load_deblurrer(path)
    assert not deblur.needs_render and not deblur.needs_identity
    x = tf.random.stateless_uniform([1, 40, 48, 15], [0, 1])
    # Multiple of 8: exactly the network, with the saved (float16-rounded) weights.
    np.testing.assert_allclose(deblur(x), deblur.net(x), atol=1e-6)
    np.testing.assert_allclose(deblur(x), net(x), atol=2e-2)
    for height, width in ((37, 45), (41, 50)):
        x = tf.random.stateless_uniform([1, height, width, 15], [height, 2])
        padded = tf.pad(x, [[0, 0], [0, -height % 8], [0, -width % 8], [0, 0]], mode="SYMMETRIC")
        out = deblur(x)
        assert out.shape == (1, height, width, 3)
        np.testing.assert_allclose(out, deblur.net(padded)[:, :height, :width], atol=1e-6)
    assert deblur._run.experimental_get_tracing_count() <= 2   # sizes share one generalised graph


def test_flip_ensemble_averages_the_mirrored_output_and_is_mirror_equivariant(nets):
    plain, both = load_deblurrer(nets["full"][1]), load_deblurrer(nets["full"][1], flip_ensemble=True)
    mirror = lambda image: tf.reverse(image, axis=[2])   # noqa: E731
    x = tf.random.stateless_uniform([1, 40, 48, 15], [3, 1])
    render = tf.random.stateless_uniform([1, 40, 48, 3], [3, 2])
    identity = tf.random.stateless_normal([1, 80], [3, 3])
    want = 0.5 * (plain(x, render, identity) + mirror(plain(mirror(x), mirror(render), identity)))
    np.testing.assert_allclose(both(x, render, identity), want, atol=1e-5)
    np.testing.assert_allclose(both(mirror(x), mirror(render), identity), mirror(both(x, render, identity)),
                               atol=1e-5)
    assert not np.allclose(plain(mirror(x), mirror(render), identity), mirror(plain(x, render, identity)),
                           atol=1e-4)
    assert both(x[:, :37, :45], render[:, :37, :45], identity).shape == (1, 37, 45, 3)


def test_flip_ensemble_scores_each_checkpoint_both_ways(nets):
    config = ev.EvalConfig(checkpoints=(("base", nets["base"][1]),), flip_ensemble=True)
    methods = load_methods(config, notes=[])
    assert [m.name for m in methods] == ["input", "base", "base+flip"]
    assert methods[2].face.deblurrer.flip_ensemble and "flip ensemble" in methods[2].describe()


def test_deblurrer_with_priors_takes_render_and_identity(nets):
    deblur = load_deblurrer(nets["full"][1])
    assert deblur.needs_render and deblur.needs_identity and deblur.needs_priors
    x, render = tf.zeros([1, 37, 45, 15]), tf.zeros([1, 37, 45, 3])
    assert deblur(x, render, tf.zeros([1, 80])).shape == (1, 37, 45, 3)
    with pytest.raises(ValueError, match="needs the render"):
        deblur(x)


def test_wrong_weights_file_fails_with_one_line(nets, tmp_path):
    not_npz = tmp_path / "notes.weights.npz"
    not_npz.write_text("hello")
    recon = tmp_path / "recon.weights.npz"   # a weights file of another kind of model
    dense = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(2)])
    weights.save(dense, recon, stage="pretrain")
    mismatched = tmp_path / "mismatched.weights.npz"   # header says render + identity, weights do not
    with np.load(nets["base"][1]) as z:
        header = json.loads(str(z["header"]))
        header.update(use_render=True, use_identity=True)
        np.savez(mismatched, **dict(z, header=np.array(json.dumps(header))))
    for path, reason in ((tmp_path / "missing.weights.npz", "no such weights file"),
                         (not_npz, "not a deblur3d weights file"), (recon, "not a deblurring model"),
                         (mismatched, "wrong model file or configuration")):
        with pytest.raises(weights.WeightsFileError) as err:
            load_deblurrer(path)
        assert reason in str(err.value) and str(path) in str(err.value) and "\n" not in str(err.value)


# --- evaluation ----------------------------------------------------------------------

def test_precomputed_priors_serve_only_frames_blurred_as_theirs_were(data):
    config = ev.EvalConfig(cache_dir=str(data["root"] / "cache"), priors_dir=str(data["root"] / "priors"),
                           blur=blur_settings.PRESETS["paper"])
    assert cache_source(config).precomputed_priors
    # Another blur than the one the priors were read from: each model must make its own instead.
    other = dataclasses.replace(config, blur=blur_settings.PRESETS["realistic"])
    assert not cache_source(other).precomputed_priors


def test_evaluation_tables_over_a_tiny_dataset(nets, data, tmp_path):
    config = ev.EvalConfig(checkpoints=(("base", str(nets["base"][1])), ("full", str(nets["full"][1])),
                                        ("gone", str(tmp_path / "gone.weights.npz"))),
                           cache_dir=str(data["root"] / "cache"), every=2, authors_dir=str(data["authors"]),
                           priors_dir=str(data["root"] / "priors"), recon=PriorsSettings(recon_weights=None),
                           out=str(tmp_path / "out"), figures=2, identity=False, timing_sizes=(),
                           blur=blur_settings.PRESETS["paper"])
    # A named checkpoint that is not there: refused before anything is scored, not a silent gap.
    with pytest.raises(weights.WeightsFileError, match="checkpoint gone: .*gone.weights.npz: no such weights file"):
        ev.evaluate(config, log=lambda *_: None)
    assert not (tmp_path / "out").exists()
    config = dataclasses.replace(config, checkpoints=config.checkpoints[:2])
    summary, notes = ev.evaluate(config, log=lambda *_: None)

    # PSNR of the input, by hand: blurry centre frame = mean of sharp frames t-2..t+2, clamped.
    expected = []
    for frames in data["sharp"].values():
        for t in range(0, T, 2):
            centre = frames[blur.window_indices(t, T)].astype(np.float64).mean(0) / 255
            expected.append(metrics.psnr(centre, frames[t]))
    assert summary[("val", "input")]["frames"] == 6
    assert summary[("val", "input")]["psnr"] == pytest.approx(np.mean(expected), abs=1e-3)
    # Authors' layout: input = their stored blurry frame N, paired with sharp N.
    a_psnr = [metrics.psnr(b, s) for b, s in zip(data["a_blurry"], data["a_sharp"])]
    assert summary[("authors-vd001", "input")]["psnr"] == pytest.approx(np.mean(a_psnr), abs=1e-3)
    # The full model runs on the cache (precomputed priors), not on the authors' folder (no ReconNet).
    assert set(summary) == {("val", "input"), ("val", "base"), ("val", "full"),
                            ("authors-vd001", "input"), ("authors-vd001", "base")}
    assert any(n.startswith("full not evaluated on authors-vd001") for n in notes)

    out = tmp_path / "out"
    with open(out / "table1.csv") as f:
        rows = list(csv.DictReader(f))
    assert [(r["dataset"], r["method"]) for r in rows] == [
        ("val", "input"), ("val", "base"), ("val", "full"), ("authors-vd001", "input"), ("authors-vd001", "base")]
    assert float(rows[0]["psnr"]) == pytest.approx(np.mean(expected), abs=1e-3)
    assert rows[2]["paper_psnr"] == "37.70"
    table1 = (out / "table1.md").read_text()
    assert "| base | ours, no priors, 0 steps |" in table1 and "| Ren et al. (ours) | 37.70 / 0.9849 |" in table1
    table2 = (out / "table2.md").read_text()
    for row in ("| baseline (no priors) | base |", "| + identity | no checkpoint |", "| + render | no checkpoint |",
                "| + render + identity (full) | full |", "| + render + identity (full) | full: not evaluated"):
        assert row in table2
    # The paired difference of full and base over the 6 val frames, from frames.csv by hand.
    with open(out / "frames.csv") as f:
        frames = [r for r in csv.DictReader(f) if r["dataset"] == "val"]
    by = {m: {r["key"]: float(r["psnr"]) for r in frames if r["method"] == m} for m in ("full", "base")}
    mean, half, n = metrics.paired_difference([by["full"][k] for k in by["base"]], list(by["base"].values()))
    assert n == 6 and f"| + render + identity (full) − baseline (no priors) | full − base | {mean:+.3f} ± {half:.3f} |" \
        in table2
    # Warping error: a column of Table 1, the sharp frames' own value as its floor row.
    assert "| warping error |" in table1 and "| sharp | ground truth |" in table1
    assert len(list((out / "figures").glob("val_*.png"))) == 2
    figure = cv2.imread(str(next((out / "figures").glob("*.png"))))
    assert figure.shape == (H + 40, 4 * W, 3)   # input | base | full | sharp, label strips below


def test_table2_rows_match_checkpoints_by_header():
    def method(name, **header):
        face = types.SimpleNamespace(header=ModelHeader.parse(header), needs_priors=False)
        return Method(name, face)

    methods = [Method("input"), method("dbn", architecture="dbn", use_render=True, use_identity=True),
               method("a", architecture="ours", use_render=True, use_identity=True),
               method("b", architecture="ours", use_render=False, use_identity=False),
               method("c", architecture="ours", use_render=True, use_identity=True),
               method("d", architecture="ours", use_render=False, use_identity=True)]
    rows = {label: [m.name for m in matches] for label, matches, _ in reference.ablation_rows(methods)}
    assert rows == {"baseline (no priors)": ["b"], "+ identity": ["d"], "+ render": [],
                    "+ render + identity (full)": ["a", "c"]}
    assert reference.paper_reference(methods[1]) == ("34.40", "0.9218")
    assert reference.paper_reference(methods[3]) == ("36.74", "0.9817")


def test_identity_uses_the_box_of_the_sharp_frame():
    class Encoder:
        seen = []

        def detect(self, image):
            self.seen.append(image.mean())
            return (1, 2, 3, 4)

        def descriptor(self, image, box):
            assert box == (1, 2, 3, 4)
            return np.array([1.0, image.mean()])

    sharp = np.zeros((8, 8, 3))
    score = metrics.identity_scorer(Encoder(), sharp)
    assert score(sharp) == pytest.approx(1.0) and score(np.ones((8, 8, 3))) == pytest.approx(np.sqrt(0.5))
    assert Encoder.seen == [0.0]   # detected once, on the sharp frame
    assert np.isnan(metrics.identity_scorer(None, sharp)(sharp))


def test_face_region_from_68_or_5_points():
    p68 = np.array([[10, 10], [30, 10], [30, 30], [10, 30]] * 17, np.float32)
    assert face_mask((40, 40), p68).sum() == pytest.approx(21 * 21, abs=1)
    p5 = np.array([[15, 15], [25, 15], [20, 20], [15, 25], [25, 25]], np.float32)
    assert face_mask((40, 40), None, p5).sum() == face_mask((40, 40), p68).sum()   # ×2 about the centre


def test_timing_table(nets, tmp_path):
    calls = []

    class Online:   # the model's own priors, timed with it
        def available(self):
            return True

        def __call__(self, blurry, points5):
            calls.append(blurry.shape)
            return tf.zeros(blurry.shape[:3] + (3,)), tf.zeros([1, 80])

    methods = [Method("input"), Method("base", FaceDeblurrer(load_deblurrer(nets["base"][1]))),
               Method("full", FaceDeblurrer(load_deblurrer(nets["full"][1]), Online()))]
    sizes = ((40, 48), (44, 52))
    seconds = timing.time_methods(methods, sizes, repeats=1)
    assert set(seconds) == {"base", "full"} and all(len(v) == 2 and min(v) > 0 for v in seconds.values())
    assert calls == [(1, 40, 48, 15)] * 2 + [(1, 44, 52, 15)] * 2   # priors timed with the model needing them
    writers.write_table3(tmp_path, methods, sizes, seconds, 1, "")
    assert "| method | model | 40×48 | 44×52 |\n" in (tmp_path / "table3.md").read_text()   # no paper column
    writers.write_table3(tmp_path, methods, reference.PAPER_SIZES, seconds, 1, "")   # the paper's sizes: its numbers beside
    text = (tmp_path / "table3.md").read_text()
    assert "| method | model | 360×450 | 580×610 | paper Titan X 360×450 | paper Titan X 580×610 |" in text
    assert "| full | ours + render + identity, 0 steps (priors included) |" in text and "0.67 | 0.70 |" in text


def test_evaluate_script_without_a_cache_says_how_to_build_it(tmp_path):
    script = Path(__file__).resolve().parents[1] / "experiments" / "evaluate.py"
    run = subprocess.run([sys.executable, str(script), f"--cache_dir={tmp_path / 'none'}", "--timing_sizes=",
                          "--noidentity", f"--out={tmp_path / 'results'}"], capture_output=True, text=True)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    want = f"error: no data cache at {tmp_path / 'none'}: build it with `make data`"
    assert run.stderr.strip().splitlines()[-1] == want
    assert not (tmp_path / "results").exists()


def test_a_model_takes_precomputed_priors_only_when_made_its_way(nets, tmp_path):
    from deblur3d.eval.sources import Source
    from deblur3d.priors.settings import recipe_of

    class Online:   # a model's own priors: counts calls, returns a render of its own
        def __init__(self, refine):
            self.settings, self.calls = PriorsSettings(refine_landmarks=refine), 0

        def __call__(self, blurry, points5):
            self.calls += 1
            return np.full(blurry.shape[:3] + (3,), 0.5, np.float32), np.zeros((1, 80), np.float32)

    rng = np.random.default_rng(0)
    frame = dict(key="r/0", blurry=rng.uniform(size=(H, W, 15)).astype(np.float32),
                 sharp=rng.uniform(size=(H, W, 3)).astype(np.float32),
                 points5=np.array([[15, 15], [35, 15], [25, 22], [17, 30], [33, 30]], np.float32),
                 points68=None, render=np.zeros((H, W, 3), np.float32), identity=np.zeros(80, np.float32))
    plain, refined = Online(0), Online(200)
    methods = [Method("plain", FaceDeblurrer(load_deblurrer(nets["full"][1]), plain)),
               Method("refined", FaceDeblurrer(load_deblurrer(nets["full"][1]), refined))]
    source = Source("val", "", ["r/0"], lambda: iter([frame]), precomputed_priors=True,
                    priors_recipe=PriorsSettings(refine_landmarks=0).recipe)
    ev.evaluate_source(source, methods)
    assert (plain.calls, refined.calls) == (0, 1)   # the refined model's priors are its own
    store.write_index(tmp_path, "cache", [], {}, refined=dict(steps=200, frames_without_detection=0),
                      recon="recon_ict.weights.npz")
    assert recipe_of(tmp_path) == dict(refine_landmarks=200, texture="recon", recon="recon_ict.weights.npz")
    assert recipe_of(tmp_path / "none") is None
    ev.evaluate_source(Source("val", "", ["r/0"], lambda: iter([frame]), True, recipe_of(tmp_path)), methods)
    assert (plain.calls, refined.calls) == (1, 1)


def test_priors_settings_follow_the_model_unless_told():
    def header(**raw):
        return ModelHeader.parse(dict(raw, architecture="ours"))

    assert PriorsSettings().for_model(header(refine_landmarks=200)).recipe["refine_landmarks"] == 200
    assert PriorsSettings().for_model(header()).recipe["refine_landmarks"] == 0                                   # older files: none
    assert PriorsSettings(refine_landmarks=0).for_model(header(refine_landmarks=200)).recipe["refine_landmarks"] == 0   # told: the paper's
    assert PriorsSettings().for_model(header(priors_texture="basis")).recipe == dict(
        refine_landmarks=0, texture="basis", recon="recon_ict.weights.npz")
    assert PriorsSettings().for_model(header()).recipe["texture"] == "recon"
    assert PriorsSettings().for_model(None).recipe == PAPER_RECIPE
    assert PriorsSettings(texture="frame").for_model(header(priors_texture="basis")).texture == "frame"


def test_a_model_is_fed_priors_of_the_reconnet_its_own_were_made_with(tmp_path):
    def header(**raw):
        return ModelHeader.parse(dict(raw, architecture="ours"))

    people = header(priors_recon="recon_people.weights.npz", priors_texture="basis")
    assert PriorsSettings().for_model(people).recon_weights == str(paths.RECON_PEOPLE)
    assert PriorsSettings().for_model(header()).recon_weights == str(paths.RECON_WEIGHTS)   # older files: recon_ict
    mine = str(tmp_path / "mine.weights.npz")                                               # told: the user's file
    assert PriorsSettings(recon_weights=mine).for_model(people).recon_weights == mine
    assert PriorsSettings(recon_weights=mine).recipe["recon"] == mine                       # kept whole outside checkpoints/
    assert PriorsSettings(recon_weights=None).for_model(people).recon_weights is None       # untrained stays untrained
    assert PriorsSettings(recon_weights=str(paths.RECON_PEOPLE)).recipe["recon"] == "recon_people.weights.npz"
    made = PriorsSettings().for_export()                                                    # no model: the default
    assert (made.recon_weights, made.recipe) == (str(paths.RECON_PEOPLE), DEFAULT_RECIPE)
    assert made.made and not PriorsSettings().made
    assert ModelHeader.parse(json.loads(json.dumps(people.fields()))).recipe == people.recipe


def test_the_model_header_reads_old_and_new_files_and_refuses_others():
    old = ModelHeader.parse(dict(architecture="dbn", use_render=False, use_identity=False, blur_window=7, steps=9,
                                 residual=True, content="psnr"))
    assert (old.architecture, old.use_render, old.arch.residual, old.steps, old.stride) == ("dbn", False, True, 9, 1)
    assert old.blur == {"window": 7, "stride": 1} and old.extra == {"content": "psnr"}
    new = ModelHeader(archs.Arch(use_render=False, blocks=2), steps=3, blur={"window": 5, "stride": 5}, extra={"content": "l1"})
    written = json.loads(json.dumps(new.fields()))
    assert ModelHeader.parse(written) == new and ModelHeader.parse(written).extra == {"content": "l1"}
    assert set(written) == {"arch", "steps", "blur", "refine_landmarks", "priors_texture", "priors_recon",
                            "content"}   # each once
    with pytest.raises(weights.WeightsFileError, match="not a deblurring model"):
        ModelHeader.parse(dict(model="ReconNet"))


def test_a_loaded_model_makes_its_priors_as_its_header_says(nets, tmp_path):
    from deblur3d.deblur.face_deblurrer import load_face_deblurrer
    path = tmp_path / "refined.weights.npz"
    weights.save(nets["full"][0], path, architecture="ours", use_render=True, use_identity=True, residual=True,
                 steps=0, refine_landmarks=200)
    assert load_face_deblurrer(path, PriorsSettings(recon_weights=None)).priors.settings.recipe["refine_landmarks"] == 200
    told = load_face_deblurrer(path, PriorsSettings(recon_weights=None, refine_landmarks=0))
    assert told.priors.settings.recipe["refine_landmarks"] == 0
    assert load_face_deblurrer(nets["full"][1], PriorsSettings(recon_weights=None)).priors.settings.recipe["refine_landmarks"] == 0


def test_a_frame_as_a_photo_is_made_of_its_centre_frame_alone():
    stack = np.arange(2 * 2 * 15, dtype=np.float32).reshape(1, 2, 2, 15)
    photo = ev.as_photo(stack, shift=0)
    assert photo.shape == stack.shape
    for k in range(5):
        assert np.array_equal(photo[..., 3 * k:3 * k + 3], stack[..., 6:9])
    np.testing.assert_array_equal(ev.as_photo(stack), blur.photo_stack(stack[..., 6:9], 5, blur.PHOTO_SHIFT))
