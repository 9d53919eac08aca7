"""``segviewer predict`` and ``segviewer evaluate`` with a user's TorchScript model."""

import json

import numpy as np
import pytest
import torch
from conftest import small_sample, write_npz
from test_cli import run_cli
from test_models import Thresholds

from segviewer.core.io.readers import open_dataset
from segviewer.core.model.scores import score_sample

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / "thresholds.pt"
    torch.jit.script(Thresholds()).save(str(path))
    return path


def thresholds(image: np.ndarray) -> np.ndarray:
    """What the Thresholds model predicts, computed directly: the nearest of 0, 100, 200
    (a tie goes to the lower class, as argmax does)."""
    return np.clip(np.ceil(image.astype(np.float64) / 100 - 0.5), 0, 2).astype(np.int64)


def test_predict_writes_index_labels_that_evaluate_scores(tmp_path, model_file):
    samples = [small_sample(seed=1, name="a"), small_sample(seed=2, name="b")]
    for s in samples:
        s.image = (s.image.astype(np.float64) * 250 / s.image.max()).astype(np.uint16)
    paths = [write_npz(tmp_path / f"{s.name}.npz", s) for s in samples]
    out = tmp_path / "pred"
    result = run_cli("predict", *paths, "--model", model_file, "--out", out)
    assert result.returncode == 0, result.stderr
    predicted = open_dataset(out)
    for sample in samples:
        labels = np.zeros(sample.spatial_shape, np.int64)
        saved = predicted.sample(predicted.names.index(sample.name))
        for c, mask in enumerate(saved.masks):
            labels[mask > 0] = c + 1
        np.testing.assert_array_equal(labels, thresholds(sample.image))

    from_files = run_cli("evaluate", *paths, "--pred", out, "--json")
    from_model = run_cli("evaluate", *paths, "--model", model_file, "--json")
    assert from_files.returncode == 0 and from_model.returncode == 0, from_model.stderr
    report = json.loads(from_files.stdout)
    assert report == json.loads(from_model.stdout)
    scores = [score_sample(s.masks, thresholds(s.image)) for s in samples]
    assert report["classes"] == ["background", "cell", "spot"]
    assert [p["dice"] for p in report["per_sample"]] == [pytest.approx(s.dice) for s in scores]
    assert report["dice"] == pytest.approx([np.mean([s.dice[c] for s in scores]) for c in range(3)])
    assert report["confusion"] == (scores[0].confusion + scores[1].confusion).tolist()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--model", "nonesuch"], "nonesuch: neither a registered model"),
        (["--device", "tpu"], "--device must be cpu or cuda"),
    ],
)
def test_bad_model_options_exit_2(tmp_path, args, message):
    path = write_npz(tmp_path / "a.npz", small_sample(name="a"))
    result = run_cli("evaluate", path, *args)
    assert result.returncode == 2
    assert result.stderr.strip().startswith(f"segviewer: error: {message}")


def test_predict_leaves_nothing_when_the_model_fails(tmp_path):
    path = tmp_path / "four.pt"
    torch.jit.script(Thresholds(4)).save(str(path))
    data = write_npz(tmp_path / "a.npz", small_sample(name="a"))
    result = run_cli("predict", data, "--model", path, "--out", tmp_path / "out")
    assert result.returncode == 2 and "returned logits of shape" in result.stderr
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_resolve_by_model_gives_conflicts_to_the_most_probable_class(tmp_path, model_file):
    sample = small_sample(seed=3, name="a")
    sample.image = (sample.image.astype(np.float64) * 250 / sample.image.max()).astype(np.uint16)
    path = write_npz(tmp_path / "a.npz", sample)
    out = tmp_path / "resolved"
    result = run_cli("resolve", path, "--rule", "model", "--model", model_file, "--out", out)
    assert result.returncode == 0, result.stderr
    resolved = open_dataset(out).sample(0).masks
    conflicts = np.argwhere(sample.masks.sum(axis=0) > 1)
    assert len(conflicts) > 0
    for y, x in conflicts:
        # both classes claim the pixel: the one whose level is nearer wins (cell on ties)
        value = int(sample.image[y, x])
        winner = 1 if abs(value - 200) < abs(value - 100) else 0
        assert resolved[winner, y, x] == 1 and resolved[1 - winner, y, x] == 0


def test_finetune_writes_a_model_that_predict_uses(tmp_path):
    data, resolved = tmp_path / "data", tmp_path / "resolved"
    assert run_cli("sample", "--out", data, "--count", "3", "--volumes", "0").returncode == 0
    refused = run_cli(
        "finetune", data, "--loss", "dice", "--steps", "2", "--out", tmp_path / "x.safetensors"
    )
    assert refused.returncode == 2 and "conflict pixels are not resolved" in refused.stderr
    assert not (tmp_path / "x.safetensors").exists()
    args = ("resolve", data, "--rule", "priority", "--priority", "spot", "--out", resolved)
    assert run_cli(*args).returncode == 0
    tuned = tmp_path / "tuned.safetensors"
    result = run_cli(
        "finetune", resolved, "--loss", "dicece", "--weights", "median_frequency",
        "--steps", "6", "--batch", "2", "--patch", "64", "--out", tuned,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("validation Dice (best, step ")
    predicted = run_cli("evaluate", resolved, "--model", tuned, "--json")
    assert predicted.returncode == 0, predicted.stderr
    assert json.loads(predicted.stdout)["classes"] == ["background", "cell", "spot"]
    from segviewer.core.model.files import load_model

    _, info = load_model(tuned)
    assert info.training["loss"]["name"] == "dicece"
    assert info.training["weights"] == "median_frequency" and info.training["steps"] == 6
    assert len(info.training["train"]) + len(info.training["validation"]) == 3


def test_finetune_can_ignore_conflicts_and_reads_the_loss_options(tmp_path):
    data = tmp_path / "data"
    assert run_cli("sample", "--out", data, "--count", "3", "--volumes", "0").returncode == 0
    tuned = tmp_path / "focal.safetensors"
    result = run_cli(
        "finetune", data, "--loss", "focal", "--gamma", "1.5", "--conflicts", "ignore",
        "--no-background-dice", "--steps", "2", "--batch", "2", "--patch", "64", "--out", tuned,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    from segviewer.core.model.files import load_model

    _, info = load_model(tuned)
    assert info.training["conflicts"] == "ignore"
    assert info.training["loss"] == {
        "name": "focal", "include_background": False, "lambda_dice": 1.0, "lambda_ce": 1.0,
        "gamma": 1.5,
    }  # fmt: skip


def test_compare_losses_prints_one_row_per_run(tmp_path):
    data = tmp_path / "data"
    assert run_cli("sample", "--out", data, "--count", "3", "--volumes", "0").returncode == 0
    args = ("--conflicts", "ignore", "--steps", "2", "--batch", "2", "--patch", "64")
    result = run_cli("compare-losses", data, "--runs", "dice", "ce:inverse_frequency", *args,
                     "--json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [r["run"] for r in report["runs"]] == ["dice", "ce:inverse_frequency"]
    assert report["classes"] == ["background", "cell", "spot"]
    assert all(len(r["dice"]) == 3 and r["stopped"] is None for r in report["runs"])
    assert report["runs"][0]["class_weights"] == [1.0, 1.0, 1.0]
    table = run_cli("compare-losses", data, "--runs", "dicece", *args, "--from-scratch")
    assert table.returncode == 0, table.stderr
    assert table.stdout.splitlines()[0].split() == ["run", "dice", "background", "dice", "cell",
                                                    "dice", "spot", "best", "step"]  # fmt: skip
    bad = run_cli("compare-losses", data, "--runs", "dice:often", *args)
    assert bad.returncode == 2 and "'dice:often': expected LOSS[:SCHEME][:nobg]" in bad.stderr
    assert "Traceback" not in bad.stderr
