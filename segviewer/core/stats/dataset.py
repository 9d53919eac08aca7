"""Statistics of a whole dataset on disk, counted in parallel processes.

Workers count samples by index, so each holds one sample at a time and only the small
tallies travel back. On Linux, from a process without threads (the CLI), workers are
forked and inherit the opened dataset: no start-up cost. Elsewhere they are spawned and
open the dataset themselves (reading is lazy, so that is cheap too).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from segviewer.core.data.sample import Dataset
from segviewer.core.io.readers import open_dataset
from segviewer.core.stats.classes import ClassStats, check_same_classes, tally

_dataset: Dataset | None = None  # the dataset of this worker process


def _open_in_worker(paths: Sequence[str], class_axis: str) -> None:
    global _dataset
    _dataset = open_dataset(paths, class_axis=class_axis, warn=lambda message: None)


def _tally_sample(index: int, dataset: Dataset | None = None):
    sample = (dataset or _dataset).refs[index].load()
    return index, list(sample.class_names), tally(sample.masks, sample.ignore), sample.warnings


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def iter_tallies(
    dataset: Dataset, paths: Sequence[str], class_axis: str = "auto", workers: int | None = None
) -> Iterator[tuple[int, list[str], np.ndarray, list[str]]]:
    """Yield ``(index, class names, tally, warnings)`` for every sample of ``dataset`` (opened
    from ``paths``), in order."""
    global _dataset
    workers = min(workers or default_workers(), len(dataset))
    if workers <= 1:
        for index in range(len(dataset)):
            yield _tally_sample(index, dataset)
        return
    if sys.platform == "linux" and threading.active_count() == 1:
        context, initializer, initargs = multiprocessing.get_context("fork"), None, ()
        _dataset = dataset  # inherited by the forked workers
    else:
        context = multiprocessing.get_context("spawn")
        initializer, initargs = _open_in_worker, (list(paths), class_axis)
    with ProcessPoolExecutor(workers, context, initializer=initializer, initargs=initargs) as pool:
        chunk = max(1, min(16, len(dataset) // (workers * 8)))
        yield from pool.map(_tally_sample, range(len(dataset)), chunksize=chunk)
    _dataset = None


def dataset_stats(
    paths: Sequence[str],
    class_axis: str = "auto",
    beta: float | None = None,
    workers: int | None = None,
    progress: Callable[[Iterator, int], Iterator] = lambda tallies, total: tallies,
    warn: Callable[[str], None] = lambda message: None,
) -> ClassStats:
    """Count every sample of the dataset at ``paths`` and return its statistics."""
    paths = _as_list(paths)
    dataset = open_dataset(paths, class_axis=class_axis, warn=warn)
    names = dataset.names
    rows = np.zeros((len(names), 0), np.int64)
    first: tuple[str, list[str]] | None = None
    tallies = iter_tallies(dataset, paths, class_axis, workers)
    for index, class_names, row, warnings in progress(tallies, len(names)):
        for message in warnings:
            warn(message)
        if first is None:
            first = (names[index], class_names)
            rows = np.zeros((len(names), len(row)), np.int64)
        check_same_classes(first, (names[index], class_names))
        rows[index] = row
    return ClassStats(first[1], names, rows, beta)


def _as_list(paths) -> list[str]:
    paths = [paths] if isinstance(paths, str | os.PathLike) else paths
    return [os.fspath(p) for p in paths]
