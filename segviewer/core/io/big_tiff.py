"""Big TIFF pairs, read lazily with tifffile's ``aszarr``: the same :class:`BigSample` as an
OME-Zarr store, so counting, prediction and napari take either.

The layout is the TIFF pair of core.io.readers.tiff: ``NAME.tif`` holds the image and
``NAME_masks.tif`` the one-hot masks, opening either file opens both. For a big image:

- ``NAME.tif`` is tiled (or in strips of a few rows), 2D ``(Y, X)``, RGB ``(Y, X, 3|4)`` or
  3D ``(Z, Y, X)``, optionally a pyramid: its first series' levels (SubIFDs, or the levels
  tifffile reads from OME-TIFF, SVS, NDPI files) are the image's levels, finest first.
- ``NAME_masks.tif`` holds one page (or plane) per class, ``(C, *spatial)``, tiled alike,
  the class names in its tifffile metadata (``class_names``), optionally its own pyramid
  (write it with the image's, so napari shows the masks zoomed out without reading level 0).

A pair above :data:`core.io.ome_zarr.MAX_IN_MEMORY` pixels is big (:func:`is_big_tiff`); a
smaller one is read into memory by the TIFF reader. Opening reads headers only.
"""

from __future__ import annotations

import math
from pathlib import Path

from segviewer.core.data.encodings import BACKGROUND
from segviewer.core.data.names import check_class_names
from segviewer.core.errors import SegviewerError
from segviewer.core.io import ome_zarr
from segviewer.core.io.ome_zarr import BigSample
from segviewer.core.io.readers._common import (
    TIFF_SUFFIXES,
    class_names_from,
    default_class_names,
    find_pair,
    full_suffix,
    is_labels_file,
    is_regular_file,
    reading,
    require_image_partner,
    stem_of,
)

CHUNK_LIMIT = 1 << 24  # values: a tile or strip larger than this would be read whole
LAYOUT = (
    "a big TIFF sample is a pair NAME.tif (a tiled image, optionally a pyramid) + "
    "NAME_masks.tif (one tiled page per class, of the image's shape)"
)


def _pair(path: Path) -> tuple[Path, Path]:
    """``(image, masks)`` of the pair ``path`` belongs to; a lone or labels file refused."""
    if not path.exists():
        raise SegviewerError(f"{path}: no such file")
    pair = find_pair(path, TIFF_SUFFIXES)
    if pair is None:
        raise SegviewerError(
            f"{path}: no masks file {stem_of(path)}_masks{full_suffix(path)} next to it; {LAYOUT}"
        )
    image, masks = pair
    if is_labels_file(masks):
        raise SegviewerError(
            f"{masks}: index labels are not read lazily; {LAYOUT} (or convert it to OME-Zarr)"
        )
    require_image_partner(image, masks)
    return image, masks


def image_pixels(path: Path) -> int:
    """Spatial pixels of a TIFF's first series, from its header (no pixel data read)."""
    import tifffile

    with tifffile.TiffFile(path) as tif:
        series = tif.series[0]
        axis = _channel_axis(series.axes)
        return math.prod(n for a, n in enumerate(series.shape) if a != axis)


def is_big_tiff(path: Path) -> bool:
    """Whether ``path`` is a TIFF of a pair whose image is too big for memory: more than
    :data:`MAX_IN_MEMORY` pixels. Reads one header; False for anything unreadable (the
    in-memory reader says what is wrong with it)."""
    path = Path(path)
    if path.suffix.lower() not in TIFF_SUFFIXES or not is_regular_file(path):
        return False
    pair = find_pair(path, TIFF_SUFFIXES)
    image = pair[0] if pair is not None else path
    try:
        return is_regular_file(image) and image_pixels(image) > ome_zarr.MAX_IN_MEMORY
    except Exception:  # tifffile raises many types for a file that is not a TIFF
        return False


def _channel_axis(axes: str) -> int | None:
    return next((a for a, name in enumerate(axes) if name in "SC"), None)


def _levels(series, path: Path, what: str) -> list:
    """A zarr array per pyramid level of ``series``; refused if a chunk would be large."""
    import zarr
    from tifffile import TIFF

    arrays = []
    for k, level in enumerate(series.levels):
        page = level.keyframe
        if math.prod(page.chunks) > CHUNK_LIMIT:
            kind = "tiles" if page.is_tiled else "strips"
            size = "×".join(map(str, page.chunks))
            raise SegviewerError(
                f"{path}: the {what} (level {k}) is stored in {kind} of {size} pixels, which "
                "would be read whole; write it tiled, e.g. tifffile.imwrite(path, data, "
                "tile=(512, 512))"
            )
        if page.compression != 1 and page.compression not in TIFF.DECOMPRESSORS:
            raise SegviewerError(
                f"{path}: the {what} is compressed with {page.compression.name}, which needs "
                "the imagecodecs package (pip install imagecodecs)"
            )
        arrays.append(zarr.open_array(series.aszarr(level=k), mode="r"))
    return arrays


def _class_axis(shape: tuple[int, ...], spatial: tuple[int, ...]) -> int | None:
    if tuple(shape[1:]) == spatial:
        return 0
    if tuple(shape[:-1]) == spatial:
        return len(shape) - 1
    return None if tuple(shape) == spatial else -1


def _class_names(tif, count: int, where: str) -> list[str]:
    metadata = tif.shaped_metadata[0] if tif.shaped_metadata else {}
    names = class_names_from(metadata.get("class_names"), where) or default_class_names(count)
    names = check_class_names(names, where)
    if len(names) != count:
        raise SegviewerError(
            f"{where}: {len(names)} class names ({', '.join(names)}) for {count} masks; "
            "expected one name per mask"
        )
    if BACKGROUND in names:
        raise SegviewerError(
            f"{where}: a mask named {BACKGROUND!r}; {LAYOUT}, the background being implied"
        )
    return names


def open_big_tiff(path: Path) -> BigSample:
    """The pair ``path`` belongs to (image or masks file), read lazily whatever its size;
    refused on one line."""
    import dask.array as da
    import tifffile

    image_path, masks_path = _pair(Path(path))
    with reading(image_path, "TIFF image"), tifffile.TiffFile(image_path) as tif:
        series = tif.series[0]
        channel_axis = _channel_axis(series.axes)
        shape = tuple(series.shape)
        spatial = tuple(n for a, n in enumerate(shape) if a != channel_axis)
        if len(spatial) not in (2, 3) or (channel_axis is not None and shape[channel_axis] > 4):
            raise SegviewerError(
                f"{image_path}: an image of shape {shape} (axes {series.axes}); expected "
                "(Y, X), RGB (Y, X, 3|4) or (Z, Y, X)"
            )
        levels = _levels(series, image_path, "image")
    where = str(masks_path)
    with reading(masks_path, "TIFF masks file"), tifffile.TiffFile(masks_path) as tif:
        series = tif.series[0]
        axis = _class_axis(tuple(series.shape), spatial)
        if axis == -1:
            raise SegviewerError(
                f"{where}: masks of shape {tuple(series.shape)}, but the image "
                f"{image_path.name} is {spatial}; expected one page per class of the image's "
                "shape, (C, *spatial)"
            )
        if series.dtype.kind not in "biu":
            raise SegviewerError(f"{where}: masks of type {series.dtype}; expected 0/1 integers")
        arrays = [da.from_zarr(level) for level in _levels(series, masks_path, "masks")]
        count = 1 if axis is None else int(series.shape[axis])
        names = _class_names(tif, count, where)
    mask_levels = [
        [a if axis is None else a[(slice(None),) * axis + (c,)] for a in arrays]
        for c in range(count)
    ]
    return BigSample(
        path=image_path,
        image=levels[0],
        masks=[pyramid[0] for pyramid in mask_levels],
        class_names=names,
        levels=levels,
        version="tiff",
        mask_levels=mask_levels,
        channel_axis=channel_axis,
        files=(image_path, masks_path),
    )
