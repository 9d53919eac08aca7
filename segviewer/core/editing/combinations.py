"""Which combinations of classes a sample's conflicts hold, and a stable order for colouring them.

A conflicts value is the bitmask of the classes that claim the pixel (see ``derived``).
The combinations present when a sample is shown are ordered largest first, so the most
visible ones get the most distinct colours; combinations that appear later (a stroke) are
appended, so no colour already on screen ever changes while the user paints.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from segviewer.core.editing.derived import classes_of


def combination_sizes(conflicts: np.ndarray) -> dict[int, int]:
    """Pixels of each conflicts value present (0 excluded), largest first, then by value."""
    if conflicts.dtype.itemsize <= 2 and conflicts.size:
        counts = np.bincount(conflicts.ravel(), minlength=1)
        codes = np.flatnonzero(counts)
        sizes = counts[codes]
    else:
        codes, sizes = np.unique(conflicts[conflicts != 0], return_counts=True)
    pairs = [(int(c), int(n)) for c, n in zip(codes, sizes, strict=True) if c != 0]
    return dict(sorted(pairs, key=lambda pair: (-pair[1], pair[0])))


def combination_name(code: int, class_names: Sequence[str]) -> str:
    """``"cell + spot"`` for the conflicts value of classes cell and spot."""
    return " + ".join(class_names[c] for c in classes_of(code) if c < len(class_names))


class CombinationOrder:
    """Conflicts values in the order they get colours: largest first, newcomers last."""

    def __init__(self, conflicts: np.ndarray | None = None):
        self.codes: list[int] = [] if conflicts is None else list(combination_sizes(conflicts))

    def note(self, conflicts: np.ndarray) -> bool:
        """Append the values in ``conflicts`` (e.g. a stroke's box) not seen yet; True if any."""
        known = set(self.codes)
        new = [code for code in combination_sizes(conflicts) if code not in known]
        self.codes += new
        return bool(new)

    def position(self, code: int) -> int:
        return self.codes.index(code)
