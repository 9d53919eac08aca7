"""Statistics of a big sample, counted once.

``big_tally`` counts a big sample chunk by chunk (minutes for 10⁹ pixels on a laptop); its
result is kept in the summary index (core.stats.index) under the sample's files, as any
sample's summary is, so counting the same files again (``segviewer stats``, the panel)
reads it back. An OME-Zarr store is stamped file by file, so rewriting a chunk counts the
sample again; a TIFF pair by its two files.
"""

from __future__ import annotations

import numpy as np

from segviewer.core.data.sample import SampleRef, Source
from segviewer.core.errors import SegviewerError
from segviewer.core.io.ome_zarr import BigSample, big_tally
from segviewer.core.stats.classes import ClassStats
from segviewer.core.stats.index import SummaryIndex, as_summary, keys_of

KEY = "big"  # the index key's reading mode: a chunked count, not an in-memory read


def big_ref(sample: BigSample) -> SampleRef:
    """The index's handle on a big sample: its name and files (never loaded)."""

    def load():
        raise SegviewerError(f"{sample.path}: a big sample is not read into memory")

    if sample.files:
        return SampleRef(sample.path.name, load, Source("tiff", tuple(sample.files)))
    return SampleRef(sample.path.name, load, Source("ome-zarr", (sample.path,)))


def big_record(sample: BigSample, row: np.ndarray) -> dict:
    """The summary record of a big sample counted to ``row`` (a tally)."""
    return {
        "name": sample.path.name,
        "image_shape": list(sample.image.shape),
        "spatial_shape": list(sample.shape),
        "classes": list(sample.class_names),
        "counts": [int(n) for n in row[1:-1]],
        "background": int(row[0]),
        "conflicts": int(row[-1]),
        "ignore": 0,
        "warnings": [],
    }


def cached_big_tally(sample: BigSample, index: SummaryIndex | None = None) -> np.ndarray:
    """``big_tally(sample)``, read from ``index`` when its files have not changed since it was
    counted, else counted and remembered there (unless the files changed while it was
    counted); without an index, counted."""
    if index is None:
        return big_tally(sample)
    ref = big_ref(sample)
    found = index.get([ref], KEY).get(0)
    if found is not None and found["classes"] == list(sample.class_names):
        return as_summary(found).tally
    before = keys_of([ref], KEY)
    row = big_tally(sample)
    if keys_of([ref], KEY) == before:
        index.put([(ref, big_record(sample, row))], KEY)
    return row


def big_stats(
    sample: BigSample, index: SummaryIndex | None = None, beta: float | None = None
) -> ClassStats:
    """Class statistics of one big sample (counted once per version of its files)."""
    row = cached_big_tally(sample, index)
    return ClassStats(list(sample.class_names), [sample.path.name], row[None], beta)
