"""The Model tab's workers: import the libraries, and predict samples off the GUI thread,
here or, for a whole dataset, as a dataset job on the panel's engine."""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from pathlib import Path

from napari.qt.threading import thread_worker

from segviewer.core.errors import SegviewerError
from segviewer.core.jobs.engine import DaskEngine, EngineSpec, opened
from segviewer.core.jobs.models import ModelSpec, PredictedFiles, on_workers, predict_files
from segviewer.core.jobs.samples import SampleFailure, failures_message
from segviewer.core.model.evaluation import channel_axis_of
from segviewer.core.model.finetune import load_libraries
from segviewer.core.model.inference import Cancelled, choose_device, predict_both
from segviewer.core.model.scores import error_map, score_sample
from segviewer.core.progress import Progress

CANCELLED = "cancelled"
HERE = "here"  # the engine runs in this process: predict as without one


@dataclass(frozen=True)
class EngineRun:
    """A whole-dataset run as a dataset job: the model the workers open, where to run, and
    the folder (the workspace's prediction files) the tasks write into."""

    spec: ModelSpec
    engine: EngineSpec
    folder: Path


@dataclass(frozen=True)
class Notice:
    """A line for the user; ``on_engine``: the samples are predicted on a cluster now."""

    message: str
    on_engine: bool = False


def engine_run(
    dataset, model: str, classes, device: str, engine: EngineSpec, folder: Path
) -> EngineRun | None:
    """The whole-dataset run of ``model`` (a registered name or a model file) as a dataset
    job on ``engine``, or None where it stays in napari: the GPU, or samples held only in
    memory (a model in memory, e.g. fine-tuned here, never gets this far)."""
    spec = ModelSpec(model, tuple(classes), device)
    return EngineRun(spec, engine, folder) if on_workers(dataset, spec) else None


@thread_worker
def load_libraries_worker() -> None:
    load_libraries()


@thread_worker
def predict_worker(
    dataset,
    indices,
    images,
    opener,
    device: str,
    stop: threading.Event,
    run: EngineRun | None = None,
):
    """Yield the model ``opener`` opens, then ``(index, labels, errors, scores,
    probabilities)`` per sample (a :class:`Notice` may come between); return None when all
    are done, CANCELLED when ``stop`` was set, or the message of what went wrong.

    With ``run``, the samples are predicted on its engine when that is a Dask cluster
    (not a small job in this process)."""
    try:
        device = choose_device(device)
        model = opener()
    except SegviewerError as error:
        return str(error)
    yield model
    if run is not None:
        outcome = yield from _on_engine(dataset, indices, images, run, stop)
        if outcome != HERE:
            return outcome
    return (yield from _here(dataset, indices, images, model, device, stop))


def _here(dataset, indices, images, model, device: str, stop: threading.Event):
    """Predict each sample in this process, one after the other."""
    for index in indices:
        try:
            sample = images.get(index) or dataset.refs[index].load()
            labels, probabilities = predict_both(
                model, sample.image, channel_axis_of(sample), device, should_stop=stop.is_set
            )
        except Cancelled:
            return CANCELLED
        except SegviewerError as error:
            return str(error)
        except Exception as error:  # a user's model may raise anything: one line, no traceback
            name = getattr(model.info, "name", "?")
            return f"model {name!r} failed on {dataset.names[index]}: {error}"
        # the error map and scores too, off the GUI thread
        errors = error_map(sample.masks, labels, sample.ignore)
        scores = score_sample(sample.masks, labels, sample.ignore)
        yield index, labels, errors, scores, probabilities


def _on_engine(dataset, indices, images, run: EngineRun, stop: threading.Event):
    """Predict on ``run``'s engine: results come in sample order as the workers write them;
    a sample that fails is named at the end, after the others. Return HERE when the engine
    is this process (a small job) or could not start."""
    with contextlib.ExitStack() as stack:
        try:
            engine = stack.enter_context(opened(run.engine, len(indices)))
        except SegviewerError as error:
            yield Notice(f"{error}; predicting in napari instead")
            return HERE
        if not isinstance(engine, DaskEngine):
            return HERE
        if stop.is_set():  # cancelled while the cluster started
            return CANCELLED
        yield Notice(f"on the {engine.name}", on_engine=True)
        failures = []
        progress = Progress(should_stop=stop.is_set)  # checked as each task's result comes
        try:
            for index, found in predict_files(
                dataset, run.spec, run.folder, engine, progress, indices
            ):
                if isinstance(found, SampleFailure):
                    failures.append(found)
                else:
                    yield _result(index, found, images.get(index))
        except Cancelled:
            return CANCELLED  # the engine cancelled the tasks not finished
        except SegviewerError as error:
            return str(error)
        except Exception as error:  # the cluster went away, a worker could not import…
            return f"the prediction failed on the {engine.name}: {error}"
        return failures_message(failures) if failures else None


def _result(index: int, found: PredictedFiles, sample):
    """A task's files, memory-mapped, as a result; scored here against the masks as they
    are now when the sample was edited (``sample``: its snapshot)."""
    labels, probabilities = found.load()
    if sample is None:  # not edited: the task scored it against the same masks
        return index, labels, None, found.scores, probabilities
    errors = error_map(sample.masks, labels, sample.ignore)
    return index, labels, errors, score_sample(sample.masks, labels, sample.ignore), probabilities
