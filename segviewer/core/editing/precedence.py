"""Conflict precedence: a winner for each combination of classes, and a global class order.

A *combination* is the set of classes that claim a conflict pixel. A :class:`Precedence`
names the winner of some combinations (one of its classes, ``ignore`` or ``background``)
and orders the classes; a pixel whose combination has no winner goes to the first of its
classes in that order, then in the priority order. This is the ``table`` rule (a
precedence the user wrote) and the ``learned`` rule (one learned from their fixes, see
:mod:`segviewer.core.editing.learning`). It is saved as ``precedence.json``::

    {"segviewer": "precedence", "version": 1,
     "order": ["nucleus", "cell"],
     "winners": [{"classes": ["cell", "nucleus"], "winner": "nucleus"}]}
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

from segviewer.core.errors import SegviewerError

IGNORE, BACKGROUND = "ignore", "background"
WINNER_IGNORE = -1  # winner code of a pixel that becomes "ignore"
WINNER_BACKGROUND = -2  # winner code of a pixel that becomes background
Combination = frozenset[str]


@dataclass
class Precedence:
    """Winners of combinations (by class names) and an order of the classes, first wins."""

    winners: dict[Combination, str] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)

    def winner_codes(
        self, combinations: Sequence[tuple[int, ...]], class_names: Sequence[str], order
    ) -> np.ndarray:
        """The winner code of each combination (given as class indices); ``order`` is the
        priority order (class indices) behind :attr:`order`."""
        known = [class_names.index(n) for n in self.order if n in class_names]
        ranked = known + [c for c in order if c not in known]
        rank = {c: i for i, c in enumerate(ranked)}
        codes = []
        for combination in combinations:
            winner = self.winners.get(frozenset(class_names[c] for c in combination))
            if winner is None:
                codes.append(min(combination, key=rank.__getitem__))
            else:
                codes.append(winner_code(winner, class_names))
        return np.array(codes, np.int64)

    def to_json(self) -> str:
        """The ``precedence.json`` text: one line per winner, combinations sorted."""
        rows = [
            json.dumps({"classes": sorted(classes), "winner": winner})
            for classes, winner in sorted(self.winners.items(), key=lambda kv: sorted(kv[0]))
        ]
        return (
            '{"segviewer": "precedence", "version": 1,\n'
            f' "order": {json.dumps(self.order)},\n'
            ' "winners": [' + ",\n  ".join(rows) + "]}\n"
        )

    @classmethod
    def from_json(cls, text: str, where: str = "precedence") -> Precedence:
        """Read :meth:`to_json`'s format (``order`` optional), or a bare list of winners."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise SegviewerError(
                f"{where}: not valid JSON ({error.msg}, line {error.lineno})"
            ) from None
        if isinstance(data, list):
            data = {"winners": data}
        if not isinstance(data, dict) or not isinstance(data.get("winners", []), list):
            raise SegviewerError(f"{where}: expected {EXPECTED}")
        order = data.get("order", [])
        if not isinstance(order, list) or not all(isinstance(n, str) for n in order):
            raise SegviewerError(f"{where}: 'order' must be a list of class names")
        winners: dict[Combination, str] = {}
        for number, row in enumerate(data.get("winners", []), start=1):
            classes, winner = _row(row, number, where)
            winners[frozenset(classes)] = winner
        return cls(winners, list(order))

    @classmethod
    def load(cls, path: str | Path) -> Precedence:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise SegviewerError(f"{path}: cannot read the precedence file ({error})") from None
        return cls.from_json(text, str(path))

    def check_classes(self, class_names: Sequence[str], where: str) -> None:
        """Refuse a precedence that names classes the data does not have."""
        named = set(self.order).union(*self.winners) if self.winners else set(self.order)
        unknown = sorted(named - set(class_names))
        if unknown:
            raise SegviewerError(
                f"{where}: the precedence names {', '.join(map(repr, unknown))}, which "
                f"the data does not have; its classes are: {', '.join(class_names)}"
            )


EXPECTED = (
    '{"order": [class, ...], "winners": [{"classes": [class, class, ...], '
    '"winner": class | "ignore" | "background"}, ...]}'
)


def _row(row, number: int, where: str) -> tuple[list[str], str]:
    if not isinstance(row, dict) or set(row) != {"classes", "winner"}:
        raise SegviewerError(f"{where}: winner {number} is not {{'classes': [...], 'winner': ...}}")
    classes, winner = row["classes"], row["winner"]
    if (
        not isinstance(classes, list)
        or len(set(classes)) < 2
        or not all(isinstance(c, str) for c in classes)
    ):
        raise SegviewerError(f"{where}: winner {number}: 'classes' must list two or more classes")
    if winner not in (*classes, IGNORE, BACKGROUND):
        raise SegviewerError(
            f"{where}: winner {number}: {winner!r} is not one of {classes}, 'ignore' or "
            "'background'"
        )
    return classes, winner


def winner_code(winner: str, class_names: Sequence[str]) -> int:
    """The code of a winner name: a class index, WINNER_IGNORE or WINNER_BACKGROUND."""
    if winner == IGNORE:
        return WINNER_IGNORE
    if winner == BACKGROUND:
        return WINNER_BACKGROUND
    return list(class_names).index(winner)


def winner_name(code: int, class_names: Sequence[str]) -> str:
    """The name of a winner code: a class name, "ignore" or "background"."""
    return {WINNER_IGNORE: IGNORE, WINNER_BACKGROUND: BACKGROUND}.get(code) or class_names[code]


# -- combinations and their connected regions ---------------------------------------------------
def combinations_of(claimed: np.ndarray) -> tuple[list[tuple[int, ...]], np.ndarray]:
    """The distinct combinations of a ``(C, n)`` claim matrix (class indices each) and,
    per pixel, the number of its combination in that list."""
    if claimed.shape[1] == 0:
        return [], np.zeros(0, np.int64)
    packed = np.ascontiguousarray(np.packbits(claimed.astype(bool), axis=0).T)
    _, first, inverse = np.unique(packed, axis=0, return_index=True, return_inverse=True)
    combinations = [tuple(np.flatnonzero(claimed[:, i]).tolist()) for i in first]
    return combinations, inverse.reshape(-1).astype(np.int64)


def region_ids(
    conflicts: tuple[np.ndarray, ...], combination: np.ndarray, shape: tuple[int, ...]
) -> np.ndarray:
    """Per conflict pixel, the number of its region: pixels of one combination connected
    through faces, edges or corners (as the Conflicts tab's regions)."""
    ids = np.zeros(combination.size, np.int64)
    structure = ndi.generate_binary_structure(len(shape), len(shape))
    offset = 0
    for k in np.unique(combination).tolist():
        members = np.flatnonzero(combination == k)
        points = [axis[members] for axis in conflicts]
        low = [int(p.min()) for p in points]
        box = np.zeros([int(p.max()) - lo + 1 for p, lo in zip(points, low, strict=True)], bool)
        local = tuple(p - lo for p, lo in zip(points, low, strict=True))
        box[local] = True
        labels, count = ndi.label(box, structure=structure)
        ids[members] = labels[local] - 1 + offset
        offset += count
    return ids


def by_region(winners: np.ndarray, regions: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """Give every pixel of a region the winner most of its pixels have (ties: ``rank``,
    lower first, indexed by winner code + 2)."""
    if winners.size == 0:
        return winners
    shifted = winners + 2  # codes from -2 up
    pairs, counts = np.unique(np.stack([regions, shifted]), axis=1, return_counts=True)
    # per region: most pixels first, then the best rank
    keys = np.lexsort((rank[pairs[1]], -counts, pairs[0]))
    ordered = pairs[:, keys]
    first = np.r_[True, ordered[0, 1:] != ordered[0, :-1]]
    majority = np.zeros(int(regions.max()) + 1, np.int64)
    majority[ordered[0, first]] = ordered[1, first] - 2
    return majority[regions]
