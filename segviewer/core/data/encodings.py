"""Exclusive labels in the two saved encodings, and back.

- ``index``: one label image, 0 = background, 1..C the classes in order, 255 = ignore;
- ``onehot``: ``(1 + C, *spatial)`` masks with the background as channel 0; an ignore
  pixel is in no channel, not even the background.
"""

from __future__ import annotations

import numpy as np

from segviewer.core.data.masks import coverage
from segviewer.core.errors import SegviewerError

IGNORE_LABEL = 255
MAX_INDEX_CLASSES = IGNORE_LABEL - 1
BACKGROUND = "background"


def require_exclusive(masks: np.ndarray, where: str) -> None:
    """Refuse masks that still have conflicts: exclusive formats cannot hold them."""
    conflicts = int(np.count_nonzero(coverage(masks) > 1))
    if conflicts:
        raise SegviewerError(
            f"{where}: {conflicts:,} conflict pixels remain (in two or more classes); resolve "
            "them first with a rule (segviewer resolve --rule …, or the panel's Resolve "
            "section) or by painting, or save the masks as they are"
        )


def to_index(masks: np.ndarray, ignore: np.ndarray | None, where: str) -> np.ndarray:
    require_exclusive(masks, where)
    if masks.shape[0] > MAX_INDEX_CLASSES:
        raise SegviewerError(
            f"{where}: {masks.shape[0]} classes do not fit index labels (at most "
            f"{MAX_INDEX_CLASSES}, 255 is ignore); save as onehot"
        )
    labels = np.zeros(masks.shape[1:], np.uint8)
    for c, mask in enumerate(masks):
        labels[mask.astype(bool)] = c + 1
    if ignore is not None:
        labels[ignore.astype(bool)] = IGNORE_LABEL
    return labels


def from_index(labels: np.ndarray, n_classes: int | None, where: str):
    """``(masks, ignore)`` from an index label image; ``n_classes`` None = its largest label.

    Every label value is checked in one pass over the unique values before anything is
    allocated per class, so a stray huge value is an error, not an exhausted memory.
    """
    if labels.dtype.kind not in "iu":
        raise SegviewerError(f"{where}: index labels must be integers, found {labels.dtype}")
    values = np.unique(labels)
    limit = MAX_INDEX_CLASSES if n_classes is None else n_classes
    bad = values[(values < 0) | ((values > limit) & (values != IGNORE_LABEL))]
    if bad.size:
        raise SegviewerError(
            f"{where}: label values {', '.join(map(str, bad[:10].tolist()))} are not classes; "
            f"expected 0 (background), 1..{limit} or 255 (ignore)"
        )
    if n_classes is None:
        n_classes = int(values[values != IGNORE_LABEL].max(initial=0))
    if n_classes == 0:
        raise SegviewerError(
            f"{where}: the index labels hold no class (only 0 background or 255 ignore) and no "
            "class names say which classes there are; expected labels 1..C, or class names"
        )
    masks = np.empty((n_classes, *labels.shape), np.uint8)
    for c, mask in enumerate(masks.view(bool)):
        np.equal(labels, c + 1, out=mask)
    ignore = labels == IGNORE_LABEL
    return masks, (ignore.astype(np.uint8) if ignore.any() else None)


def to_onehot(masks: np.ndarray, ignore: np.ndarray | None, where: str) -> np.ndarray:
    require_exclusive(masks, where)
    background = coverage(masks) == 0
    if ignore is not None:
        background &= ~ignore.astype(bool)
    return np.concatenate([background[np.newaxis].astype(np.uint8), masks])


def split_background(masks: np.ndarray, class_names: list[str]):
    """Drop a channel named ``background``: ``(masks, names, ignore)``, where ignore marks
    pixels in no channel at all (not even the background)."""
    if BACKGROUND not in class_names:
        return masks, class_names, None
    b = class_names.index(BACKGROUND)
    keep = [c for c in range(len(class_names)) if c != b]
    classes = np.ascontiguousarray(masks[keep])
    ignore = (coverage(masks) == 0).astype(np.uint8)
    return classes, [class_names[c] for c in keep], (ignore if ignore.any() else None)
