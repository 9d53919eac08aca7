"""Background and conflicts derived from one-hot masks, kept exact region by region.

For each pixel, the set of classes that claim it is a bitmask ``sum(m_c << c)``:
- ``background`` = 1 where no class claims the pixel (bitmask 0), else 0;
- ``conflicts`` = the bitmask where two or more classes claim the pixel, else 0, so its
  value says WHICH classes overlap (``0b011`` = classes 0 and 1).

Both depend only on the masks at the same pixel, so after an edit only the edited
region is recomputed (``update(region)``), in time that does not grow with image size.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import combinations

import numpy as np

from segviewer.core.editing.atoms import Region
from segviewer.core.errors import SegviewerError

MAX_CLASSES = 64  # conflict codes are bitmasks of the claiming classes (uint64 at most)
CHUNK_PIXELS = 1 << 18  # pixels per pass: large enough to amortise calls, small for cache


def code_dtype(n_classes: int) -> np.dtype:
    """Smallest unsigned dtype that holds a bitmask of ``n_classes`` classes."""
    for dtype in (np.uint8, np.uint16, np.uint32, np.uint64):
        if n_classes <= np.iinfo(dtype).bits:
            return np.dtype(dtype)
    raise SegviewerError(
        f"{n_classes} classes: conflicts can be shown for at most {MAX_CLASSES} classes"
    )


def conflict_code(classes: Sequence[int]) -> int:
    """The conflicts value of a pixel claimed by exactly ``classes`` (class indices)."""
    return sum(1 << c for c in classes)


def classes_of(code: int) -> tuple[int, ...]:
    """The class indices in a conflicts value (inverse of :func:`conflict_code`)."""
    return tuple(c for c in range(int(code).bit_length()) if code >> c & 1)


def possible_conflicts(n_classes: int, limit: int = 256) -> list[int]:
    """Conflict codes of all pairs, triples, … of ``n_classes`` classes (at most ``limit``)."""
    codes: list[int] = []
    for size in range(2, n_classes + 1):
        for combo in combinations(range(n_classes), size):
            codes.append(conflict_code(combo))
            if len(codes) == limit:
                return codes
    return codes


class DerivedLayers:
    """The ``background`` and ``conflicts`` arrays of one sample's masks, kept up to date.

    The arrays are allocated once; napari layers display them directly.
    """

    def __init__(self, masks: np.ndarray, ignore: np.ndarray | None = None):
        self.masks = masks
        self.ignore = ignore  # pixels marked "ignore" are not background
        spatial = masks.shape[1:]
        self.background = np.empty(spatial, np.uint8)
        self.conflicts = np.empty(spatial, code_dtype(masks.shape[0]))
        self.update()

    def update(self, region: Region | None = None) -> None:
        """Recompute both arrays inside ``region`` (a tuple of slices), or everywhere."""
        if region is None:
            rows = self.masks.shape[1]
            step = max(1, CHUNK_PIXELS // max(1, int(np.prod(self.masks.shape[2:]))))
            chunks = [(slice(start, min(rows, start + step)),) for start in range(0, rows, step)]
            if len(chunks) < 4:
                for chunk in chunks:
                    self._derive(chunk)
            else:  # numpy releases the GIL in these loops: use the cores
                with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
                    list(pool.map(self._derive, chunks))
        else:
            self._derive(tuple(region))

    def _derive(self, region: Region) -> None:
        """Recompute ``region`` with fast elementwise ufuncs only (no shifts, no look-ups)."""
        masks = self.masks[(slice(None), *region)]
        dtype = self.conflicts.dtype
        claims = np.empty(masks.shape[1:], dtype)
        scratch = np.empty_like(claims)
        if masks.shape[0] == 1:
            np.add(masks[0], dtype.type(0), out=claims, dtype=dtype)
        else:
            np.multiply(masks[1], dtype.type(2), out=claims, dtype=dtype)
            np.bitwise_or(claims, masks[0], out=claims, dtype=dtype)
        for c in range(2, masks.shape[0]):
            np.multiply(masks[c], dtype.type(1 << c), out=scratch, dtype=dtype)
            np.bitwise_or(claims, scratch, out=claims)
        background = self.background[region].view(bool)
        np.equal(claims, 0, out=background)
        if self.ignore is not None:
            background &= self.ignore[region] == 0
        np.subtract(claims, dtype.type(1), out=scratch)  # x & (x - 1) != 0: ≥ 2 bits set
        np.bitwise_and(scratch, claims, out=scratch)
        several = np.not_equal(scratch, 0)
        np.multiply(claims, several.view(np.uint8), out=self.conflicts[region], dtype=dtype)
