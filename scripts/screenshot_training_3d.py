"""Render the README's screenshots of 3D training and the exports (run: xvfb-run -a
.venv/bin/python scripts/screenshot_training_3d.py): three synthetic volumes open, the
bundled model predicts one in 3D, the Train tab fine-tunes the bundled 3D network for a few
steps, and the Save tab shows its "Export for training" section."""

from __future__ import annotations

import tempfile
from pathlib import Path

import napari
import numpy as np
from qtpy.QtWidgets import QApplication, QScrollArea

from segviewer.core.data.synthetic import make_sample
from segviewer.core.editing.rules import resolve_sample
from segviewer.core.io.writers import save_samples

RESOURCES = Path(__file__).resolve().parents[1] / "resources"


def settle() -> None:
    for _ in range(10):
        QApplication.processEvents()


def scroll_to(widget, child, scroll, margin: int = 10) -> None:
    top = child.mapTo(scroll.parent().parent(), child.rect().topLeft()).y()
    scroll.setValue(scroll.value() + top - margin)
    settle()


def main() -> None:
    rng = np.random.default_rng(3)
    volumes = [make_sample(rng, (48, 96, 96), f"volume_{i}") for i in range(3)]
    for volume in volumes:
        resolve_sample(volume, "priority", [1, 0])
    folder = Path(tempfile.mkdtemp()) / "volumes"
    save_samples(volumes, folder, "masks")
    viewer = napari.Viewer()
    viewer.window._qt_window.resize(1500, 1000)
    _, widget = viewer.window.add_plugin_dock_widget("segviewer", "SegViewer")
    widget.open_paths([str(folder)])
    while widget._workers:
        settle()
    viewer.dims.set_current_step(0, 24)
    training = widget.training
    widget.show_panel(training)
    training.form.dims_combo.setCurrentText("3D")
    training.form.patch.setValue(32)
    training.form.steps.setValue(20)
    training.form.batch.setValue(2)
    training.train()
    while training.running:
        settle()
    settle()
    scroll = widget.findChild(QScrollArea).verticalScrollBar()
    scroll_to(widget, training, scroll)
    viewer.reset_view()
    settle()
    viewer.screenshot(path=str(RESOURCES / "train-tab-3d.png"), canvas_only=False, flash=False)

    widget.show_panel(widget.saving)
    settle()
    scroll_to(widget, widget.saving, scroll)
    viewer.screenshot(path=str(RESOURCES / "export-section.png"), canvas_only=False, flash=False)
    viewer.close()


if __name__ == "__main__":
    main()
