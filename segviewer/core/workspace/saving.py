"""The Workspace's saves: the samples as the user has them now, into a new folder.

A save is prepared on the caller's thread (a :class:`SaveJob` holds copies of the samples
in memory, so the user may go on painting) and run anywhere, e.g. in a worker; once it has
run, the samples not edited since lose their ● edited mark. The precedence of the
``table`` and ``learned`` rules, if the dataset has one, is written as ``precedence.json``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from segviewer.core.data.sample import Dataset, Sample, SampleRef
from segviewer.core.errors import SegviewerError
from segviewer.core.io.writers import CONTAINERS, FORMATS, save_samples
from segviewer.core.progress import Progress, ensure
from segviewer.core.stats.classes import ClassStats, tally


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

    def run(self, progress: Progress | None = None) -> Path:
        """Write every sample (touches no array the user can change)."""
        progress = ensure(progress)
        progress.start(len(self.indices), "saving")

        def samples():
            for index in self.indices:
                yield self.copies.get(index) or self.dataset.refs[index].load()
                progress.step()

        return save_samples(
            samples(), self.out, self.format, extras=self.extras, container=self.container
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
    ) -> Path:
        """Write the samples as the user has them now into the new folder ``out`` (each in
        its own container; sources are never overwritten); saved samples lose their mark."""
        job = self.prepare_save(out, format, scope, container)
        path = job.run(progress)
        self.finish_save(job)
        return path

    def prepare_export(self, framework: str, out: str | Path, **options) -> ExportJob:
        """An :class:`ExportJob` of the dataset as the user has it now: copies of the edited
        samples are taken here, so the job may run in a thread while editing goes on."""
        if framework not in ("nnunet", "monai"):
            raise SegviewerError(f"unknown framework {framework!r}; expected nnunet or monai")
        dataset = self._require_dataset()
        refs = [
            _frozen(ref, self.snapshot(i)) if dataset.is_edited(i) or i == self.index else ref
            for i, ref in enumerate(dataset.refs)
        ]
        return ExportJob(framework, Dataset(dataset.name, refs, cache_size=0), Path(out), options)

    def export_nnunet(
        self, out: str | Path, dataset_id: int, name: str, dims: int | None = None
    ) -> Path:
        """The dataset as the user has it now (edits included) as the nnU-Net v2 raw dataset
        ``out/DatasetNNN_NAME`` (core.io.nnunet); ``dims`` keeps only 2D or 3D samples."""
        job = self.prepare_export("nnunet", out, dataset_id=dataset_id, name=name, dims=dims)
        return job.run()

    def export_monai(
        self,
        out: str | Path,
        scheme: str = "median_frequency",
        validation: float = 0.2,
        seed: int = 0,
        dims: int | None = None,
    ) -> Path:
        """The dataset as the user has it now as a MONAI datalist folder with its files and a
        training snippet using the class weights of ``scheme`` (core.io.monai_export)."""
        options = {"scheme": scheme, "validation": validation, "seed": seed, "dims": dims}
        return self.prepare_export("monai", out, **options).run()


def _frozen(ref: SampleRef, copy: Sample) -> SampleRef:
    """``ref`` reading ``copy`` (a snapshot) instead of its files."""
    return SampleRef(ref.name, lambda: copy, ref.source)


@dataclass
class ExportJob:
    """An export of a dataset whose edited samples are copies (see ``prepare_export``)."""

    framework: str  # "nnunet" or "monai"
    dataset: Dataset
    out: Path
    options: dict

    def run(self) -> Path:
        if self.framework == "nnunet":
            from segviewer.core.io.nnunet import export_nnunet

            return export_nnunet(self.dataset, self.out, **self.options)
        from segviewer.core.io.monai_export import export_monai
        from segviewer.core.stats.weights import SCHEMES

        options = dict(self.options)
        scheme = options.pop("scheme", "median_frequency")
        if scheme not in SCHEMES:
            raise SegviewerError(f"unknown scheme {scheme!r}; expected one of {', '.join(SCHEMES)}")
        samples = [self.dataset.sample(i) for i in range(len(self.dataset))]
        stats = ClassStats(
            samples[0].class_names,
            [s.name for s in samples],
            np.stack([tally(s.masks, s.ignore) for s in samples]),
        )
        weights = stats.normalized_weights()[scheme].tolist()
        sampler = stats.sampler_weights().tolist()
        return export_monai(self.dataset, self.out, weights, sampler, scheme, **options)
