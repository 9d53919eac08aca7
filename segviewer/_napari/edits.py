"""Edits of the shown sample: strokes under the painting policy, grouped undo and redo.

napari may emit a stroke's ``paint`` event before or after writing its pixels, so events
are queued and handled once the current event is done: napari's own write is rolled back
and every atom is applied again under segviewer's policy (core.editing), recorded as one
undo step over all classes, and the derived layers are updated in the stroke's region.
Each dataset has its own history; Ctrl+Z / Ctrl+Shift+Z on our layers use it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app_model.types import KeyCode, KeyMod
from napari.layers import Layer
from napari.utils import progress
from napari.utils.notifications import show_info
from qtpy.QtCore import QTimer

from segviewer._napari.layers import segviewer_meta
from segviewer.core.data.sample import Dataset
from segviewer.core.editing.atoms import Region, atom_region, roll_back
from segviewer.core.editing.history import EditHistory, Step
from segviewer.core.editing.rules import priority_order, resolve_sample
from segviewer.core.editing.strokes import PaintPolicy, apply_background_atom, apply_class_atom
from segviewer.core.stats.classes import tally

if TYPE_CHECKING:
    from segviewer._napari.session import ViewerSession

UNDO = KeyMod.CtrlCmd | KeyCode.KeyZ
REDO = KeyMod.CtrlCmd | KeyMod.Shift | KeyCode.KeyZ


class EditController:
    """Applies strokes on the shown sample's layers and keeps one history per dataset."""

    def __init__(self, session: ViewerSession):
        self.session = session
        self.policy = PaintPolicy()
        self._histories: dict[Dataset, EditHistory] = {}
        self._queue: list[tuple[Layer, list]] = []

    def history(self, dataset: Dataset | None = None) -> EditHistory:
        dataset = dataset or self.session.dataset
        return self._histories.setdefault(dataset, EditHistory())

    def connect(self, layer: Layer) -> None:
        """Listen to strokes on ``layer`` and route Ctrl+Z / Ctrl+Shift+Z to our history."""
        if segviewer_meta(layer)["role"] not in ("background", "class", "conflicts"):
            return  # the image, and views of predictions, are not edited
        layer.events.paint.connect(self._on_paint)
        layer.bind_key(UNDO, lambda _layer: self.undo(), overwrite=True)
        layer.bind_key(REDO, lambda _layer: self.redo(), overwrite=True)

    # -- strokes ----------------------------------------------------------------------------
    def _on_paint(self, event) -> None:
        if not self._queue:
            QTimer.singleShot(0, self.flush)
        self._queue.append((event.source, list(event.value)))

    def flush(self) -> None:
        """Apply the queued strokes (called on the next event-loop turn)."""
        queue, self._queue = self._queue, []
        if not queue:
            return
        for layer, atoms in reversed(queue):
            if segviewer_meta(layer)["role"] == "class":
                roll_back(layer.data, atoms)
        for layer, atoms in queue:
            self._apply(layer, atoms)
        self.session.refresh_layers()
        self.session.edited.emit([])  # strokes touch the shown sample only

    def _apply(self, layer: Layer, atoms: list) -> None:
        meta = segviewer_meta(layer)
        role, masks, derived = meta["role"], meta["sample"].masks, meta["derived"]
        if role == "conflicts":
            for atom in atoms:  # derived from the masks: undo napari's write
                derived.update(atom_region(atom, masks.shape[1:]))
            show_info(
                "The conflicts layer follows the class masks: paint on a class layer "
                "or on background instead."
            )
            return
        key = (meta["dataset"], meta["index"])
        step = Step(f"{'background' if role == 'background' else layer.name} stroke", [], [key])
        ignore = meta["sample"].ignore
        for atom in atoms:
            before = tally(masks, ignore, atom_region(atom, masks.shape[1:]))
            if role == "class":
                region, change = apply_class_atom(masks, meta["class"], atom, self.policy)
            else:
                region, change = apply_background_atom(masks, atom, self.policy)
            step.changes.append(change)
            derived.update(region)
            self.session.tallies[key[0]].add(key[1], tally(masks, ignore, region) - before)
        self.history(meta["dataset"]).push(step)
        self.session.mark_modified(meta["dataset"], meta["index"])

    # -- rules ------------------------------------------------------------------------------
    def apply_rule(
        self, rule: str, priority: list[str] | None, whole_dataset: bool, probabilities_of=None
    ) -> int:
        """Resolve the shown sample's (or every sample's) conflicts by ``rule`` as one undo
        step; return the number of conflict pixels resolved. ``probabilities_of(dataset,
        index)`` gives a model's class probabilities, for the ``model`` rule (samples
        without them are left as they are)."""
        session, dataset = self.session, self.session.dataset
        if dataset is None:
            return 0
        self.flush()
        indices = range(len(dataset)) if whole_dataset else [session.index]
        probabilities = {}
        if rule == "model":
            found = {i: probabilities_of(dataset, i) if probabilities_of else None for i in indices}
            probabilities = {i: p for i, p in found.items() if p is not None}
            if len(probabilities) < len(found):
                show_info(
                    f"{len(found) - len(probabilities)} sample(s) have no prediction yet and were "
                    "left as they are: run the model on them first (Model tab)."
                )
            indices = sorted(probabilities)
        step = Step(
            f"rule '{rule}' on {'the dataset' if whole_dataset else 'this sample'}", context=[]
        )
        resolved = 0
        for index in progress(indices, desc=f"Resolving by {rule}", disable=len(indices) < 2):
            sample = session.sample if index == session.index else dataset.sample(index)
            resolution, changes = resolve_sample(
                sample, rule, priority_order(sample.class_names, priority), probabilities.get(index)
            )
            if changes:
                resolved += resolution.n_conflicts
                step.changes.extend(changes)
                step.context.append((dataset, index))
                session.mark_modified(dataset, index, sample)
                session.recount(dataset, index, sample)
                derived = session.derived_of(dataset, index)
                if derived is not None:
                    derived.ignore = sample.ignore
        self.history(dataset).push(step)
        self._after(step if step.changes else None)
        return resolved

    # -- undo / redo ------------------------------------------------------------------------
    def undo(self) -> bool:
        return self._move(redo=False)

    def redo(self) -> bool:
        return self._move(redo=True)

    def _move(self, redo: bool) -> bool:
        """Undo or redo the next step; the statistics follow by the tally of the region it
        changed (a stroke's box), or by a recount of each sample a rule changed."""
        history = self.history()
        step = history.peek(redo)
        if step is None:
            return False
        region = _stroke_region(step)
        if region is not None:
            dataset, index = step.context[0]
            sample = dataset.sample(index)  # edited samples stay in memory
            before = tally(sample.masks, sample.ignore, region)
        step = history.redo() if redo else history.undo()
        if region is not None:
            delta = tally(sample.masks, sample.ignore, region) - before
            self.session.tallies[dataset].add(index, delta)
        else:
            for dataset, index in step.context or ():
                self.session.recount(dataset, index)
        return self._after(step)

    def _after(self, step: Step | None) -> bool:
        if step is None:
            return False
        for dataset, index in step.context or ():
            derived = self.session.derived_of(dataset, index)
            if derived is not None:
                derived.update()
        self.session.refresh_layers()
        self.session.edited.emit(list(step.context or ()))
        return True


def _stroke_region(step: Step) -> Region | None:
    """The box around every change of a stroke on the shown sample's masks; None for steps
    that changed other arrays or other samples (rules)."""
    if len(step.context or ()) != 1:
        return None
    boxes = [change.index for change in step.changes]
    if not all(
        isinstance(box, tuple) and all(isinstance(s, slice) for s in box) and box[0] == slice(None)
        for box in boxes
    ):
        return None
    return tuple(
        slice(min(box[axis].start for box in boxes), max(box[axis].stop for box in boxes))
        for axis in range(1, len(boxes[0]))
    )
