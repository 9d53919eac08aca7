"""Conflict regions: connected groups of conflict pixels, largest first, for navigation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

from segviewer.core.data.sample import Sample
from segviewer.core.editing.derived import DerivedLayers, classes_of


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


def combination_counts(conflicts: np.ndarray, class_names: Sequence[str]) -> dict:
    """Pixels per combination of classes in a ``conflicts`` array, largest first."""
    codes, counts = np.unique(conflicts[conflicts > 0], return_counts=True)
    pairs = [
        (tuple(class_names[c] for c in classes_of(int(code))), int(n))
        for code, n in zip(codes.tolist(), counts.tolist(), strict=True)
    ]
    return dict(sorted(pairs, key=lambda kv: -kv[1]))


def conflict_record(sample: Sample) -> dict:
    """``segviewer conflicts --json``'s record of a sample: its conflict regions (largest
    first) and pixels per class combination."""
    conflicts = DerivedLayers(sample.masks, sample.ignore).conflicts
    names = sample.class_names
    return {
        "name": sample.name,
        "combinations": [
            {"classes": list(classes), "pixels": pixels}
            for classes, pixels in combination_counts(conflicts, names).items()
        ],
        "regions": [
            {
                "size": region.size,
                "classes": [names[c] for c in region.classes],
                "bbox": [[s.start, s.stop] for s in region.bbox],
                "centre": [round(c, 2) for c in region.centre],
            }
            for region in conflict_regions(conflicts)
        ],
    }
