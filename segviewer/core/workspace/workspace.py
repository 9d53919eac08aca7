"""The Workspace: the datasets a user has open and everything they did to them, without Qt.

One Workspace sits under every shell: the napari panel forwards paint events and button
clicks to its verbs and redraws on its events, the CLI calls the same verbs, and a notebook
user gets the same power::

    import segviewer
    ws = segviewer.Workspace.open("data/")
    ws.apply_rule("nearest", scope="dataset")
    ws.save("clean/", format="index")

It holds, per open dataset, the undo history and the tallies of every counted sample; per
shown or edited sample, the derived ``background`` and ``conflicts`` arrays and an edit
revision (a counter that workers compare against to know that their result is stale); and
the model predictions made in it. Events (psygnal, as in napari) say what changed.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Literal

import numpy as np
from psygnal import Signal

from segviewer.core.data.sample import Dataset, Sample
from segviewer.core.editing.atoms import Region
from segviewer.core.editing.derived import DerivedLayers
from segviewer.core.editing.history import EditHistory
from segviewer.core.editing.learning import Learned
from segviewer.core.editing.precedence import Precedence
from segviewer.core.editing.regions import ConflictRegion, combination_counts, conflict_regions
from segviewer.core.editing.strokes import PaintPolicy
from segviewer.core.errors import SegviewerError
from segviewer.core.io.readers import open_dataset
from segviewer.core.jobs.engine import Engine, EngineSpec, in_process_for_memory
from segviewer.core.jobs.summaries import dataset_summaries, raise_failures
from segviewer.core.progress import Progress
from segviewer.core.stats.classes import ClassStats, TallyTable, tally
from segviewer.core.stats.index import SummaryIndex, as_summary
from segviewer.core.workspace.editing import EditingMixin
from segviewer.core.workspace.precedence import PrecedenceMixin
from segviewer.core.workspace.prediction_files import PredictionFiles
from segviewer.core.workspace.predictions import Prediction, PredictionsMixin
from segviewer.core.workspace.saving import SavingMixin
from segviewer.core.workspace.tiles import TilesMixin

Scope = Literal["sample", "dataset"]
Where = np.ndarray | Region  # a boolean mask of the sample's spatial shape, or a box
Key = tuple[Dataset, int]


class Workspace(EditingMixin, SavingMixin, PredictionsMixin, PrecedenceMixin, TilesMixin):
    """Open datasets, the shown sample, edits with undo, statistics, predictions, saving."""

    opened = Signal(object)  # a Dataset was added
    closed = Signal(object)  # a Dataset was closed
    shown = Signal()  # another sample (or dataset) is shown
    edited = Signal(object)  # an EditScope: masks changed (edit, rule, undo, redo)
    saved = Signal(object, list)  # a Dataset and the indices written
    predicted = Signal(object, int)  # a Dataset and the index that got a prediction

    def __init__(self) -> None:
        self.datasets: list[Dataset] = []
        self.dataset: Dataset | None = None
        self.index: int | None = None
        self.policy = PaintPolicy()
        self._sample: Sample | None = None
        self._histories: dict[Dataset, EditHistory] = {}
        self._tallies: dict[Dataset, TallyTable] = {}
        self._derived: dict[Key, DerivedLayers] = {}
        self._revisions: dict[Key, int] = {}
        self.predictions: dict[Key, Prediction] = {}
        self.prediction_files = PredictionFiles()  # their arrays, memory-mapped on disk
        self._originals: dict[Key, tuple] = {}  # masks and ignore before the first edit
        self._hand_edited: set[Key] = set()
        self._examples: set[Key] = set()
        self.learned: dict[Dataset, Learned] = {}  # the last learning of each dataset
        self.precedences: dict[Dataset, Precedence] = {}  # the table/learned rules' winners
        self.tiles: dict[Dataset, tuple] = {}  # tiles of big samples: (BigSample, box)
        self.tile_baselines: dict[Dataset, np.ndarray] = {}  # their masks as last saved

    # -- opening and showing ----------------------------------------------------------------
    @classmethod
    def open(cls, *paths: str | Path, class_axis: str = "auto") -> Workspace:
        """A workspace with ``paths`` (files and dataset folders) open as one dataset."""
        workspace = cls()
        workspace.add(open_dataset([str(p) for p in paths], class_axis=class_axis))
        return workspace

    def add(self, dataset: Dataset, show: int | None = 0) -> Dataset:
        """Add ``dataset`` (if new) and show its sample ``show`` (None: show nothing new)."""
        if dataset not in self.datasets:
            self.datasets.append(dataset)
            self._histories[dataset] = EditHistory()
            self._tallies[dataset] = TallyTable(dataset.names)
            self.opened.emit(dataset)
        if show is not None:
            self.show(show, dataset)
        return dataset

    def close(self, dataset: Dataset) -> None:
        """Forget ``dataset`` and its edits (a shell asks first if :meth:`unsaved` says so)."""
        self.datasets.remove(dataset)
        stores = (self._histories, self._tallies, self.learned, self.precedences)
        for store in (*stores, self.tiles, self.tile_baselines):
            store.pop(dataset, None)
        for store in (self._hand_edited, self._examples):
            store -= {k for k in store if k[0] is dataset}
        for key in [k for k in self.predictions if k[0] is dataset]:
            self.drop_prediction(key)
        for store in (self._derived, self._revisions, self._originals):
            for key in [k for k in store if k[0] is dataset]:
                del store[key]
        if self.dataset is dataset:
            self.dataset = self.index = self._sample = None
            if self.datasets:
                self.show(0, self.datasets[-1])
        self.closed.emit(dataset)

    def show(self, index: int, dataset: Dataset | None = None) -> Sample:
        """Show sample ``index`` of ``dataset`` (default: the shown dataset)."""
        dataset = dataset or self._require_dataset()
        if not 0 <= index < len(dataset):
            raise SegviewerError(f"{dataset.name}: no sample {index} (it has {len(dataset)})")
        sample = dataset.sample(index)
        if self.dataset is not None and not self.dataset.is_edited(self.index):
            self._derived.pop((self.dataset, self.index), None)  # kept only while needed
        self.dataset, self.index, self._sample = dataset, index, sample
        if not self._tallies[dataset].known[index]:
            self._tallies[dataset].set(
                index, sample.class_names, tally(sample.masks, sample.ignore)
            )
        self.shown.emit()
        return sample

    @property
    def sample(self) -> Sample | None:
        """The shown sample: the arrays that the shells display and edits change."""
        return self._sample

    def sample_of(self, index: int, dataset: Dataset | None = None) -> Sample:
        """Sample ``index`` as the user has it now (edited or shown copies first)."""
        dataset = dataset or self._require_dataset()
        if dataset is self.dataset and index == self.index:
            return self._sample
        return dataset.sample(index)

    @property
    def derived(self) -> DerivedLayers | None:
        """The shown sample's ``background`` and ``conflicts`` arrays, kept exact by edits."""
        return None if self._sample is None else self.derived_of(self.index, self.dataset)

    def derived_of(self, index: int, dataset: Dataset | None = None) -> DerivedLayers:
        dataset = dataset or self._require_dataset()
        key = (dataset, index)
        if key not in self._derived:
            sample = self.sample_of(index, dataset)
            self._derived[key] = DerivedLayers(sample.masks, sample.ignore)
        return self._derived[key]

    def history(self, dataset: Dataset | None = None) -> EditHistory:
        return self._histories[dataset or self._require_dataset()]

    def tallies(self, dataset: Dataset | None = None) -> TallyTable:
        """Every counted sample's tally ``[background, *classes, conflicts]``."""
        return self._tallies[dataset or self._require_dataset()]

    def tally(self) -> np.ndarray:
        """The shown sample's tally (counted now if the dataset table cannot hold it)."""
        table = self.tallies()
        if table.known[self.index]:
            return table.rows[self.index]
        return tally(self._sample.masks, self._sample.ignore)

    def _require_dataset(self) -> Dataset:
        if self.dataset is None:
            raise SegviewerError("no dataset is open: open files or a folder first")
        return self.dataset

    # -- edited and saved state ---------------------------------------------------------------
    def is_modified(self, index: int, dataset: Dataset | None = None) -> bool:
        return (dataset or self._require_dataset()).is_modified(index)

    def unsaved(self, dataset: Dataset | None = None) -> list[int]:
        """Indices of samples with edits not saved yet."""
        return (dataset or self._require_dataset()).modified

    def revision(self, index: int, dataset: Dataset | None = None) -> int:
        """How many edits (and undos) have changed this sample: a worker's staleness check."""
        return self._revisions.get((dataset or self._require_dataset(), index), 0)

    def snapshot(self, index: int, dataset: Dataset | None = None) -> Sample:
        """A copy of sample ``index`` that later edits cannot change, for a worker."""
        sample = self.sample_of(index, dataset)
        ignore = None if sample.ignore is None else sample.ignore.copy()
        return replace(sample, masks=sample.masks.copy(), ignore=ignore)

    def _touched(self, dataset: Dataset, index: int, sample: Sample) -> None:
        dataset.mark_modified(index, sample)
        self._revisions[dataset, index] = self._revisions.get((dataset, index), 0) + 1
        derived = self._derived.get((dataset, index))
        if derived is not None:
            derived.ignore = sample.ignore

    # -- statistics and conflicts -------------------------------------------------------------
    def stats(
        self,
        scope: Scope = "dataset",
        beta: float | None = None,
        progress: Progress | None = None,
        engine: Engine | EngineSpec | None = None,
        index: SummaryIndex | Literal[False] | None = None,
    ) -> ClassStats:
        """Class statistics and weights of the shown sample or of the whole dataset.

        Samples not counted yet are taken from the summary ``index`` (default: the user's;
        False: none) where their files have not changed, and the rest are read on
        ``engine`` (default: a local cluster from 64 samples to read, in-process for
        samples held in memory) and remembered in the index."""
        dataset, table = self._require_dataset(), self.tallies()
        if scope == "sample":
            return ClassStats(
                self._sample.class_names, [self._sample.name], self.tally()[None], beta
            )
        missing = np.flatnonzero(~table.known).tolist()
        if missing:
            engine = in_process_for_memory([dataset.refs[i] for i in missing], engine)
            records = dataset_summaries(
                dataset,
                engine,
                index=SummaryIndex() if index is None else (index or None),
                progress=progress,
                indices=missing,
            )
            raise_failures(records)
            for i, record in zip(missing, records, strict=True):
                table.set(i, list(record["classes"]), as_summary(record).tally)
        return table.stats(beta=beta)

    def conflict_regions(self) -> list[ConflictRegion]:
        """The shown sample's conflict regions (connected, diagonals touching), largest first."""
        return conflict_regions(self.derived.conflicts)

    def conflict_combinations(self) -> dict[tuple[str, ...], int]:
        """Pixels of the shown sample per combination of two or more classes."""
        return combination_counts(self.derived.conflicts, self._sample.class_names)
