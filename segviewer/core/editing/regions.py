"""Conflict regions: connected groups of conflict pixels, largest first, for navigation."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

from segviewer.core.editing.derived import classes_of


@dataclass(frozen=True)
class ConflictRegion:
    size: int  # pixels
    classes: tuple[int, ...]  # every class claiming some pixel of the region twice or more
    bbox: tuple[slice, ...]
    centre: tuple[float, ...]  # centre of mass, in pixel coordinates


def conflict_regions(conflicts: np.ndarray) -> list[ConflictRegion]:
    """Connected components (diagonals touching) of ``conflicts > 0``, largest first."""
    inside = conflicts > 0
    structure = ndi.generate_binary_structure(inside.ndim, inside.ndim)
    labels, count = ndi.label(inside, structure=structure)
    if count == 0:
        return []
    sizes = np.bincount(labels.ravel(), minlength=count + 1)[1:]
    centres = ndi.center_of_mass(inside, labels, range(1, count + 1))
    regions = []
    for number, box in enumerate(ndi.find_objects(labels), start=1):
        codes = conflicts[box][labels[box] == number]
        claimed = int(np.bitwise_or.reduce(codes.astype(np.uint64)))
        regions.append(
            ConflictRegion(
                int(sizes[number - 1]),
                classes_of(claimed),
                box,
                tuple(float(c) for c in centres[number - 1]),
            )
        )
    regions.sort(key=lambda r: (-r.size, r.centre))
    return regions
