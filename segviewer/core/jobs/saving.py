"""Save a dataset on an engine: each task reads its samples and writes them into the new
output folder itself; only their names come back. The folder appears only when every
sample is written (a failure anywhere leaves nothing, naming every sample that failed),
and it holds exactly the files of a one-process save (``core.io.writers.save_samples``).
"""

from __future__ import annotations

import functools
from pathlib import Path

from segviewer.core.data.sample import Dataset, Sample
from segviewer.core.io.atomic import new_folder
from segviewer.core.io.writers import write_extras, write_sample
from segviewer.core.jobs.engine import Engine, EngineSpec, opened
from segviewer.core.jobs.samples import map_samples
from segviewer.core.jobs.summaries import raise_failures
from segviewer.core.progress import Progress


def save_dataset(
    dataset: Dataset,
    out: Path,
    fmt: str,
    engine: Engine | EngineSpec | None = None,
    progress: Progress | None = None,
    extras: dict[str, str] | None = None,
    container: str | None = None,
) -> Path:
    """Write every sample of ``dataset`` in format ``fmt`` into the new folder ``out``
    (each in its own container, or all in ``container``) with the text files ``extras``."""
    with new_folder(Path(out)) as tmp:
        write_extras(tmp, extras)
        work = functools.partial(_write, folder=tmp, fmt=fmt, container=container)
        with opened(engine, len(dataset)) as running:
            written = map_samples(dataset, work, running, progress, None, "saving")
            raise_failures([result for _, result, _ in written])
    return Path(out)


def _write(sample: Sample, folder: Path, fmt: str, container: str | None) -> str:
    write_sample(sample, folder, fmt, container)
    return sample.name
