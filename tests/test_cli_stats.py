"""``segviewer stats``: counts and weights equal to an independent count of the files."""

import json
import threading

import numpy as np
import pytest
from conftest import small_sample, write_npz
from test_cli import run_cli
from test_weights import reference_weights

from segviewer.cli import main
from segviewer.core.errors import SegviewerError
from segviewer.core.io.readers import open_dataset
from segviewer.core.stats.weights import SCHEMES


def independent_counts(sample) -> list[int]:
    masks = sample.masks.astype(bool)
    background = ~masks.any(axis=0)
    return [int(background.sum()), *(int(m.sum()) for m in masks)]


def reference_sampler_weights(per_sample: list[list[int]]) -> list[float]:
    """The README's definition read plainly: each sample weighs 1 / (number of samples
    holding its rarest class), then all weights are divided by their sum."""
    holding = [sum(1 for row in per_sample if row[c] > 0) for c in range(len(per_sample[0]))]
    raw = [
        max((1 / holding[c] for c, n in enumerate(row) if n > 0), default=0) for row in per_sample
    ]
    return [w / sum(raw) for w in raw]


def test_sampler_weights_edge_cases():
    from segviewer.core.stats.sampler import sampler_weights

    # class 2 only in the last sample; sample 1 has no pixel at all; class 3 absent
    counts = [[10, 5, 0, 0], [0, 0, 0, 0], [7, 0, 1, 0], [3, 3, 0, 0]]
    assert sampler_weights(np.array(counts)).tolist() == pytest.approx(
        reference_sampler_weights(counts)
    )
    weights = sampler_weights(np.array(counts))
    assert weights[1] == 0 and weights[2] == max(weights) and weights.sum() == pytest.approx(1)
    assert sampler_weights(np.array([[4, 0]])).tolist() == [1.0]  # one sample
    assert sampler_weights(np.array(counts), "uniform").tolist() == [0.25] * 4
    with pytest.raises(SegviewerError, match="sampler 'x'"):
        sampler_weights(np.array(counts), "x")


def test_stats_json_on_a_dataset_folder(dataset_folder):
    result = run_cli("stats", dataset_folder, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    samples = list(open_dataset(dataset_folder))
    per_sample = [independent_counts(s) for s in samples]
    assert set(report) == {
        "classes", "counts", "frequencies", "conflicts", "samples", "present_in", "beta",
        "weights", "normalized_weights", "sampler", "per_sample",
    }  # fmt: skip
    assert report["classes"] == ["background", "cell", "spot"]
    assert report["samples"] == len(samples) == 4
    assert report["counts"] == np.sum(per_sample, axis=0).tolist()
    total = sum(map(sum, per_sample))
    assert report["frequencies"] == pytest.approx([n / total for n in report["counts"]])
    conflicts = [int((s.masks.sum(axis=0) >= 2).sum()) for s in samples]
    assert report["conflicts"] == sum(conflicts)
    assert report["present_in"] == [sum(row[c] > 0 for row in per_sample) for c in range(3)]
    assert [
        {k: v for k, v in p.items() if k != "sampler_weight"} for p in report["per_sample"]
    ] == [
        {"name": s.name, "counts": row, "conflicts": n}
        for s, row, n in zip(samples, per_sample, conflicts, strict=True)
    ]
    assert report["sampler"] == "rarest_class"
    assert [p["sampler_weight"] for p in report["per_sample"]] == pytest.approx(
        reference_sampler_weights(per_sample), rel=1e-12
    )
    expected = reference_weights(per_sample)
    for scheme in SCHEMES:
        assert report["weights"][scheme] == pytest.approx(expected[scheme], rel=1e-9)
        present = np.array(report["counts"]) > 0
        mean = np.mean(np.array(expected[scheme])[present])
        assert report["normalized_weights"][scheme] == pytest.approx(
            [w / mean for w in expected[scheme]], rel=1e-9
        )


def test_parallel_and_single_process_agree(dataset_folder, capsys):
    assert main(["stats", str(dataset_folder), "--json", "--workers", "1"]) == 0
    single = capsys.readouterr().out
    assert main(["stats", str(dataset_folder), "--json", "--workers", "2"]) == 0
    assert capsys.readouterr().out == single


def test_spawned_workers_when_the_caller_has_threads(dataset_folder, capsys):
    """A process with threads must not fork: the workers are spawned and open the dataset."""
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert main(["stats", str(dataset_folder), "--json", "--workers", "2"]) == 0
    finally:
        stop.set()
        thread.join()
    spawned = json.loads(capsys.readouterr().out)
    assert main(["stats", str(dataset_folder), "--json", "--workers", "1"]) == 0
    assert json.loads(capsys.readouterr().out) == spawned


def test_stats_beta_and_the_table(tmp_path, capsys):
    path = write_npz(tmp_path / "a.npz", small_sample(seed=4, name="a"))
    assert main(["stats", str(path), "--json", "--beta", "0.9"]) == 0
    report = json.loads(capsys.readouterr().out)
    expected = reference_weights([report["per_sample"][0]["counts"]], beta=0.9)
    assert report["beta"] == 0.9
    assert report["weights"]["effective_number"] == pytest.approx(expected["effective_number"])
    assert main(["stats", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split() == ["class", "pixels", "fraction", "in", "samples", *SCHEMES]
    assert [line.split()[0] for line in lines[3:6]] == ["background", "cell", "spot"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--beta", "1"], "--beta must be in [0, 1), got 1.0"),
        (["--workers", "0"], "--workers must be at least 1"),
    ],
)
def test_stats_bad_options(tmp_path, args, message):
    path = write_npz(tmp_path / "a.npz", small_sample(name="a"))
    result = run_cli("stats", path, *args)
    assert result.returncode == 2
    assert result.stderr.strip() == f"segviewer: error: {message}"


def test_stats_refuses_samples_with_different_classes(tmp_path):
    a = small_sample(seed=1, name="a")
    b = small_sample(seed=2, name="b")
    b.class_names = ["spot", "cell"]
    paths = [write_npz(tmp_path / "a.npz", a), write_npz(tmp_path / "b.npz", b)]
    result = run_cli("stats", *paths)
    assert result.returncode == 2
    assert result.stderr.startswith("segviewer: error: b: classes ['spot', 'cell'] differ")
    assert len(result.stderr.strip().splitlines()) == 1
