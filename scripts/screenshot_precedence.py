"""Render the README's screenshot of the Conflicts tab learning from hand fixes
(run: xvfb-run -a .venv/bin/python scripts/screenshot_precedence.py): five classes of
objects that hide each other; the user fixes the left half of one scene by hand, then
clicks "Learn from my fixes"."""

from __future__ import annotations

import tempfile
from pathlib import Path

import napari
import numpy as np
from qtpy.QtWidgets import QApplication, QScrollArea

from segviewer.core.data.occlusion import occlusion_sample
from segviewer.core.io.writers import save_samples

RESOURCES = Path(__file__).resolve().parents[1] / "resources"


def settle() -> None:
    for _ in range(10):
        QApplication.processEvents()


def main() -> None:
    rng = np.random.default_rng(12)
    pairs = [occlusion_sample(rng, (160, 160), f"scene_{i}", objects=20) for i in range(4)]
    folder = Path(tempfile.mkdtemp()) / "scenes"
    save_samples([s for s, _ in pairs], folder, "masks")
    viewer = napari.Viewer()
    viewer.window._qt_window.resize(1500, 1000)
    _, widget = viewer.window.add_plugin_dock_widget("segviewer", "SegViewer")
    widget.open_paths([str(folder)])
    while widget._workers:
        settle()
    workspace = widget.session.workspace
    workspace.policy.overwrite, workspace.policy.area = True, "conflicts"
    truth = pairs[0][1]
    left = np.zeros(truth.shape, bool)
    left[:, :80] = True
    for c, name in enumerate(workspace.sample.class_names):
        workspace.paint(name, left & (truth == c + 1))
    widget.show_panel(widget.conflicts)
    widget.conflicts.winners.learn_button.click()
    settle()
    viewer.reset_view()
    scroll = widget.findChild(QScrollArea).verticalScrollBar()
    top = widget.conflicts.winners.mapTo(
        scroll.parent().parent(), widget.conflicts.winners.rect().topLeft()
    ).y()
    scroll.setValue(scroll.value() + top - 40)
    settle()
    shot = RESOURCES / "conflict-precedence-learned.png"
    viewer.screenshot(path=str(shot), canvas_only=False, flash=False)
    viewer.close()


if __name__ == "__main__":
    main()
