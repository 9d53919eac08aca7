"""Big samples, whatever their container: an OME-Zarr store (core.io.ome_zarr) or a big
TIFF pair (core.io.big_tiff), opened lazily as one :class:`BigSample`.

The command line, napari's reader and the Python API ask :func:`is_big` which route a
path takes: a big sample is counted, predicted and viewed chunk by chunk; anything else
is a dataset read into memory (core.io.readers).
"""

from __future__ import annotations

from pathlib import Path

from segviewer.core.errors import SegviewerError
from segviewer.core.io import ome_zarr
from segviewer.core.io.big_tiff import is_big_tiff, open_big_tiff
from segviewer.core.io.ome_zarr import BigSample, big_tally, is_ome_zarr
from segviewer.core.io.readers._common import TIFF_SUFFIXES

__all__ = ["BigSample", "big_tally", "is_big", "open_big"]


def is_big(path) -> bool:
    """Whether ``path`` takes the lazy route: an OME-Zarr store (any size), or a TIFF of a
    pair above ``MAX_IN_MEMORY`` pixels (reads one header)."""
    path = Path(path)
    return is_ome_zarr(path) or is_big_tiff(path)


def open_big(path) -> BigSample:
    """The big sample at ``path`` (a store, or either file of a TIFF pair), metadata checked,
    no pixel data read; refused on one line."""
    path = Path(path)
    if path.is_dir():
        return ome_zarr.open_big(path)
    if not path.exists():
        raise SegviewerError(f"{path}: no such file or folder")
    if path.suffix.lower() in TIFF_SUFFIXES:
        return open_big_tiff(path)
    raise SegviewerError(
        f"{path}: not a big sample; expected an OME-Zarr store or a TIFF pair "
        "NAME.tif + NAME_masks.tif"
    )
