"""The Workspace's edits: strokes under the painting policy, rules, and grouped undo/redo.

Every edit is one undo step; it keeps the derived layers and the tallies exact (a stroke by
the tally of its box, after minus before; a rule by a recount of each sample it changed),
marks the samples edited, bumps their revision, and emits ``edited`` with its scope.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from segviewer.core.data.sample import Sample
from segviewer.core.editing.atoms import Region, atom_region
from segviewer.core.editing.history import Step
from segviewer.core.editing.rules import resolved_samples
from segviewer.core.editing.strokes import apply_background_atom, apply_class_atom
from segviewer.core.errors import SegviewerError
from segviewer.core.progress import Progress, ensure
from segviewer.core.stats.classes import tally

Where = np.ndarray | Region  # a boolean mask of the sample's spatial shape, or a box


@dataclass
class EditScope:
    """What an edit (or its undo) touched: the samples, and for a stroke its box."""

    samples: list
    region: Region | None = None  # one sample's changed box; None: recount every sample


class EditingMixin:
    """Verbs of :class:`~segviewer.core.workspace.Workspace` that change masks."""

    # -- strokes ------------------------------------------------------------------------------
    def paint(self, class_name: str, where: Where, value: int = 1) -> EditScope | None:
        """Set class ``class_name`` to ``value`` (1 or 0) at ``where`` under :attr:`policy`."""
        names = self._sample.class_names if self._sample else []
        if class_name not in names:
            raise SegviewerError(f"no class {class_name!r}; the classes are {names}")
        atom = _atom(where, value, self._sample.spatial_shape)
        return self.stroke(names.index(class_name), [atom], f"{class_name} stroke")

    def paint_background(self, where: Where, value: int = 1) -> EditScope | None:
        """Make pixels background (1: they leave every class) or give background pixels to
        ``policy.background_fill`` (0), under :attr:`policy`."""
        if self._sample is None:
            raise SegviewerError("no sample is shown")
        atom = _atom(where, value, self._sample.spatial_shape)
        return self.stroke("background", [atom], "background stroke")

    def stroke(self, target: int | str, atoms: Sequence, label: str = "stroke") -> EditScope | None:
        """Apply napari-style history atoms on class ``target`` (an index) or on
        ``"background"`` to the shown sample, as one undo step."""
        sample, derived = self._sample, self.derived
        if sample is None:
            raise SegviewerError("no sample is shown")
        key = (self.dataset, self.index)
        self._remember_original(*key, sample)
        self._hand_edited.add(key)
        step = Step(label)
        boxes = []
        for atom in atoms:
            before = self._box_tally(sample, atom)
            if target == "background":
                region, changes = apply_background_atom(
                    sample.masks, atom, self.policy, sample.ignore
                )
            else:
                region, changes = apply_class_atom(
                    sample.masks, int(target), atom, self.policy, sample.ignore
                )
            step.changes += changes
            derived.update(region)
            self._tallies[key[0]].add(key[1], tally(sample.masks, sample.ignore, region) - before)
            boxes.append(region)
        step.context = EditScope([key], _union(boxes))
        return self._record(step, [(key, sample)])

    @staticmethod
    def _box_tally(sample: Sample, atom) -> np.ndarray:
        return tally(sample.masks, sample.ignore, atom_region(atom, sample.masks.shape[1:]))

    # -- rules ----------------------------------------------------------------------------------
    def apply_rule(
        self,
        rule: str,
        scope: str = "sample",
        priority: Sequence[str] | None = None,
        progress: Progress | None = None,
        per_region: bool = False,
    ) -> int:
        """Resolve the conflicts of the shown sample (or of every sample) by ``rule``, as one
        undo step; return the number of conflict pixels resolved. The ``model`` rule uses the
        probabilities of :meth:`predict` (samples without any are left as they are); the
        ``table`` and ``learned`` rules the dataset's :meth:`precedence`. ``per_region``:
        each connected region of one combination goes whole to one class."""
        dataset = self._require_dataset()
        precedence = self._precedence_for(rule, dataset)
        indices = list(range(len(dataset))) if scope == "dataset" else [self.index]
        probabilities = None
        if rule == "model":
            indices = [i for i in indices if self.probabilities_of(dataset, i) is not None]
            probabilities = lambda sample, i: self.probabilities_of(dataset, i)  # noqa: E731
        samples = ((i, self._before_rule(dataset, i)) for i in indices)
        step = Step(f"rule '{rule}' on {'the dataset' if scope == 'dataset' else 'this sample'}")
        touched, resolved = [], 0
        for index, sample, resolution, changes in resolved_samples(
            samples,
            rule,
            priority,
            probabilities,
            ensure(progress),
            len(indices),
            precedence,
            per_region,
        ):
            if changes:
                resolved += resolution.n_conflicts
                step.changes += changes
                touched.append(((dataset, index), sample))
        step.context = EditScope([key for key, _ in touched])
        self._record(step, touched)
        return resolved

    def _before_rule(self, dataset, index: int) -> Sample:
        sample = self.sample_of(index, dataset)
        self._remember_original(dataset, index, sample)
        return sample

    # -- undo / redo ----------------------------------------------------------------------------
    def undo(self) -> EditScope | None:
        return self._move(redo=False)

    def redo(self) -> EditScope | None:
        return self._move(redo=True)

    def _move(self, redo: bool) -> EditScope | None:
        history = self.history()
        step = history.peek(redo)
        if step is None:
            return None
        scope: EditScope = step.context
        if scope.region is not None:
            ((dataset, index),) = scope.samples
            sample = self.sample_of(index, dataset)
            before = tally(sample.masks, sample.ignore, scope.region)
        history.redo() if redo else history.undo()
        touched = [(key, self.sample_of(key[1], key[0])) for key in scope.samples]
        if scope.region is not None:
            delta = tally(sample.masks, sample.ignore, scope.region) - before
            self._tallies[dataset].add(index, delta)
        return self._after(step, touched)

    def _record(self, step: Step, touched: list) -> EditScope | None:
        """Push ``step``; recount rules' samples; mark everything touched; emit."""
        self.history(touched[0][0][0] if touched else None).push(step)
        if not step.changes or step is not self.history().peek():
            return None
        return self._after(step, touched, fresh=True)

    def _after(self, step: Step, touched: list, fresh: bool = False) -> EditScope:
        scope: EditScope = step.context
        for (dataset, index), sample in touched:
            self._touched(dataset, index, sample)
            if scope.region is None:
                self._tallies[dataset].set(
                    index, sample.class_names, tally(sample.masks, sample.ignore)
                )
                if (dataset, index) in self._derived:
                    self._derived[dataset, index].update()
            elif not fresh:
                self._derived[dataset, index].update(scope.region)
        self.edited.emit(scope)
        return scope


def _atom(where: Where, value: int, shape: tuple[int, ...]):
    """A napari-style atom ``(indices, old values, new value)`` for a mask or a box."""
    if isinstance(where, tuple) and all(isinstance(s, slice) for s in where):
        if len(where) != len(shape):
            raise SegviewerError(f"a box of {len(where)} axes for a {len(shape)}D sample")
        box = tuple(slice(*s.indices(n)[:2]) for s, n in zip(where, shape, strict=True))
        return (box, None, int(value))
    mask = np.asarray(where, bool)
    if mask.shape != shape:
        raise SegviewerError(f"a mask of shape {mask.shape} for a sample of shape {shape}")
    return (np.nonzero(mask), None, int(value))


def _union(boxes: list[Region]) -> Region | None:
    if not boxes:
        return None
    return tuple(
        slice(min(b[axis].start for b in boxes), max(b[axis].stop for b in boxes))
        for axis in range(len(boxes[0]))
    )
