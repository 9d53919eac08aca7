"""Ask before unsaved edits are thrown away: when napari's window closes, or a dataset.

napari has no public hook for its window closing, so this filters the close event of the
top-level window that hosts the panel (Qt's ``QWidget.window()``; tested in test_gui.py).
"""

from __future__ import annotations

from collections.abc import Callable

from qtpy.QtCore import QEvent, QObject
from qtpy.QtWidgets import QMessageBox

from segviewer.core.workspace import Workspace


def ask_user(question: str) -> bool:
    """A Yes/No dialog; True for Yes."""
    answer = QMessageBox.question(None, "Unsaved edits", question)
    return answer == QMessageBox.Yes


class UnsavedGuard(QObject):
    """Stops napari's window from closing while edits are unsaved, unless the user agrees."""

    def __init__(self, workspace: Workspace, ask: Callable[[str], bool] | None = None):
        super().__init__()
        self.workspace = workspace
        self.ask = ask  # None: a Yes/No dialog (ask_user)

    def unsaved_question(self, datasets) -> str | None:
        """What to ask before ``datasets`` are closed, or None if nothing would be lost."""
        counts = [(d.name, len(d.modified)) for d in datasets if d.modified]
        if not counts:
            return None
        listed = ", ".join(f"{name} ({n} sample{'s' * (n > 1)})" for name, n in counts)
        return f"Unsaved edits in {listed} will be lost. Close anyway?"

    def may_close(self, datasets) -> bool:
        question = self.unsaved_question(datasets)
        return question is None or (self.ask or ask_user)(question)

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Close and not self.may_close(self.workspace.datasets):
            event.ignore()
            return True
        return False

    def watch(self, widget) -> None:
        """Guard the top-level window of ``widget`` (call once it is docked and shown)."""
        window = widget.window()
        if window is not widget:
            window.installEventFilter(self)
