"""The bundled model: shipped in the package, loaded without pickle, and good enough."""

import json
from importlib.metadata import entry_points
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest
from safetensors import safe_open

from segviewer.core.data.synthetic import make_dataset_samples
from segviewer.core.model.evaluation import predict_samples
from segviewer.core.model.registry import open_model
from segviewer.core.model.scores import mean_scores, score_sample

FRESH_SEED = 31337  # not among the training (1-6) or validation (99) seeds
SPOT_3D_DICE = 0.90


@pytest.fixture(scope="module")
def bundled():
    return open_model("bundled")


def test_it_registers_like_a_third_party_and_ships_small_weights(bundled):
    (entry,) = [ep for ep in entry_points(group="segviewer.models") if ep.name == "bundled"]
    assert entry.value == "segviewer_bundled:load"
    weights = Path(str(files("segviewer_bundled") / "bundled.safetensors"))
    assert weights.stat().st_size <= 5_000_000
    with safe_open(str(weights), framework="pt") as handle:  # tensors and JSON only
        info = json.loads(handle.metadata()["segviewer"])
    assert info["classes"] == ["background", "cell", "spot"]
    assert info["normalization"] == {"low": 1.0, "high": 99.8}
    assert info["architecture"]["name"] == "BasicUNet"
    assert info["training"]["torch_seed"] == 0 and info["training"]["steps"] > 0
    assert set(info["scores"]["dice"]) == {"background", "cell", "spot"}
    assert bundled.info.classes == info["classes"]


def test_it_segments_fresh_samples_well(bundled):
    samples = make_dataset_samples(FRESH_SEED, count=3, volumes=0)
    scores = [score_sample(s.masks, labels) for s, labels in predict_samples(samples, bundled)]
    dice = mean_scores(scores).dice
    assert dice[1] >= 0.90, f"cell Dice {dice[1]:.3f}"
    assert dice[2] >= 0.80, f"spot Dice {dice[2]:.3f}"
    assert np.isfinite(dice[0])


def fresh_volumes(count: int = 3):
    from segviewer.core.data.synthetic import make_sample

    rng = np.random.default_rng(FRESH_SEED)  # not the 3D training (1-4) or validation (99) seeds
    return [make_sample(rng, (48, 96, 96), f"fresh_{i}") for i in range(count)]


def test_the_bundled_3d_model_ships_small_and_segments_fresh_volumes_in_3d(bundled):
    volume_model = bundled.volume_model
    weights = Path(str(files("segviewer_bundled") / "bundled_3d.safetensors"))
    assert weights.stat().st_size <= 3_000_000
    assert volume_model.info.spatial_dims == 3 and volume_model.info.classes == bundled.info.classes
    assert volume_model.info.training["torch_seed"] == 0
    samples = fresh_volumes()
    scores = [score_sample(s.masks, labels) for s, labels in predict_samples(samples, bundled)]
    dice = mean_scores(scores).dice
    assert dice[1] >= 0.90, f"cell Dice {dice[1]:.3f}"
    assert dice[2] >= SPOT_3D_DICE, f"spot Dice {dice[2]:.3f}"


def test_volumes_are_predicted_by_the_3d_model_not_slice_by_slice(bundled):
    from segviewer.core.model.files import LoadedModel
    from segviewer.core.model.inference import predict

    sample = fresh_volumes(1)[0]
    through_pair = predict(bundled, sample.image, None)
    three_d = predict(bundled.volume_model, sample.image, None)
    slices = predict(LoadedModel(bundled.info, bundled.network), sample.image, None)
    np.testing.assert_array_equal(through_pair, three_d)
    assert not np.array_equal(through_pair.argmax(0), slices.argmax(0))
    two_d = make_dataset_samples(FRESH_SEED, count=1, volumes=0)[0]
    np.testing.assert_array_equal(  # 2D images still go to the 2D network
        predict(bundled, two_d.image, None),
        predict(LoadedModel(bundled.info, bundled.network), two_d.image, None),
    )
