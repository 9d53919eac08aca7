"""Dataset jobs built on per-sample records: summaries (``info``, statistics, the sample
list) through the summary index, and conflict records (``conflicts``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from segviewer.core.data.sample import Dataset
from segviewer.core.errors import SegviewerError
from segviewer.core.jobs.engine import Engine, EngineSpec, opened
from segviewer.core.jobs.samples import SampleFailure, failures_message, map_samples
from segviewer.core.progress import Progress
from segviewer.core.stats.classes import ClassStats, check_same_classes
from segviewer.core.stats.index import SummaryIndex, as_summary, summary_record


def dataset_summaries(
    dataset: Dataset,
    engine: Engine | EngineSpec | None = None,
    class_axis: str = "auto",
    index: SummaryIndex | None = None,
    progress: Progress | None = None,
    indices: Sequence[int] | None = None,
) -> list[dict | SampleFailure]:
    """Every sample's summary record (or those of ``indices``), in order: from ``index``
    where its files have not changed, else read on ``engine`` (started only if some sample
    must be read) and then remembered in ``index``."""
    wanted = list(range(len(dataset))) if indices is None else list(indices)
    refs = [dataset.refs[i] for i in wanted]
    found_in_index = index.get(refs, class_axis) if index is not None else {}
    known = {wanted[k]: record for k, record in found_in_index.items()}
    missing = [i for i in wanted if i not in known]
    records: dict[int, Any] = dict(known)
    fresh = []
    with opened(engine, len(missing)) as running:
        found = map_samples(dataset, summary_record, running, progress, missing, "reading")
        for i, record, _ in found:
            records[i] = record
            if not isinstance(record, SampleFailure):
                fresh.append((dataset.refs[i], record))
    if index is not None:
        index.put(fresh, class_axis)
    return [records[i] for i in wanted]


def map_records(
    dataset: Dataset,
    work: Callable,
    engine: Engine | EngineSpec | None = None,
    progress: Progress | None = None,
    message: str = "",
) -> list:
    """``work(sample)`` of every sample in order; refuse the job, naming every sample that
    failed, after the others completed."""
    with opened(engine, len(dataset)) as running:
        found = map_samples(dataset, work, running, progress, None, message)
        results = [r for _, r, _ in found]
    raise_failures(results)
    return results


def raise_failures(results: list) -> None:
    failures = [r for r in results if isinstance(r, SampleFailure)]
    if failures:
        raise SegviewerError(failures_message(failures))


def stats_of(dataset: Dataset, records: list[dict], beta: float | None = None) -> ClassStats:
    """Class statistics of summary records (all of one set of classes)."""
    names = dataset.names
    first = (names[0], records[0]["classes"])
    for name, record in zip(names, records, strict=True):
        check_same_classes(first, (name, record["classes"]))
    rows = np.stack([as_summary(record).tally for record in records])
    return ClassStats(list(first[1]), names, rows, beta)


def dataset_stats(
    dataset: Dataset,
    engine: Engine | EngineSpec | None = None,
    class_axis: str = "auto",
    beta: float | None = None,
    index: SummaryIndex | None = None,
    progress: Progress | None = None,
    warn: Callable[[str], None] = lambda message: None,
) -> ClassStats:
    """Count every sample (or take its summary from ``index``) and return the statistics."""
    records = dataset_summaries(dataset, engine, class_axis, index, progress)
    raise_failures(records)
    for record in records:
        for message in record["warnings"]:
            warn(message)
    return stats_of(dataset, records, beta)
