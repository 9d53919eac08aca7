"""TIFF pair ``NAME.tif`` (image) + ``NAME_masks.tif`` (masks); either file opens the pair.

Class names are read from the masks file's tifffile metadata (``class_names``) if present.
"""

from __future__ import annotations

from pathlib import Path

from segviewer.core.data.masks import ClassAxis
from segviewer.core.data.sample import Sample, SampleRef, Source
from segviewer.core.errors import SegviewerError
from segviewer.core.io.readers._common import (
    TIFF_SUFFIXES,
    build_pair_sample,
    class_names_from,
    find_pair,
    pair_ref,
    reading,
    require_image_partner,
)


def tiff_pair(path: Path) -> tuple[Path, Path] | None:
    """``(image, masks or labels)`` for a TIFF file of a pair, else None (not ours)."""
    return find_pair(path, TIFF_SUFFIXES)


def _read_tiff(path: Path, what: str):
    import tifffile

    with reading(path, what), tifffile.TiffFile(path) as tif:
        array = tif.asarray()
        metadata = tif.shaped_metadata[0] if tif.shaped_metadata else {}
    if array.size == 0:  # tifffile reads a file whose pages it cannot find as empty
        raise SegviewerError(
            f"{path}: no image data in this {what}; it may be truncated or corrupt"
        )
    return array, metadata


def read_tiff_pair(image_path: Path, masks_path: Path, class_axis: ClassAxis = "auto") -> Sample:
    require_image_partner(image_path, masks_path)
    image, _ = _read_tiff(image_path, "TIFF image")
    masks, metadata = _read_tiff(masks_path, "TIFF masks file")
    names = class_names_from(metadata.get("class_names"), str(masks_path))
    source = Source("tiff", (image_path, masks_path))
    return build_pair_sample(
        image_path,
        masks_path,
        image,
        masks,
        names,
        source,
        class_axis=class_axis,
    )


def tiff_ref(path: Path, class_axis: ClassAxis = "auto") -> SampleRef:
    return pair_ref(
        path,
        tiff_pair(path),
        lambda i, m: read_tiff_pair(i, m, class_axis),
        "TIFF",
        "NAME.tif + NAME_masks.tif",
    )
