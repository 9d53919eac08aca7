"""Models on datasets as dataset jobs: ``predict`` (each task writes its samples' labels
into the new output folder) and ``evaluate`` (each task sends back its samples' scores and
writes their error maps).

Tasks carry a :class:`ModelSpec` (how to open the model), never the network: each worker
process opens the model once, on its first sample, and keeps it for the next ones
(:func:`model_for`). Torch runs one thread per task on a Dask worker: a worker runs one
task per thread it has, so two single-threaded workers use two cores, not four (Dask's
nannies set ``OMP_NUM_THREADS=1`` for the same reason; a worker started without one may
not). In-process (``--scheduler synchronous``, small jobs) torch keeps all its threads.

``predict_files`` is the panel's whole-dataset run (and ``Workspace.predict``'s with an
engine): each task writes its samples' labels and probabilities as ``.npy`` files into a
folder the workers see, and sends back their paths and scores.

Results are the same whatever the engine: the labels written are equal byte for byte and
the scores equal. (oneDNN's convolutions round the last bit of a probability differently
with one thread than with several, so a pixel where two classes tie within ~1e-7 could
in principle take the other label; none does in our tests.)

With ``device="cuda"`` a job runs in this process: one GPU, one process driving it.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import uuid
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from segviewer.core.data.sample import Dataset, Sample
from segviewer.core.errors import SegviewerError
from segviewer.core.io.atomic import new_folder, write_image
from segviewer.core.io.writers import write_sample
from segviewer.core.jobs.engine import Engine, EngineSpec, opened
from segviewer.core.jobs.samples import SampleFailure, map_samples
from segviewer.core.jobs.summaries import raise_failures
from segviewer.core.model.evaluation import channel_axis_of, prediction_sample
from segviewer.core.model.files import LoadedModel
from segviewer.core.model.inference import predict_both, predict_labels
from segviewer.core.model.scores import Scores, error_map, score_sample
from segviewer.core.progress import Progress

KEPT_MODELS = 2  # models a process keeps open (a job needs one)
_MODELS: OrderedDict[tuple, LoadedModel] = OrderedDict()


@dataclass(frozen=True)
class ModelSpec:
    """How to open a model (``core.model.registry.open_model``) and run it."""

    model: str  # a registered model's name or a model file
    classes: tuple[str, ...] | None = None  # a TorchScript file's classes, background first
    device: str = "cpu"
    precision: str = "auto"

    def key(self) -> tuple:
        """What the model cache knows it by: a model file's size and time too, so that a
        file rewritten since it was opened is opened again."""
        stamp = None
        if os.path.isfile(self.model):
            status = os.stat(self.model)
            stamp = (os.path.realpath(self.model), status.st_size, status.st_mtime_ns)
        return (self.model, stamp, self.classes)


def model_for(spec: ModelSpec) -> LoadedModel:
    """The model of ``spec``, opened once per process (the last :data:`KEPT_MODELS` kept)."""
    from segviewer.core.model.registry import open_model

    key = spec.key()
    if key in _MODELS:
        _MODELS.move_to_end(key)
        return _MODELS[key]
    model = open_model(spec.model, list(spec.classes) if spec.classes is not None else None)
    _MODELS[key] = model
    while len(_MODELS) > KEPT_MODELS:
        _MODELS.popitem(last=False)
    return model


def _on_gpu(spec: ModelSpec | None, engine: Engine | EngineSpec | None):
    """One GPU is driven from this process: a CUDA job runs in-process, in order."""
    return Engine() if spec is not None and spec.device == "cuda" else engine


def _one_thread_on_a_worker() -> None:
    """Torch's threads for this task: one on a Dask worker (see the module's docstring),
    all of them in-process."""
    if "distributed" not in sys.modules:
        return  # not on a Dask worker (and no need to import Dask to know it)
    from distributed import get_worker

    try:
        get_worker()
    except ValueError:
        return  # not on a Dask worker
    import torch

    if torch.get_num_threads() != 1:
        torch.set_num_threads(1)


def _labels(sample: Sample, spec: ModelSpec):
    _one_thread_on_a_worker()
    model = model_for(spec)
    labels = predict_labels(
        model, sample.image, channel_axis_of(sample), spec.device, spec.precision,
        where=sample.name,
    )  # fmt: skip
    return model, labels


# -- predict ----------------------------------------------------------------------------------
def predict_dataset(
    dataset: Dataset,
    out: Path,
    spec: ModelSpec,
    engine: Engine | EngineSpec | None = None,
    progress: Progress | None = None,
) -> list[str]:
    """Predict every sample into the new folder ``out`` (index labels, each sample in its
    own container, as ``save_samples(..., "index")`` writes them); return the sample names.
    The folder appears only when every sample is written; a failure anywhere leaves
    nothing and names every sample that failed, after the others completed."""
    with new_folder(Path(out)) as tmp:
        work = functools.partial(_predict_and_write, folder=tmp, spec=spec)
        with opened(_on_gpu(spec, engine), len(dataset)) as running:
            found = map_samples(dataset, work, running, progress, None, "predicting")
            names = [r for _, r, _ in found]
        raise_failures(names)
    return names


def _predict_and_write(sample: Sample, folder: Path, spec: ModelSpec) -> str:
    model, labels = _labels(sample, spec)
    write_sample(prediction_sample(sample, labels, model.info.classes), folder, "index")
    return sample.name


# -- predict into files (the panel's whole-dataset run) ---------------------------------------
@dataclass(frozen=True)
class PredictedFiles:
    """One sample's prediction as a task wrote it: index labels (uint8, 0 = background) and
    probabilities (float16, background first) in ``.npy`` files, and its scores against the
    masks as read from the sample's files."""

    labels: str
    probabilities: str
    scores: Scores

    def load(self) -> tuple[np.ndarray, np.ndarray]:
        """The labels and probabilities, memory-mapped read-only."""
        return np.load(self.labels, mmap_mode="r"), np.load(self.probabilities, mmap_mode="r")


def on_workers(dataset: Dataset, spec: ModelSpec) -> bool:
    """Whether a job of ``spec`` may leave this process: the model runs on the CPU and every
    sample is read from files (samples held only in memory, e.g. napari's sample data,
    would travel whole)."""
    return spec.device != "cuda" and all(ref.source.paths for ref in dataset.refs)


def predict_files(
    dataset: Dataset,
    spec: ModelSpec,
    folder: Path,
    engine: Engine | EngineSpec | None = None,
    progress: Progress | None = None,
    indices: Sequence[int] | None = None,
) -> Iterator[tuple[int, PredictedFiles | SampleFailure]]:
    """Predict the samples ``indices`` (default: all), each task writing its samples'
    files into ``folder`` (which the workers must see); yield ``(index, PredictedFiles or
    SampleFailure)`` in index order, as the engine returns them."""
    indices = list(range(len(dataset))) if indices is None else list(indices)
    work = functools.partial(_predict_to_files, folder=str(folder), spec=spec)
    with opened(_on_gpu(spec, engine), len(indices)) as running:
        # one sample per task: a prediction takes seconds, and Cancel waits for a task
        found = map_samples(dataset, work, running, progress, indices, "predicting", 1)
        for index, result, _ in found:
            yield index, result


def _predict_to_files(sample: Sample, folder: str, spec: ModelSpec) -> PredictedFiles:
    _one_thread_on_a_worker()
    model = model_for(spec)
    try:
        labels, probabilities = predict_both(
            model, sample.image, channel_axis_of(sample), spec.device, spec.precision,
            where=sample.name,
        )  # fmt: skip
    except SegviewerError:
        raise
    except Exception as error:  # a user's model may raise anything: the sample fails alone
        raise SegviewerError(
            f"model {model.info.name!r} failed on {sample.name}: {error}"
        ) from None
    stem = os.path.join(folder, uuid.uuid4().hex)  # sample names need not be unique
    return PredictedFiles(
        _write_npy(f"{stem}-labels.npy", labels, sample.name),
        _write_npy(f"{stem}-probabilities.npy", probabilities, sample.name),
        score_sample(sample.masks, labels, sample.ignore),
    )


def _write_npy(path: str, array: np.ndarray, name: str) -> str:
    try:
        np.save(path, array)
    except OSError as error:
        raise SegviewerError(
            f"{name}: cannot write its prediction to {path} ({error.strerror or error}); "
            "the workers must see this folder"
        ) from None
    return path


# -- evaluate ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class SavedPredictions:
    """Predictions saved earlier (``segviewer predict``'s folder), found by sample name;
    each process opens the folder once a job (a listing) and reads one at a time."""

    paths: tuple[str, ...]
    job: str = field(default_factory=lambda: uuid.uuid4().hex)  # a new job lists again

    def labels_for(self, sample: Sample):
        return _predictions(self.paths, self.job)(sample)


@functools.lru_cache(maxsize=2)
def _predictions(paths: tuple[str, ...], job: str):
    from segviewer.core.io.readers import open_dataset
    from segviewer.core.model.evaluation import predictions_from

    return predictions_from(open_dataset(list(paths), warn=lambda message: None))


def evaluate_dataset(
    dataset: Dataset,
    spec: ModelSpec | SavedPredictions,
    engine: Engine | EngineSpec | None = None,
    error_maps: Path | None = None,
    progress: Progress | None = None,
) -> tuple[list[str], list[Scores]]:
    """Every sample's name and scores, in order, of the model's predictions (``spec``) or
    of saved ones; with ``error_maps``, each sample's error map is written into that new
    folder (PNG in 2D, TIFF in 3D). A failure anywhere names every sample that failed."""
    model = spec if isinstance(spec, ModelSpec) else None
    maps = new_folder(Path(error_maps)) if error_maps is not None else contextlib.nullcontext()
    with maps as folder:
        work = functools.partial(_score, spec=spec, folder=folder)
        with opened(_on_gpu(model, engine), len(dataset)) as running:
            found = map_samples(dataset, work, running, progress, None, "scoring")
            records = [r for _, r, _ in found]
        raise_failures(records)
    return [name for name, _ in records], [scores for _, scores in records]


def _score(
    sample: Sample, spec: ModelSpec | SavedPredictions, folder: Path | None
) -> tuple[str, Scores]:
    if isinstance(spec, ModelSpec):
        _, labels = _labels(sample, spec)
    else:
        labels = spec.labels_for(sample)
    if labels.shape != sample.spatial_shape:
        raise SegviewerError(
            f"{sample.name}: prediction of shape {labels.shape} for an image of "
            f"{sample.spatial_shape}"
        )
    if folder is not None:
        write_image(folder / sample.name, error_map(sample.masks, labels, sample.ignore))
    return sample.name, score_sample(sample.masks, labels, sample.ignore)


def open_model_spec(model: str, classes: Sequence[str] | None, device: str, precision: str):
    """A :class:`ModelSpec` and its model, opened here through the same cache as the
    tasks' (an in-process job then opens it once)."""
    spec = ModelSpec(str(model), tuple(classes) if classes is not None else None, device, precision)
    return spec, model_for(spec)
