"""predict, evaluate and export monai as Dask dataset jobs: a real scheduler and two workers
on 127.0.0.1 against the in-process run (issue 14)."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import cloudpickle
import nibabel
import numpy as np
import pytest

from segviewer.cli import main
from segviewer.core.data.synthetic import make_sample
from segviewer.core.errors import SegviewerError
from segviewer.core.io.readers import open_dataset
from segviewer.core.io.writers import save_samples
from segviewer.core.jobs import Engine, EngineSpec
from segviewer.core.jobs import models as model_jobs
from segviewer.core.jobs.models import ModelSpec, evaluate_dataset, model_for
from segviewer.core.progress import Progress

cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import tests


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """Five 128² samples and a small volume, as a dataset folder (PNG, TIFF)."""
    rng = np.random.default_rng(14)
    samples = [make_sample(rng, (128, 128), f"s{i}") for i in range(5)]
    samples.append(make_sample(rng, (16, 48, 48), "v0"))
    return save_samples(samples, tmp_path_factory.mktemp("models") / "data", "masks")


def run(argv, capsys) -> str:
    assert main(argv) == 0, capsys.readouterr().err
    return capsys.readouterr().out


def files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def worker_state() -> tuple[int, list]:
    import torch

    return torch.get_num_threads(), [key[0] for key in model_jobs._MODELS]


@pytest.fixture(scope="module")
def predicted(data, scheduler, tmp_path_factory):
    """``segviewer predict`` in this process and on the cluster: (folder, folder)."""
    root = tmp_path_factory.mktemp("predicted")
    outs = []
    for where in ("synchronous", scheduler):
        outs.append(root / ("one" if where == "synchronous" else "cluster"))
        assert main(["predict", str(data), "--out", str(outs[-1]), "--scheduler", where]) == 0
    return outs


def test_a_cluster_predicts_the_same_files(predicted, scheduler):
    from distributed import Client

    one, cluster = predicted
    assert files(one) == files(cluster)
    assert len(files(cluster)) == 2 * 6 + 1  # images/, labels/ and classes.txt
    with Client(scheduler, timeout=30) as client:
        states = client.run(worker_state).values()
    # torch on one thread per worker; the model opened once in each worker that ran a task
    assert all(threads == 1 and models in ([], ["bundled"]) for threads, models in states)
    assert any(models == ["bundled"] for _, models in states)


@pytest.mark.parametrize("source", ["model", "saved"])
def test_a_cluster_scores_the_same(data, predicted, scheduler, tmp_path, capsys, source):
    given = ["--pred", str(predicted[0])] if source == "saved" else []
    reports, maps = [], []
    for where in ("synchronous", scheduler):
        maps.append(tmp_path / f"maps-{len(maps)}")
        argv = ["evaluate", str(data), "--json", *given, "--error-maps", str(maps[-1])]
        reports.append(run([*argv, "--scheduler", where], capsys))
    assert reports[0] == reports[1]
    assert [s["name"] for s in json.loads(reports[1])["per_sample"]] == open_dataset(data).names
    assert files(maps[0]) == files(maps[1]) and len(files(maps[1])) == 6


def test_a_broken_sample_is_named_and_the_others_complete(data, scheduler, tmp_path, capsys):
    broken = tmp_path / "broken"
    shutil.copytree(data, broken)
    (broken / "images" / "s2.png").write_bytes(b"not a png")
    out = tmp_path / "out"
    assert main(["predict", str(broken), "--out", str(out), "--scheduler", scheduler]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("segviewer: error: ") and "s2.png" in line
    assert not any(f"s{i}.png" in line for i in (0, 1, 3, 4)) and not out.exists()
    seen = Progress()  # the other samples were scored before the job was refused
    with pytest.raises(SegviewerError, match="s2.png"):
        evaluate_dataset(
            open_dataset(broken), ModelSpec("bundled"), EngineSpec(scheduler), None, seen
        )
    assert seen.done == seen.total == 6


def test_a_cluster_exports_the_same_monai_dataset(data, scheduler, tmp_path, capsys):
    outs = {}
    for where in ("synchronous", scheduler):
        for dims in ("2", "3"):
            out = outs[where, dims] = tmp_path / f"{dims}d-{len(outs)}"
            argv = ["export", "monai", str(data), "--out", str(out), "--dims", dims]
            run([*argv, "--validation", "0.4", "--scheduler", where, "--no-index"], capsys)
    # 2D: PNG, the same bytes; 3D: NIfTI, whose gzip header holds a time: the same arrays
    assert files(outs["synchronous", "2"]) == files(outs[scheduler, "2"])
    datalist = json.loads((outs[scheduler, "2"] / "dataset.json").read_text())
    assert len(datalist["training"]) == 3 and len(datalist["validation"]) == 2
    one, cluster = files(outs["synchronous", "3"]), files(outs[scheduler, "3"])
    assert one.keys() == cluster.keys() and len(cluster) == 5  # image, 2 classes, 2 texts
    for name in one:
        if name.endswith(".nii.gz"):
            arrays = [nibabel.load(outs[w, "3"] / name) for w in ("synchronous", scheduler)]
            assert np.array_equal(arrays[0].get_fdata(), arrays[1].get_fdata())
            assert np.array_equal(arrays[0].affine, arrays[1].affine)
        else:
            assert one[name] == cluster[name]


def test_a_model_is_opened_once_per_process_and_again_when_its_file_changes(tmp_path):
    from segviewer.core.model.files import save_model

    assert model_for(ModelSpec("bundled")) is model_for(ModelSpec("bundled"))
    path = tmp_path / "m.safetensors"
    bundled = model_for(ModelSpec("bundled"))
    save_model(path, bundled.network, bundled.info)
    first = model_for(ModelSpec(str(path)))
    assert model_for(ModelSpec(str(path))) is first
    os.utime(path, ns=(0, 0))  # rewritten, as far as the cache can tell
    assert model_for(ModelSpec(str(path))) is not first


def test_a_gpu_job_runs_in_this_process():
    cluster = EngineSpec("tcp://127.0.0.1:9")
    assert isinstance(model_jobs._on_gpu(ModelSpec("bundled", device="cuda"), cluster), Engine)
    assert model_jobs._on_gpu(ModelSpec("bundled"), cluster) is cluster
