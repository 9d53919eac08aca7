"""Workspace verbs for editing a big sample at full resolution: a box of it becomes a
one-sample dataset (edited like any other: strokes, rules, undo, statistics), saved back
into the big sample's store chunk by chunk (core.io.big_edits)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from segviewer.core.data.sample import Dataset
from segviewer.core.errors import SegviewerError
from segviewer.core.io.big_edits import read_tile, write_tile
from segviewer.core.io.ome_zarr import BigSample


@dataclass
class TileSave:
    """A save of a tile: a copy of its masks, written by :meth:`run` (any thread)."""

    dataset: Dataset
    big: BigSample
    box: tuple[slice, ...]
    masks: np.ndarray
    baseline: np.ndarray  # the tile as read or last saved: only pixels changed since go
    revision: int

    def run(self) -> int:
        """The number of chunk files rewritten (core.io.big_edits.write_tile)."""
        return write_tile(self.big, self.box, self.masks, self.baseline)


class TilesMixin:
    """Verbs of :class:`~segviewer.core.workspace.Workspace` for tiles of big samples."""

    def open_tile(self, big: BigSample, box: Sequence[slice]) -> Dataset:
        """Box ``box`` (level-0 pixels) of ``big`` as a new one-sample dataset, shown."""
        sample = read_tile(big, box)
        dataset = Dataset.from_samples(sample.name, [sample])
        self.tiles[dataset] = (big, sample.source.extra["box"])
        self.tile_baselines[dataset] = sample.masks.copy()
        return self.add(dataset)

    def tile_of(self, dataset: Dataset | None = None) -> tuple[BigSample, tuple] | None:
        """``(big sample, box)`` when ``dataset`` (default: the shown one) is a tile."""
        return self.tiles.get(dataset or self.dataset)

    def prepare_tile_save(self, dataset: Dataset | None = None) -> TileSave:
        """A :class:`TileSave` of the tile's masks as they are now (run it anywhere)."""
        dataset = dataset or self._require_dataset()
        if dataset not in self.tiles:
            raise SegviewerError(f"{dataset.name}: not a tile of a big sample")
        big, box = self.tiles[dataset]
        sample = self.snapshot(0, dataset)
        if sample.ignore is not None and sample.ignore.any():
            raise SegviewerError(
                f"{dataset.name}: has 'ignore' pixels, which a big sample's store cannot hold; "
                "expected classes and background only (paint them over first)"
            )
        baseline = self.tile_baselines[dataset]
        return TileSave(dataset, big, box, sample.masks, baseline, self.revision(0, dataset))

    def finish_tile_save(self, job: TileSave) -> None:
        """The store now holds ``job``'s masks; clear the tile's ● mark unless it was
        edited while the save ran."""
        self.tile_baselines[job.dataset] = job.masks
        if self.revision(0, job.dataset) == job.revision:
            job.dataset.mark_saved(0)
        self.saved.emit(job.dataset, [0])

    def save_tile(self, dataset: Dataset | None = None) -> int:
        """Write the tile's masks into its big sample's store; the chunk files rewritten.
        On failure the edits stay in memory, still marked unsaved."""
        job = self.prepare_tile_save(dataset)
        written = job.run()
        self.finish_tile_save(job)
        return written
