"""CLI routes for what the panel shows: conflicts, the loss snippet, error maps."""

import json

import imageio.v3 as iio
import numpy as np
import pytest
import tifffile
from scipy import ndimage as ndi

from segviewer.cli import main
from segviewer.core.io.readers import open_dataset
from segviewer.core.model.inference import labels_of, predict
from segviewer.core.model.registry import open_model


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    out = tmp_path_factory.mktemp("routes") / "data"
    assert main(["sample", "--out", str(out), "--count", "2", "--volumes", "1"]) == 0
    return out


def test_conflicts_json_matches_an_independent_count(data, capsys):
    capsys.readouterr()
    assert main(["conflicts", str(data), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    dataset = open_dataset(str(data))
    total = 0
    for sample, record in zip(dataset, report["samples"], strict=True):
        masks = sample.masks.astype(bool)
        overlap = masks.sum(axis=0) >= 2
        both = (masks[0] & masks[1])[overlap].sum()
        assert record["combinations"] == (
            [{"classes": ["cell", "spot"], "pixels": int(both)}] if both else []
        )
        labels, count = ndi.label(overlap, np.ones((3,) * overlap.ndim))
        assert len(record["regions"]) == count
        sizes = sorted(np.bincount(labels.ravel())[1:].tolist(), reverse=True)
        assert [r["size"] for r in record["regions"]] == sizes
        first = record["regions"][0]
        box = tuple(slice(a, b) for a, b in first["bbox"])
        assert overlap[box].sum() >= first["size"]
        total += int(both)
    assert report["combinations"] == [{"classes": ["cell", "spot"], "pixels": total}]


def test_stats_snippet_is_python_that_builds_the_weights_it_prints(data, tmp_path, capsys):
    pytest.importorskip("monai")
    snippet = tmp_path / "loss.py"
    assert (
        main(
            [
                "stats",
                str(data),
                "--json",
                "--snippet",
                str(snippet),
                "--scheme",
                "inverse_frequency",
            ]
        )
        == 0
    )
    stats = json.loads(capsys.readouterr().out)
    scope: dict = {}
    exec(snippet.read_text(), scope)
    expected = stats["normalized_weights"]["inverse_frequency"]
    np.testing.assert_allclose(scope["CLASS_WEIGHTS"].numpy(), expected, rtol=1e-5)
    assert scope["CLASS_NAMES"] == stats["classes"]
    assert main(["stats", str(data), "--snippet", str(snippet)]) == 2  # never overwritten
    assert "already exists" in capsys.readouterr().err


def test_evaluate_error_maps_are_the_errors_of_the_prediction(data, tmp_path, capsys):
    maps = tmp_path / "maps"
    assert main(["evaluate", str(data), "--error-maps", str(maps)]) == 0
    dataset = open_dataset(str(data))
    model = open_model("bundled", ["background", *dataset.sample(0).class_names])
    for sample in dataset:
        written = maps / f"{sample.name}.{'tif' if sample.masks.ndim == 4 else 'png'}"
        found = tifffile.imread(written) if written.suffix == ".tif" else iio.imread(written)
        predicted = labels_of(predict(model, sample.image, None))
        truth = sample.masks.astype(bool)
        expected = np.zeros(predicted.shape, np.uint8)
        for y in np.ndindex(predicted.shape):
            p, claims = predicted[y], truth[(slice(None), *y)]
            if claims.any() and p == 0:
                expected[y] = 1
            elif not claims.any() and p > 0:
                expected[y] = 2
            elif p > 0 and not claims[p - 1]:
                expected[y] = 3
        np.testing.assert_array_equal(found, expected)
        break  # one sample pixel by pixel is enough; the others were written
    assert sorted(p.stem for p in maps.iterdir()) == dataset.names
