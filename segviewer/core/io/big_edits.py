"""Editing a big sample at full resolution, one tile at a time.

:func:`read_tile` reads a box of level 0 (image and every class's mask) into an ordinary
in-memory :class:`Sample`, which the Workspace edits like any other (strokes, rules,
policies, undo, statistics). :func:`write_tile` writes the tile's masks back into the
OME-Zarr store: only the chunks whose content changed, at level 0 and at every coarser
level of each class's pyramid (a coarser level holds every other pixel of the one below,
as ``BigWriter`` made it), through the crash-safe journal of ``core.io.chunk_journal``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from segviewer.core.data.sample import Sample, Source
from segviewer.core.errors import SegviewerError
from segviewer.core.io.chunk_journal import (
    ChunkSaveError,
    ChunkWrite,
    chunk_slices,
    chunks_touching,
    recover,
    store_root,
    write_chunks,
)
from segviewer.core.io.ome_zarr import BigSample

MAX_TILE_PIXELS = 1 << 26  # 8192²: a tile's masks and derived layers must fit in memory


def check_box(big: BigSample, box: Sequence[slice]) -> tuple[slice, ...]:
    """``box`` clipped to the sample, with concrete bounds; refused when empty or huge."""
    if len(box) != len(big.shape):
        raise SegviewerError(f"{big.path}: a box of {len(box)} axes for a {len(big.shape)}D sample")
    clipped = tuple(
        slice(max(0, s.start or 0), min(n, n if s.stop is None else s.stop))
        for s, n in zip(box, big.shape, strict=True)
    )
    sizes = [s.stop - s.start for s in clipped]
    if min(sizes) <= 0:
        raise SegviewerError(f"{big.path}: the box {_text(box)} holds no pixel of the sample")
    if int(np.prod(sizes)) > MAX_TILE_PIXELS:
        raise SegviewerError(
            f"{big.path}: a tile of {'×'.join(map(str, sizes))} pixels is too big to edit in "
            f"memory; expected at most {MAX_TILE_PIXELS:,} pixels (zoom in further)"
        )
    return clipped


def check_editable(big: BigSample) -> None:
    """Refuse, on one line, a big sample whose masks cannot be written back chunk by chunk:
    a TIFF pair, one index label image, or a pyramid not halved on every axis."""
    if big.version == "tiff" or big.label_values is not None:
        kind = "a big TIFF pair" if big.version == "tiff" else "one index label image"
        raise SegviewerError(
            f"{big.path}: {kind} is read-only; expected an OME-Zarr store with one binary "
            "label image per class to edit"
        )
    for name, levels in zip(big.class_names, big.mask_levels, strict=True):
        for k, level in enumerate(levels):
            halved = tuple(max(n >> k, 1) for n in big.shape)
            if tuple(level.shape) != halved:
                raise SegviewerError(
                    f"{big.path}: level {k} of class {name!r} is {tuple(level.shape)}; "
                    f"expected {halved} (every level halved on every axis, as segviewer "
                    "writes them) to keep the pyramid right when a tile is saved"
                )


def read_tile(big: BigSample, box: Sequence[slice]) -> Sample:
    """Box ``box`` (level-0 pixels) of ``big`` as an in-memory sample to edit."""
    check_editable(big)
    box = check_box(big, box)
    _recover(big)
    where = list(box)
    if big.channel_axis is not None:
        where.insert(big.channel_axis, slice(None))
    try:
        image = np.asarray(big.image[tuple(where)])
        masks = np.stack([np.asarray(m[box], dtype=np.uint8) for m in big.masks])
    except OSError as error:
        raise SegviewerError(f"{big.path}: could not read the tile ({error})") from None
    if big.channel_axis is not None:
        image = np.moveaxis(image, big.channel_axis, -1)
    stem = big.path.name.removesuffix(".zarr")
    place = "_".join(f"{s.start}-{s.stop}" for s in box)
    return Sample(
        f"{stem}_{place}",
        np.ascontiguousarray(image),
        np.ascontiguousarray(masks),
        list(big.class_names),
        Source("big-tile", (big.path,), extra={"box": box}),
    )


def write_tile(
    big: BigSample, box: Sequence[slice], masks: np.ndarray, baseline: np.ndarray
) -> int:
    """Write into ``big``'s store at ``box`` the pixels where ``masks`` ``(C, *box shape)``
    differ from ``baseline`` (the tile as read, or as last saved): edits made to the store
    since, elsewhere in the box, are kept. The number of chunk files rewritten (those
    whose content changed, at every level)."""
    import zarr

    check_editable(big)
    box = check_box(big, box)
    expected = (len(big.masks), *(s.stop - s.start for s in box))
    if masks.shape != expected or baseline.shape != expected:
        raise SegviewerError(f"{big.path}: tile masks of shape {masks.shape}; expected {expected}")
    root = store_root(big.masks[0])

    def changes() -> list[ChunkWrite]:  # read after any interrupted save is finished
        group = zarr.open_group(str(root), mode="r+")
        writes = []
        for c, levels in enumerate(big.mask_levels):
            for k, level in enumerate(levels):
                edited = masks[c] != baseline[c]
                writes += _changed_chunks(group[level.path], box, masks[c], edited, 1 << k)
        return writes

    try:
        return write_chunks(root, changes)
    except ChunkSaveError:
        raise
    except OSError as error:
        raise ChunkSaveError(
            f"{big.path}: could not save the tile ({error.strerror or error}); the edits "
            "are still in memory",
            [],
        ) from None


def _changed_chunks(
    array, box, mask: np.ndarray, edited: np.ndarray, step: int
) -> list[ChunkWrite]:
    """The chunks of ``array`` (a level holding every ``step``-th pixel of level 0) that
    the ``edited`` pixels of ``mask`` over ``box`` change, with their new content."""
    region = tuple(
        slice(-(-s.start // step), min(-(-s.stop // step), n))
        for s, n in zip(box, array.shape, strict=True)
    )
    if any(r.stop <= r.start for r in region):
        return []
    sampled = tuple(
        slice(r.start * step - s.start, (r.stop - 1) * step - s.start + 1, step)
        for r, s in zip(region, box, strict=True)
    )
    values, wanted = mask[sampled], edited[sampled]
    if not wanted.any():
        return []
    writes = []
    for index in chunks_touching(array, region):
        chunk = chunk_slices(array, index)
        overlap = [
            slice(max(c.start, r.start), min(c.stop, r.stop))
            for c, r in zip(chunk, region, strict=True)
        ]
        inside = _within(overlap, region)
        if not wanted[inside].any():
            continue
        stored = np.asarray(array[chunk])
        new = stored.copy()
        part = new[_within(overlap, chunk)]
        part[wanted[inside]] = values[inside][wanted[inside]]
        if not np.array_equal(new, stored):
            writes.append(ChunkWrite(array, index, new))
    return writes


def _within(inner: Sequence[slice], outer: Sequence[slice]) -> tuple[slice, ...]:
    """``inner`` as slices relative to the start of ``outer``."""
    return tuple(
        slice(i.start - o.start, i.stop - o.start) for i, o in zip(inner, outer, strict=True)
    )


def _recover(big: BigSample) -> None:
    """Finish a save that a crash interrupted before the store is read for editing."""
    try:
        recover(store_root(big.masks[0]))
    except OSError as error:
        raise SegviewerError(
            f"{big.path}: an interrupted save could not be finished ({error.strerror or error})"
            "; expected a writable store"
        ) from None


def _text(box: Sequence[slice]) -> str:
    return "[" + ", ".join(f"{s.start}:{s.stop}" for s in box) + "]"
