"""Resolve a whole dataset on an engine: each task reads its samples, applies the rule and
writes them into the new output folder itself; only small records come back.

The output appears only when every sample is written (a failure anywhere leaves nothing,
naming every sample that failed), and it holds exactly the files of a one-process run.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from segviewer.core.data.sample import Dataset, Sample
from segviewer.core.editing.precedence import Precedence
from segviewer.core.editing.rules import priority_order, resolve_sample, winner_name
from segviewer.core.errors import SegviewerError
from segviewer.core.io.atomic import new_folder
from segviewer.core.io.writers import write_extras, write_sample
from segviewer.core.jobs.engine import Engine, EngineSpec, opened
from segviewer.core.jobs.samples import map_samples
from segviewer.core.jobs.summaries import raise_failures
from segviewer.core.progress import Progress

Fixes = dict[str, tuple[np.ndarray, np.ndarray | None]]  # sample name -> masks, ignore


def resolve_dataset(
    dataset: Dataset,
    out: Path,
    fmt: str,
    rule: str,
    engine: Engine | EngineSpec | None = None,
    priority: Sequence[str] | None = None,
    precedence: Precedence | None = None,
    per_region: bool = False,
    fixes: Fixes | None = None,
    probabilities: Callable[[Sample], np.ndarray] | None = None,
    progress: Progress | None = None,
    container: str | None = None,
) -> list[dict]:
    """Resolve every sample by ``rule`` into the new folder ``out``; return per sample
    ``{"name", "conflicts", "moved": [[loser, winner, pixels], ...], "classes"}``.
    ``fixes`` replace some samples' masks first (the user's own, kept); ``probabilities``
    (``model`` rule) is a function of the sample and runs in this process."""
    if probabilities is not None:
        engine = Engine()
    extras = {"precedence.json": precedence.to_json()} if precedence else {}
    with new_folder(Path(out)) as tmp:
        write_extras(tmp, extras)
        work = functools.partial(
            _resolve_and_write,
            folder=tmp,
            fmt=fmt,
            rule=rule,
            priority=priority,
            precedence=precedence,
            per_region=per_region,
            fixes=fixes or {},
            probabilities=probabilities,
            container=container,
        )
        with opened(engine, len(dataset)) as running:
            found = map_samples(dataset, work, running, progress, None, "resolving")
            records = [r for _, r, _ in found]
        raise_failures(records)
        _check_one_set_of_classes(dataset, records)
    return records


def _resolve_and_write(
    sample, folder, fmt, rule, priority, precedence, per_region, fixes, probabilities, container
) -> dict:
    """One sample: the user's fixes, the rule, then written into ``folder``."""
    if sample.name in fixes:
        sample.masks, sample.ignore = fixes[sample.name]
    found = probabilities(sample) if probabilities is not None else None
    order = priority_order(sample.class_names, priority)
    resolution, _ = resolve_sample(sample, rule, order, found, precedence, per_region)
    write_sample(sample, folder, fmt, container)
    names = sample.class_names
    moved = [[names[a], winner_name(b, names), n] for (a, b), n in resolution.moved.items()]
    return {
        "name": sample.name,
        "conflicts": resolution.n_conflicts,
        "moved": moved,
        "classes": list(names),
        "folder": sample.source.format in ("folder", "memory"),
    }


def _check_one_set_of_classes(dataset: Dataset, records: list[dict]) -> None:
    """A dataset folder holds one set of classes (tasks in parallel cannot check it)."""
    folders = [r for r in records if r["folder"]]
    for record in folders[1:]:
        if record["classes"] != folders[0]["classes"]:
            raise SegviewerError(
                f"{record['name']}: classes {', '.join(record['classes'])} differ from the "
                "first sample's; a dataset folder holds one set of classes"
            )
