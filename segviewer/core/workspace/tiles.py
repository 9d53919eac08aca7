"""Workspace verbs for editing a big sample at full resolution: a box of it becomes a
one-sample dataset (edited like any other: strokes, rules, undo, statistics), saved back
into the big sample's store chunk by chunk (core.io.big_edits)."""

from __future__ import annotations

from collections.abc import Sequence

from segviewer.core.data.sample import Dataset
from segviewer.core.errors import SegviewerError
from segviewer.core.io.big_edits import read_tile, write_tile
from segviewer.core.io.ome_zarr import BigSample


class TilesMixin:
    """Verbs of :class:`~segviewer.core.workspace.Workspace` for tiles of big samples."""

    def open_tile(self, big: BigSample, box: Sequence[slice]) -> Dataset:
        """Box ``box`` (level-0 pixels) of ``big`` as a new one-sample dataset, shown."""
        sample = read_tile(big, box)
        dataset = Dataset.from_samples(sample.name, [sample])
        self.tiles[dataset] = (big, sample.source.extra["box"])
        return self.add(dataset)

    def tile_of(self, dataset: Dataset | None = None) -> tuple[BigSample, tuple] | None:
        """``(big sample, box)`` when ``dataset`` (default: the shown one) is a tile."""
        return self.tiles.get(dataset or self.dataset)

    def save_tile(self, dataset: Dataset | None = None) -> int:
        """Write the tile's masks into its big sample's store; the chunk files rewritten.
        On failure the edits stay in memory, still marked unsaved."""
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
        revision = self.revision(0, dataset)
        written = write_tile(big, box, sample.masks)
        if self.revision(0, dataset) == revision:
            dataset.mark_saved(0)
        self.saved.emit(dataset, [0])
        return written
