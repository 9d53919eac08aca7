"""Map a function over the samples of a dataset on an :class:`Engine`, in sample order.

Tasks carry sample references (how to read a sample), not arrays: each worker reads its
samples itself, holds one at a time, and sends back only what ``work`` returns (a tally,
a summary, the name of a file it wrote). A sample that cannot be read, or that ``work``
refuses (a :class:`SegviewerError`), becomes a :class:`SampleFailure` in its place and the
other samples go on. A worker that dies is replaced and its tasks rerun by Dask.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from segviewer.core.data.sample import Dataset, Sample, SampleRef
from segviewer.core.errors import SegviewerError
from segviewer.core.jobs.engine import Engine
from segviewer.core.progress import Progress, ensure

MAX_CHUNK = 32  # samples per task, at most
SHOWN_MESSAGES, SHOWN_NAMES = 3, 10  # of failed samples, in the one line that reports them


@dataclass(frozen=True)
class SampleFailure:
    """A sample that could not be read or processed, and why (one line)."""

    index: int
    name: str
    message: str


def map_samples(
    dataset: Dataset,
    work: Callable[[Sample], Any],
    engine: Engine,
    progress: Progress | None = None,
    indices: Sequence[int] | None = None,
    message: str = "",
    max_chunk: int = MAX_CHUNK,
) -> Iterator[tuple[int, Any, list[str]]]:
    """Yield ``(index, work(sample) or SampleFailure, sample warnings)`` in index order.
    ``work`` must pickle (a module-level function, or a ``functools.partial`` of one).
    Tasks carry at most ``max_chunk`` samples (1 where each sample takes long, so that a
    cancel waits for one sample, not for a chunk)."""
    indices = list(range(len(dataset))) if indices is None else list(indices)
    progress = ensure(progress)
    progress.start(len(indices), message)
    size = min(max_chunk, chunk_size(len(indices), engine.workers)) if engine.batches else 1
    chunks = [
        [(i, dataset.refs[i]) for i in indices[start : start + size]]
        for start in range(0, len(indices), size)
    ]
    task = functools.partial(_run_chunk, work)
    for results in engine.map(task, chunks, progress, [len(c) for c in chunks]):
        yield from results


def chunk_size(samples: int, workers: int) -> int:
    """About eight tasks per worker (so the load balances), at most :data:`MAX_CHUNK`."""
    return max(1, min(MAX_CHUNK, math.ceil(samples / (workers * 8))))


def _run_chunk(work, refs: list[tuple[int, SampleRef]]) -> list[tuple[int, Any, list[str]]]:
    """One task: read each sample, apply ``work``, keep nothing but the results."""
    results = []
    for index, ref in refs:
        try:
            sample = ref.load()
            results.append((index, work(sample), list(sample.warnings)))
        except SegviewerError as error:
            results.append((index, SampleFailure(index, ref.name, str(error)), []))
    return results


def failures_message(failures: Sequence[SampleFailure]) -> str:
    """One line for the failed samples: the count, the first few messages, then the names
    of the first others (a whole dataset that fails stays one readable line)."""
    if len(failures) == 1:
        return failures[0].message
    line = "; ".join(f.message for f in failures[:SHOWN_MESSAGES])
    rest = failures[SHOWN_MESSAGES:]
    if rest:
        names = ", ".join(f.name for f in rest[:SHOWN_NAMES])
        line += f"; and {len(rest)} more ({names}{', …' if len(rest) > SHOWN_NAMES else ''})"
    return f"{len(failures)} samples failed: {line}"
