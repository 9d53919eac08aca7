"""Grouped undo/redo: one step restores every array an edit touched, together."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Change:
    """``array[index]`` held ``values`` before the edit (a region, a mask or fancy index)."""

    array: np.ndarray
    index: Any
    values: np.ndarray

    @classmethod
    def capture(cls, array: np.ndarray, index: Any) -> Change:
        return cls(array, index, np.array(array[index], copy=True))

    def swap(self) -> None:
        """Put the stored values back and keep the replaced ones (undo ⇄ redo)."""
        current = np.array(self.array[self.index], copy=True)
        self.array[self.index] = self.values
        self.values = current


@dataclass
class Step:
    """One undoable edit: a stroke, a background edit, a rule on a sample or a dataset."""

    label: str
    changes: list[Change] = field(default_factory=list)
    context: Any = None  # what the shell needs to refresh (e.g. which samples)


class EditHistory:
    """Undo and redo stacks of :class:`Step`; a new step clears the redo stack."""

    def __init__(self, limit: int = 200):
        self.limit = limit
        self._undo: list[Step] = []
        self._redo: list[Step] = []

    def push(self, step: Step) -> None:
        """Record ``step``; changes that changed nothing are dropped, and so is an empty step
        (an undo must always visibly undo something)."""
        step.changes = [c for c in step.changes if not np.array_equal(c.array[c.index], c.values)]
        if not step.changes:
            return
        self._undo.append(step)
        del self._undo[: -self.limit]
        self._redo.clear()

    def undo(self) -> Step | None:
        return self._move(self._undo, self._redo, reverse=True)

    def redo(self) -> Step | None:
        return self._move(self._redo, self._undo, reverse=False)

    @staticmethod
    def _move(source: list[Step], target: list[Step], reverse: bool) -> Step | None:
        if not source:
            return None
        step = source.pop()
        for change in reversed(step.changes) if reverse else step.changes:
            change.swap()
        target.append(step)
        return step

    def peek(self, redo: bool = False) -> Step | None:
        """The step the next undo (or redo) would move, without moving it."""
        stack = self._redo if redo else self._undo
        return stack[-1] if stack else None

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    @property
    def next_undo(self) -> str | None:
        return self._undo[-1].label if self._undo else None
