"""Dataset jobs on Dask: a real scheduler and workers on 127.0.0.1 against the in-process
run, killed workers, failing samples, cancelling, and the summary index (issue 14)."""

from __future__ import annotations

import os
import re
import signal
import sys
from pathlib import Path

import cloudpickle
import numpy as np
import pytest

import segviewer.core.jobs.summaries as summaries_module
from segviewer.cli import main
from segviewer.core.io.readers import open_dataset
from segviewer.core.jobs import SYNCHRONOUS, EngineSpec, dataset_summaries, map_samples, open_engine
from segviewer.core.jobs.samples import SampleFailure, failures_message
from segviewer.core.progress import Cancelled, Progress
from segviewer.core.stats.index import SummaryIndex
from segviewer.core.workspace import Workspace

cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import tests


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    out = tmp_path_factory.mktemp("jobs") / "data"
    assert main(["sample", "--out", str(out), "--count", "12", "--volumes", "1"]) == 0
    return out


def run(argv, capsys) -> str:
    assert main(argv) == 0, capsys.readouterr().err
    return capsys.readouterr().out


@pytest.mark.parametrize("command", ["info", "stats", "conflicts"])
def test_a_cluster_prints_exactly_what_one_process_prints(data, scheduler, capsys, command):
    argv = [command, str(data), "--json"]
    alone = run([*argv, "--scheduler", "synchronous"], capsys)
    assert run([*argv, "--scheduler", scheduler], capsys) == alone
    if command != "conflicts":  # fresh, not from the index the first run filled
        assert run([*argv, "--scheduler", scheduler, "--no-index"], capsys) == alone


def test_a_cluster_resolves_the_same_files(data, scheduler, tmp_path, capsys):
    outs = {}
    for where in ("synchronous", scheduler):
        out = tmp_path / ("one" if where == "synchronous" else "cluster")
        run(
            [
                "resolve",
                str(data),
                "--rule",
                "nearest",
                "--format",
                "index",
                "--out",
                str(out),
                "--scheduler",
                where,
            ],
            capsys,
        )
        outs[where] = {
            str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()
        }
    assert outs["synchronous"] == outs[scheduler] and len(outs[scheduler]) > 20


def test_a_local_cluster_of_two_workers_counts_the_same(data, capsys):
    argv = ["stats", str(data), "--json", "--no-index"]
    assert run([*argv, "--workers", "2"], capsys) == run([*argv, "--workers", "1"], capsys)


def test_an_unreachable_scheduler_is_one_line(data, capsys):
    assert main(["stats", str(data), "--scheduler", "tcp://127.0.0.1:9"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "cannot reach the Dask scheduler at 'tcp://127.0.0.1:9' within 10 s" in line


def die_once(marker: Path, sample):
    """Kill this worker process the first time any sample reaches it."""
    if not marker.exists():
        marker.write_text("killed")
        os.kill(os.getpid(), signal.SIGKILL)
    return sample.name, int(sample.masks.sum())


def test_a_killed_worker_is_replaced_and_the_job_completes(data, tmp_path):
    import functools

    dataset = open_dataset([str(data)])
    work = functools.partial(die_once, tmp_path / "marker")
    with open_engine(workers=2) as engine:
        results = [r for _, r, _ in map_samples(dataset, work, engine)]
    assert (tmp_path / "marker").exists()
    assert results == [(s.name, int(s.masks.sum())) for s in dataset]


def test_failing_samples_are_all_named_and_the_others_complete(data, tmp_path, capsys):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(data, broken)
    for name in ("sample_002.png", "sample_007.png"):
        (broken / "images" / name).write_bytes(b"not a png")
    assert main(["info", str(broken), "--workers", "2"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("segviewer: error: 2 samples failed: ")
    assert "sample_002.png" in line and "sample_007.png" in line
    # the others were read (and indexed): only the two broken files are read again
    index = SummaryIndex()
    assert len(index.get(open_dataset([str(broken)]).refs)) == len(open_dataset([str(data)])) - 2


def test_cancel_stops_the_job(data):
    dataset = open_dataset([str(data)])
    progress = Progress(should_stop=lambda: progress.done >= 1)
    with open_engine(workers=2) as engine, pytest.raises(Cancelled):
        list(map_samples(dataset, summaries_module.summary_record, engine, progress))


def test_the_index_reopens_without_reading_and_rereads_changed_files(data, tmp_path, monkeypatch):
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(data, folder)
    reads = []

    def counting(sample):
        reads.append(sample.name)
        return real(sample)

    real = summaries_module.summary_record
    monkeypatch.setattr(summaries_module, "summary_record", counting)
    index = SummaryIndex()
    first = dataset_summaries(open_dataset([str(folder)]), None, index=index)
    assert len(reads) == len(first) == 13
    reads.clear()
    assert dataset_summaries(open_dataset([str(folder)]), None, index=index) == first
    assert reads == []
    mask = next((folder / "masks" / "spot").glob("sample_003.*"))
    image = np.zeros((4, 4), np.uint8)
    import imageio.v3 as iio

    shape = iio.imread(mask).shape
    iio.imwrite(mask, np.zeros(shape, np.uint8), extension=mask.suffix)
    again = dataset_summaries(open_dataset([str(folder)]), None, index=index)
    assert reads == ["sample_003"]
    assert again[3]["counts"][1] == 0 and again[:3] == first[:3]
    del image


def test_a_corrupt_index_is_rebuilt_with_a_warning(data, tmp_path):
    path = tmp_path / "summaries.sqlite"
    path.write_bytes(b"this is not sqlite" * 100)
    warnings = []
    index = SummaryIndex(path, warn=warnings.append)
    records = dataset_summaries(open_dataset([str(data)]), None, index=index)
    assert len(records) == 13 and len(index) == 13
    assert len(warnings) == 1 and "not a readable summary index" in warnings[0]


def test_a_cluster_exports_the_same_nnunet_dataset(data, scheduler, tmp_path, capsys):
    files = {}
    for where in ("synchronous", scheduler):
        out = tmp_path / ("one" if where == "synchronous" else "cluster")
        argv = ["export", "nnunet", str(data), "--out", str(out), "--id", "7", "--name", "x"]
        run([*argv, "--dims", "2", "--scheduler", where], capsys)  # PNG: comparable bytes
        folder = out / "Dataset007_x"
        files[where] = {
            str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*"))
            if p.is_file()
        }
    assert files["synchronous"] == files[scheduler] and len(files[scheduler]) == 12 * 2 + 1
    volumes = tmp_path / "volumes"  # NIfTI (gzip stamps a time): the same arrays
    run(["export", "nnunet", str(data), "--out", str(volumes), "--id", "8", "--name", "v",
         "--dims", "3", "--scheduler", scheduler], capsys)  # fmt: skip
    back = open_dataset(volumes / "Dataset008_v").sample(0)
    original = next(s for s in open_dataset(data) if s.name == back.name)
    assert np.array_equal(back.masks, original.masks)
    assert np.array_equal(back.image, original.image)


def tree(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def edited_workspace(data: Path) -> Workspace:
    """The sample folder with one sample edited (shown later: its copy must travel)."""
    ws = Workspace.open(data)
    ws.show(3)
    ws.policy.conflicts = "allow"
    ws.paint("spot", (slice(4, 20), slice(6, 30)))
    ws.show(0)
    return ws


def test_the_workspace_saves_on_a_cluster_the_files_of_one_process(data, scheduler, tmp_path):
    ws = edited_workspace(data)
    for where in (SYNCHRONOUS, scheduler):
        ws.save(tmp_path / where.replace("/", "_"), "masks", engine=EngineSpec(where))
    one, cluster = (tree(tmp_path / w.replace("/", "_")) for w in (SYNCHRONOUS, scheduler))
    assert one == cluster and len(cluster) > 13
    back = open_dataset(tmp_path / "synchronous")
    edited = ws.sample_of(3)
    assert back.names[3] == edited.name and edited.masks[1, 4:20, 6:30].all()
    assert np.array_equal(back.sample(3).masks, edited.masks)  # the edit, not the file


def test_the_workspace_exports_on_a_cluster_the_files_of_one_process(data, scheduler, tmp_path):
    ws = edited_workspace(data)
    for framework in ("nnunet", "monai"):
        options = {"dataset_id": 9, "name": "x"} if framework == "nnunet" else {}
        trees = []
        for where in (SYNCHRONOUS, scheduler):
            out = tmp_path / framework / where.replace("/", "_")
            job = ws.prepare_export(framework, out, dims=2, **options)
            trees.append(tree(job.run(engine=EngineSpec(where))))
        files = {"nnunet": 12 * 2 + 1, "monai": 12 * 3 + 2}[framework]  # MONAI: a file per class
        assert trees[0] == trees[1] and len(trees[0]) == files
    snippet = (tmp_path / "monai" / SYNCHRONOUS / "train_monai.py").read_text()
    written = re.search(r"CLASS_WEIGHTS = torch.tensor\(\[(.*)\]", snippet).group(1)
    expected = ws.stats().normalized_weights()["median_frequency"]  # the edit counted
    np.testing.assert_allclose([float(w) for w in written.split(",")], expected, rtol=1e-5)


def test_many_failures_stay_one_readable_line():
    failures = [SampleFailure(i, f"s{i}", f"s{i}: unreadable") for i in range(25)]
    line = failures_message(failures)
    assert line.startswith("25 samples failed: s0: unreadable; s1: unreadable; s2: unreadable;")
    assert line.endswith("and 22 more (s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, …)")
    assert failures_message(failures[:4]).endswith("; and 1 more (s3)")


def test_samples_held_in_memory_stay_in_process_unless_a_scheduler_is_named():
    from segviewer.core.data.sample import Dataset
    from segviewer.core.data.synthetic import make_sample
    from segviewer.core.jobs.engine import in_process_for_memory

    refs = Dataset.from_samples("m", [make_sample(np.random.default_rng(0), (8, 8), "a")]).refs
    assert in_process_for_memory(refs, None) == EngineSpec(SYNCHRONOUS)
    assert in_process_for_memory(refs, EngineSpec()) == EngineSpec(SYNCHRONOUS)
    named = EngineSpec("tcp://127.0.0.1:8786")
    assert in_process_for_memory(refs, named) is named
