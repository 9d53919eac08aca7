"""napari strokes → Workspace edits, and Ctrl+Z / Ctrl+Shift+Z → its undo history.

napari may emit a stroke's ``paint`` event before or after writing its pixels, so events
are queued and handled once the current event is done: napari's own write is rolled back
and the atoms go to :meth:`Workspace.stroke`, which applies them under the painting policy
as one undo step and keeps the derived layers and the tallies exact.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app_model.types import KeyCode, KeyMod
from napari.layers import Layer
from napari.utils.notifications import show_error, show_info
from qtpy.QtCore import QTimer

from segviewer._napari.layers import segviewer_meta
from segviewer.core.editing.atoms import atom_region, roll_back
from segviewer.core.errors import SegviewerError

if TYPE_CHECKING:
    from segviewer._napari.session import ViewerSession

UNDO = KeyMod.CtrlCmd | KeyCode.KeyZ
REDO = KeyMod.CtrlCmd | KeyMod.Shift | KeyCode.KeyZ


class EditController:
    """Forwards strokes on the shown sample's layers, and undo/redo keys, to the Workspace."""

    def __init__(self, session: ViewerSession):
        self.session = session
        self.workspace = session.workspace
        self._queue: list[tuple[Layer, list]] = []

    @property
    def policy(self):
        return self.workspace.policy

    def history(self, dataset=None):
        return self.workspace.history(dataset)

    def connect(self, layer: Layer) -> None:
        """Listen to strokes on ``layer`` and route Ctrl+Z / Ctrl+Shift+Z to our history."""
        if segviewer_meta(layer)["role"] not in ("background", "class", "conflicts"):
            return  # the image, and views of predictions, are not edited
        layer.events.paint.connect(self._on_paint)
        layer.bind_key(UNDO, lambda _layer: self.undo(), overwrite=True)
        layer.bind_key(REDO, lambda _layer: self.redo(), overwrite=True)

    def _on_paint(self, event) -> None:
        if not self._queue:
            QTimer.singleShot(0, self.flush)
        self._queue.append((event.source, list(event.value)))

    def flush(self) -> None:
        """Apply the queued strokes (called on the next event-loop turn)."""
        queue, self._queue = self._queue, []
        for layer, atoms in reversed(queue):
            if segviewer_meta(layer)["role"] == "class":
                roll_back(layer.data, atoms)
        for layer, atoms in queue:
            meta = segviewer_meta(layer)
            if meta["role"] == "conflicts":
                self._refuse_conflicts_stroke(atoms)
            elif meta["role"] == "background":
                self.workspace.stroke("background", atoms, "background stroke")
            else:
                self.workspace.stroke(meta["class"], atoms, f"{layer.name} stroke")

    def _refuse_conflicts_stroke(self, atoms: list) -> None:
        derived, shape = self.workspace.derived, self.workspace.sample.spatial_shape
        for atom in atoms:  # derived from the masks: undo napari's write
            derived.update(atom_region(atom, shape))
        self.session.refresh_layers()
        show_info(
            "The conflicts layer follows the class masks: paint on a class layer "
            "or on background instead."
        )

    def apply_rule(
        self,
        rule: str,
        priority: list[str] | None,
        whole_dataset: bool,
        per_region: bool = False,
    ) -> int:
        """Resolve the shown sample's (or every sample's) conflicts by ``rule`` as one undo
        step; return the number of conflict pixels resolved (0 with a notification if the
        rule cannot run, e.g. ``learned`` before any learning)."""
        if self.workspace.dataset is None:
            return 0
        self.flush()
        scope = "dataset" if whole_dataset else "sample"
        if rule == "model":
            indices = (
                range(len(self.workspace.dataset)) if whole_dataset else [self.workspace.index]
            )
            missing = sum(self.workspace.prediction(i) is None for i in indices)
            if missing:
                show_info(
                    f"{missing} sample(s) have no prediction yet and were left as they are: "
                    "run the model on them first (Model tab)."
                )
        try:
            return self.workspace.apply_rule(rule, scope, priority, per_region=per_region)
        except SegviewerError as error:
            show_error(str(error))
            return 0

    def undo(self) -> bool:
        self.flush()
        return self.workspace.undo() is not None

    def redo(self) -> bool:
        self.flush()
        return self.workspace.redo() is not None
