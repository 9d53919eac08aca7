"""Per-sample pixel counts: class pixels, implied background, overlap conflicts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from segviewer.core.data.masks import coverage
from segviewer.core.data.sample import Sample


@dataclass(frozen=True)
class PixelCounts:
    """Counts for one sample; a pixel in two classes counts in both ``classes`` entries."""

    classes: tuple[int, ...]  # pixels of each class mask, in class order
    background: int  # pixels in no class (and not ignored)
    conflicts: int  # pixels in two or more classes
    total: int  # pixels in the sample
    ignore: int = 0  # pixels marked "ignore" (in no class, not background either)


def count_pixels(masks: np.ndarray, ignore: np.ndarray | None = None) -> PixelCounts:
    """Count class, background and conflict pixels of ``masks`` shaped ``(C, *spatial)``;
    ``ignore`` marks pixels (in no class) that are not background either."""
    total = int(np.prod(masks.shape[1:]))
    classes = tuple(int(np.count_nonzero(m)) for m in masks)
    ignored = 0 if ignore is None else int(np.count_nonzero(ignore))
    if masks.shape[0] == 1:
        return PixelCounts(classes, total - classes[0] - ignored, 0, total, ignored)
    claims = coverage(masks)
    labelled = int(np.count_nonzero(claims))
    conflicts = int(np.count_nonzero(claims > 1))
    return PixelCounts(classes, total - labelled - ignored, conflicts, total, ignored)


def sample_info(sample: Sample) -> dict:
    """The per-sample record of ``segviewer info --json``."""
    counts = count_pixels(sample.masks, sample.ignore)
    return {
        "name": sample.name,
        "image_shape": list(sample.image.shape),
        "spatial_shape": list(sample.spatial_shape),
        "classes": list(sample.class_names),
        "counts": list(counts.classes),
        "background": counts.background,
        "conflicts": counts.conflicts,
        "ignore": counts.ignore,
    }
