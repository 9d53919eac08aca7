"""The panel's whole-dataset prediction as a Dask dataset job (issue 14): the core job
(``predict_files``, ``Workspace.predict(engine=...)``) against the in-process run, on a
real scheduler and two workers on 127.0.0.1 and on the synchronous engine."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from segviewer.core.data.sample import Dataset
from segviewer.core.data.synthetic import make_sample
from segviewer.core.errors import SegviewerError
from segviewer.core.io.readers import open_dataset
from segviewer.core.io.writers import save_samples
from segviewer.core.jobs import EngineSpec
from segviewer.core.jobs.models import ModelSpec, PredictedFiles, on_workers, predict_files
from segviewer.core.jobs.samples import SampleFailure
from segviewer.core.model.scores import Scores, score_sample
from segviewer.core.progress import Cancelled, Progress
from segviewer.core.workspace import Workspace
from segviewer.core.workspace.prediction_files import PredictionFiles

CLASSES = ("background", "cell", "spot")


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """Four 2D samples of different sizes and a small volume, as a dataset folder."""
    rng = np.random.default_rng(41)
    samples = [make_sample(rng, (96 + 32 * i, 128), f"s{i}") for i in range(4)]
    samples.append(make_sample(rng, (12, 48, 48), "v0"))
    return save_samples(samples, tmp_path_factory.mktemp("panel-predict") / "data", "masks")


@pytest.fixture(scope="module")
def in_process(data, tmp_path_factory):
    """The in-process run: ``Workspace.predict`` of every sample, no engine."""
    workspace = Workspace.open(data)
    workspace.prediction_files = PredictionFiles(tmp_path_factory.mktemp("in-process"))
    workspace.predict("bundled", "dataset")
    return workspace


def assert_same_scores(found: Scores, expected: Scores) -> None:
    for name in ("dice", "iou", "precision", "recall"):
        assert getattr(found, name) == getattr(expected, name)
    np.testing.assert_array_equal(found.confusion, expected.confusion)


def assert_same_probabilities(found: np.ndarray, expected: np.ndarray) -> None:
    """Equal to the last float16 bit: torch on one thread (a Dask worker) rounds a few
    probabilities one unit differently than on several (see core.jobs.models)."""
    assert found.dtype == expected.dtype == np.float16 and found.shape == expected.shape
    np.testing.assert_array_max_ulp(found, expected, maxulp=1)


def assert_same_as_in_process(workspace: Workspace, in_process: Workspace) -> None:
    dataset, reference = workspace.dataset, in_process.dataset
    assert workspace.predicted_indices() == list(range(len(dataset)))
    for index in range(len(dataset)):
        found, expected = workspace.prediction(index), in_process.prediction(index, reference)
        assert found.labels.dtype == np.uint8 and found.probabilities.dtype == np.float16
        assert found.labels.tobytes() == expected.labels.tobytes()  # byte for byte
        assert found.labels.shape == expected.labels.shape
        assert_same_probabilities(found.probabilities, expected.probabilities)
        assert (found.model, found.classes) == (expected.model, expected.classes)


@pytest.mark.parametrize("where", ["synchronous", "cluster"])
def test_predict_files_is_the_in_process_prediction(data, in_process, scheduler, tmp_path, where):
    dataset = open_dataset(data)
    spec = ModelSpec("bundled", CLASSES)
    assert on_workers(dataset, spec)
    engine = EngineSpec("synchronous" if where == "synchronous" else scheduler)
    found = list(predict_files(dataset, spec, tmp_path, engine))
    assert [index for index, _ in found] == list(range(len(dataset)))  # in sample order
    scores = in_process.evaluate()
    for index, result in found:
        assert isinstance(result, PredictedFiles)
        assert Path(result.labels).parent == tmp_path == Path(result.probabilities).parent
        labels, probabilities = result.load()
        assert isinstance(labels, np.memmap) and not labels.flags.writeable
        expected = in_process.prediction(index, in_process.dataset)
        assert labels.tobytes() == expected.labels.tobytes()
        assert_same_probabilities(probabilities, expected.probabilities)
        assert probabilities.shape == (len(CLASSES), *labels.shape)
        assert_same_scores(result.scores, scores[index])
    assert len(list(tmp_path.glob("*.npy"))) == 2 * len(dataset)  # and nothing else


def test_a_cluster_wrote_the_files_on_its_workers(data, scheduler, tmp_path):
    from distributed import Client

    from segviewer.core.jobs import models as model_jobs

    def models_opened() -> list:
        return [key[0] for key in model_jobs._MODELS]

    list(
        predict_files(
            open_dataset(data), ModelSpec("bundled", CLASSES), tmp_path, EngineSpec(scheduler)
        )
    )
    with Client(scheduler, timeout=30) as client:
        opened = client.run(models_opened).values()
    assert any("bundled" in models for models in opened)  # the model ran in a worker


@pytest.mark.parametrize("where", ["synchronous", "cluster"])
def test_workspace_predict_on_an_engine(data, in_process, scheduler, where):
    workspace = Workspace.open(data)
    workspace.show(1)
    workspace.paint("cell", np.ones(workspace.sample.spatial_shape, bool))  # an edited sample
    engine = EngineSpec("synchronous" if where == "synchronous" else scheduler)
    assert workspace.predict("bundled", "dataset", engine=engine) == list(range(5))
    assert_same_as_in_process(workspace, in_process)
    folder = workspace.prediction_files.folder()
    labels = workspace.prediction(1).labels
    assert isinstance(labels, np.memmap) and Path(labels.filename).parent == folder
    assert not workspace.is_stale(1)  # predicted from the edited revision
    edited = workspace.sample_of(1)
    assert edited.masks[0].all()
    scores = workspace.evaluate()[1]  # against the masks as they are now
    assert_same_scores(scores, score_sample(edited.masks, labels, edited.ignore))
    assert scores.dice[1] != in_process.evaluate()[1].dice[1]
    workspace.drop_prediction((workspace.dataset, 1))
    assert not Path(labels.filename).exists()  # the job's files go as the others do


def test_a_broken_sample_is_named_and_the_others_complete(data, scheduler, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(data, broken)
    (broken / "images" / "s2.png").write_bytes(b"not a png")
    dataset = open_dataset(broken)
    found = dict(
        predict_files(dataset, ModelSpec("bundled", CLASSES), tmp_path, EngineSpec(scheduler))
    )
    assert isinstance(found[2], SampleFailure) and "s2.png" in found[2].message
    assert all(isinstance(found[i], PredictedFiles) for i in (0, 1, 3, 4))
    workspace = Workspace.open(broken)
    with pytest.raises(SegviewerError, match="s2.png"):
        workspace.predict("bundled", "dataset", engine=EngineSpec(scheduler))
    assert workspace.predicted_indices() == [0, 1, 3, 4]


def test_samples_in_memory_and_cuda_stay_in_this_process(data):
    spec = ModelSpec("bundled", CLASSES)
    in_memory = Dataset.from_samples(
        "memory", [make_sample(np.random.default_rng(1), (64, 64), "m")]
    )
    assert not on_workers(in_memory, spec)
    assert not on_workers(open_dataset(data), ModelSpec("bundled", CLASSES, device="cuda"))
    workspace = Workspace()
    workspace.add(in_memory)
    # no Dask at all: an unreachable scheduler would refuse a job
    assert workspace.predict("bundled", "dataset", engine=EngineSpec("tcp://127.0.0.1:9")) == [0]


def test_cancel_stops_the_job_on_the_cluster(data, scheduler, tmp_path):
    progress = Progress(should_stop=lambda: progress.done >= 1)
    found = predict_files(
        open_dataset(data), ModelSpec("bundled", CLASSES), tmp_path, EngineSpec(scheduler), progress
    )
    with pytest.raises(Cancelled):
        next(found)  # stopped at the first task's result, before any is handed out
    assert progress.done == 1 < progress.total == 5
