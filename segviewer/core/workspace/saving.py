"""The Workspace's saves: the samples as the user has them now, into a new folder.

A save or an export is prepared on the caller's thread (the job holds copies of the edited
samples, so the user may go on painting) and run anywhere, e.g. in a worker, on a dataset
job engine (``core.jobs``: a local Dask cluster from 64 samples, a cluster by address, or
in-process): each task reads its samples (an edited one travels as its copy) and writes
them. Once a save has run, the samples not edited since lose their ● edited mark. The
precedence of the ``table`` and ``learned`` rules, if the dataset has one, is written as
``precedence.json``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from segviewer.core.data.sample import Dataset, Sample, SampleRef
from segviewer.core.errors import SegviewerError
from segviewer.core.io.writers import CONTAINERS, FORMATS
from segviewer.core.jobs.engine import Engine, EngineSpec, in_process_for_memory, opened
from segviewer.core.jobs.summaries import dataset_summaries, raise_failures
from segviewer.core.progress import Progress
from segviewer.core.stats.classes import ClassStats, check_same_classes, tally
from segviewer.core.stats.index import SummaryIndex, as_summary


@dataclass
class SaveJob:
    """What to write: copies of edited samples; the others are read from their sources."""

    dataset: Dataset
    indices: list[int]
    copies: dict[int, Sample]
    revisions: dict[int, int]
    out: Path
    format: str
    extras: dict[str, str]  # text files written beside the samples (precedence.json)
    container: str | None = None  # None: each sample in its own; or e.g. "ome-zarr"

    def run(
        self, progress: Progress | None = None, engine: Engine | EngineSpec | None = None
    ) -> Path:
        """Write every sample on ``engine`` (touches no array the user can change)."""
        from segviewer.core.jobs.saving import save_dataset

        refs = [
            _frozen(self.dataset.refs[i], self.copies[i])
            if i in self.copies
            else self.dataset.refs[i]
            for i in self.indices
        ]
        chosen = Dataset(self.dataset.name, refs, cache_size=0)
        engine = in_process_for_memory(refs, engine)
        return save_dataset(
            chosen, self.out, self.format, engine, progress, self.extras, self.container
        )


class SavingMixin:
    """Verbs of :class:`~segviewer.core.workspace.Workspace` that write files."""

    def prepare_save(
        self,
        out: str | Path,
        format: str = "onehot",
        scope: str = "dataset",
        container: str | None = None,
    ):
        """A :class:`SaveJob` of the shown sample or of the whole dataset, each sample in
        its own container or all in ``container`` (``ome-zarr``)."""
        if format not in FORMATS:
            raise SegviewerError(
                f"unknown format {format!r}; expected one of: {', '.join(FORMATS)}"
            )
        if container not in (None, *CONTAINERS):
            raise SegviewerError(
                f"unknown container {container!r}; expected one of: {', '.join(CONTAINERS)}"
            )
        dataset = self._require_dataset()
        indices = list(range(len(dataset))) if scope == "dataset" else [self.index]
        in_memory = [i for i in indices if dataset.is_edited(i) or i == self.index]
        precedence = self.precedence(dataset)
        extras = {"precedence.json": precedence.to_json()} if precedence else {}
        return SaveJob(
            dataset,
            indices,
            {i: self.snapshot(i, dataset) for i in in_memory},
            {i: self.revision(i, dataset) for i in indices},
            Path(out),
            format,
            extras,
            container,
        )

    def finish_save(self, job: SaveJob) -> None:
        """Clear the ● mark of the samples written and not edited since."""
        saved = [i for i in job.indices if self.revision(i, job.dataset) == job.revisions[i]]
        for index in saved:
            job.dataset.mark_saved(index)
        self.saved.emit(job.dataset, saved)

    def save(
        self,
        out: str | Path,
        format: str = "onehot",
        scope: str = "dataset",
        progress: Progress | None = None,
        container: str | None = None,
        engine: Engine | EngineSpec | None = None,
    ) -> Path:
        """Write the samples as the user has them now into the new folder ``out`` (each in
        its own container; sources are never overwritten) on ``engine`` (default: a local
        cluster from 64 samples, in-process for samples held in memory); saved samples lose
        their mark."""
        job = self.prepare_save(out, format, scope, container)
        path = job.run(progress, engine)
        self.finish_save(job)
        return path

    def prepare_export(self, framework: str, out: str | Path, **options) -> ExportJob:
        """An :class:`ExportJob` of the dataset as the user has it now: copies of the edited
        samples (and their tallies, for MONAI's class weights) are taken here, so the job
        may run in a thread while editing goes on."""
        if framework not in ("nnunet", "monai"):
            raise SegviewerError(f"unknown framework {framework!r}; expected nnunet or monai")
        dataset = self._require_dataset()
        copies = {
            i: self.snapshot(i)
            for i in range(len(dataset))
            if dataset.is_edited(i) or i == self.index
        }
        refs = [
            _frozen(ref, copies[i]) if i in copies else ref for i, ref in enumerate(dataset.refs)
        ]
        tallies = self._copies_tallies(dataset, copies) if framework == "monai" else {}
        chosen = Dataset(dataset.name, refs, cache_size=0)
        classes = list(self.sample.class_names)
        return ExportJob(framework, chosen, Path(out), options, tallies, classes, self.index)

    def _copies_tallies(self, dataset: Dataset, copies: dict[int, Sample]) -> dict:
        """The copies' tallies: the ones the Workspace keeps exact through edits, else
        counted (MONAI's class weights need them; nnU-Net's export does not)."""
        table = self.tallies(dataset)
        return {
            i: table.rows[i].copy() if table.known[i] else tally(copy.masks, copy.ignore)
            for i, copy in copies.items()
        }

    def export_nnunet(
        self,
        out: str | Path,
        dataset_id: int,
        name: str,
        dims: int | None = None,
        engine: Engine | EngineSpec | None = None,
    ) -> Path:
        """The dataset as the user has it now (edits included) as the nnU-Net v2 raw dataset
        ``out/DatasetNNN_NAME`` (core.io.nnunet); ``dims`` keeps only 2D or 3D samples."""
        job = self.prepare_export("nnunet", out, dataset_id=dataset_id, name=name, dims=dims)
        return job.run(engine=engine)

    def export_monai(
        self,
        out: str | Path,
        scheme: str = "median_frequency",
        validation: float = 0.2,
        seed: int = 0,
        dims: int | None = None,
        engine: Engine | EngineSpec | None = None,
    ) -> Path:
        """The dataset as the user has it now as a MONAI datalist folder with its files and a
        training snippet using the class weights of ``scheme`` (core.io.monai_export)."""
        options = {"scheme": scheme, "validation": validation, "seed": seed, "dims": dims}
        return self.prepare_export("monai", out, **options).run(engine=engine)


def _frozen(ref: SampleRef, copy: Sample) -> SampleRef:
    """``ref`` reading ``copy`` (a snapshot) instead of its files."""
    return SampleRef(ref.name, Snapshot(copy), ref.source)


@dataclass(frozen=True)
class Snapshot:
    """Loads a copy taken earlier; it pickles, so a task carries the copy to a Dask worker."""

    sample: Sample

    def __call__(self) -> Sample:
        return self.sample


@dataclass
class ExportJob:
    """An export of a dataset whose edited samples are copies (see ``prepare_export``)."""

    framework: str  # "nnunet" or "monai"
    dataset: Dataset
    out: Path
    options: dict
    tallies: dict[int, np.ndarray]  # the copies' tallies
    classes: list[str]  # the shown sample's
    shown: int  # its index

    def run(
        self, progress: Progress | None = None, engine: Engine | EngineSpec | None = None
    ) -> Path:
        """Export on ``engine`` (core.jobs.exports; the same files whatever the engine)."""
        from segviewer.core.jobs.exports import export_monai_dataset, export_nnunet_dataset
        from segviewer.core.stats.weights import SCHEMES

        options = dict(self.options)
        engine = in_process_for_memory(self.dataset.refs, engine)
        with opened(engine, len(self.dataset)) as running:
            if self.framework == "nnunet":
                return export_nnunet_dataset(
                    self.dataset, self.out, engine=running, progress=progress, **options
                )
            scheme = options.pop("scheme", "median_frequency")
            if scheme not in SCHEMES:
                choices = ", ".join(SCHEMES)
                raise SegviewerError(f"unknown scheme {scheme!r}; expected one of {choices}")
            stats = self.stats(running, progress)
            weights = stats.normalized_weights()[scheme].tolist()
            sampler = stats.sampler_weights().tolist()
            return export_monai_dataset(
                self.dataset,
                self.out,
                weights,
                sampler,
                scheme,
                engine=running,
                progress=progress,
                **options,
            )

    def stats(self, engine: Engine, progress: Progress | None = None) -> ClassStats:
        """The class statistics of every sample: the copies' tallies, the others' from the
        summary index or read on ``engine``."""
        others = [i for i in range(len(self.dataset)) if i not in self.tallies]
        records = dataset_summaries(self.dataset, engine, "auto", SummaryIndex(), progress, others)
        raise_failures(records)
        rows, names = dict(self.tallies), self.dataset.names
        for i, record in zip(others, records, strict=True):
            check_same_classes((names[self.shown], self.classes), (names[i], record["classes"]))
            rows[i] = as_summary(record).tally
        return ClassStats(self.classes, names, np.stack([rows[i] for i in range(len(names))]))
