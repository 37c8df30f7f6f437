"""The precomputed priors' disk format (deblur3d/data/priors_store.py): what is written is read
back exactly, by the store and by the data pipeline that feeds training and evaluation."""
import dataclasses
import json

import numpy as np
import pytest

from deblur3d import atomic
from deblur3d.data import blur_settings, cache, faces, pipeline
from deblur3d.data.samples import SampleReader
from deblur3d.data import priors_store as store
from deblur3d.priors.settings import recipe_of

T, H, W = 4, 40, 48


def priors(seed):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (T, H, W, 4)).astype(np.uint8), rng.normal(size=(T, 239)).astype(np.float32)


def test_a_run_and_the_index_round_trip_exactly(tmp_path):
    render, coeffs = priors(0)
    store.write_run(tmp_path, "clip-00", render, coeffs)
    store.write_index(tmp_path, "cache/data", ["clip-00"], dict(window=5), note="n",
                      refined=dict(steps=200, frames_without_detection=1), texture="basis", recon="recon_people.weights.npz")
    back = store.load_run(tmp_path, "clip-00")
    assert back["render"].dtype == np.uint8 and np.array_equal(back["render"], render)
    assert back["coeffs"].dtype == np.float32 and np.array_equal(back["coeffs"], coeffs)
    assert store.read_index(tmp_path)["runs"] == ["clip-00"]
    assert recipe_of(tmp_path) == dict(refine_landmarks=200, texture="basis", recon="recon_people.weights.npz")
    index = store.read_index(tmp_path)
    for key in ("refined", "texture", "recon"):   # an older folder: the paper's recipe with recon_ict
        index.pop(key)
    (tmp_path / store.INDEX).write_text(json.dumps(index))
    assert recipe_of(tmp_path) == dict(refine_landmarks=0, texture="recon", recon="recon_ict.weights.npz")
    assert recipe_of(tmp_path / "elsewhere") is None and recipe_of(None) is None


def test_priors_know_the_blur_they_were_read_from(tmp_path):
    paper, realistic = blur_settings.PRESETS["paper"], blur_settings.PRESETS["realistic"]
    store.write_index(tmp_path, "cache/data", [], dataclasses.asdict(realistic))   # tuples come back as lists
    assert store.blur_matches(tmp_path, realistic) and not store.blur_matches(tmp_path, paper)
    assert not store.blur_matches(tmp_path / "elsewhere", realistic) and not store.blur_matches(None, realistic)


def test_bad_arrays_are_refused_and_a_missing_run_is_named(tmp_path):
    render, coeffs = priors(1)
    with pytest.raises(ValueError, match="uint8"):
        store.write_run(tmp_path, "a", render.astype(np.float32), coeffs)
    with pytest.raises(ValueError, match="coefficients"):
        store.write_run(tmp_path, "b", render, coeffs[:2])
    with pytest.raises(FileNotFoundError, match="no exported priors for run c-00"):
        store.load_run(tmp_path, "c-00")


def test_the_data_pipeline_reads_what_the_store_wrote(tmp_path):
    rng = np.random.default_rng(2)
    p68 = rng.uniform(8, 32, (T, 68, 2)).astype(np.float32)
    sharp = rng.integers(0, 256, (T, H, W, 3)).astype(np.uint8)
    with atomic.atomic_dir(tmp_path / "cache") as tmp:
        meta = dict(name="v-00", clip_id="v", identity="v", split="val")
        run = cache.write_run(tmp, meta, sharp=sharp, points68=p68, points5=faces.five_points(p68))
        cache.write_index(tmp, cache.BuildConfig(), [run], cache.summarize([]))
    render, coeffs = priors(3)
    store.write_run(tmp_path / "priors", "v-00", render, coeffs)
    runs = cache.Cache(tmp_path / "cache").runs("val")
    reader = SampleReader(runs, 5, pipeline.PipelineConfig(blur="paper").blur_config, tmp_path / "priors")
    out = reader.read(0, 2, 0, 0, H, W, 5, (0, 0, 2))
    assert np.array_equal(out[5], render[2]) and out[6] == 1
    assert np.array_equal(out[7], coeffs[2]) and out[8] == 1
    aligned = pipeline.aligned_dataset(pipeline.PipelineConfig(cache_dir=str(tmp_path / "cache"), split="val",
                                                               blur="paper", batch_size=T,
                                                               priors_dir=str(tmp_path / "priors")),
                                       shuffle=False, repeat=False)
    batch = next(iter(aligned))   # what ReconNet's distill term learns from
    np.testing.assert_array_equal(batch["coeffs"].numpy(), coeffs)
    np.testing.assert_array_equal(batch["has_coeffs"].numpy(), np.ones(T))
