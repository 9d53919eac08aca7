"""Render the README's screenshots into resources/ (run: xvfb-run -a .venv/bin/python
scripts/screenshots.py). The same window as `segviewer demo`, at 1500 × 950, driven like a
user would."""

from __future__ import annotations

from pathlib import Path

from qtpy.QtWidgets import QApplication

from segviewer._napari.demo import open_demo_viewer

RESOURCES = Path(__file__).resolve().parents[1] / "resources"


def settle(turns: int = 10) -> None:
    for _ in range(turns):
        QApplication.processEvents()


def shoot(viewer, name: str) -> None:
    settle()
    viewer.screenshot(path=str(RESOURCES / name), canvas_only=False, flash=False)


def scroll_page_to(widget, panel, child) -> None:
    """Scroll ``panel``'s page so that ``child`` is at its top."""
    page = widget.tabs.currentWidget()
    settle()
    page.verticalScrollBar().setValue(child.mapTo(panel, child.rect().topLeft()).y())


def main() -> None:
    viewer = open_demo_viewer()
    viewer.window._qt_window.resize(1500, 950)
    settle()
    widget = viewer.window.dock_widgets["SegViewer (segviewer)"]
    viewer.reset_view()
    shoot(viewer, "segviewer-window.png")

    widget.show_sample(3)
    widget.step_region(1)  # the first conflict region, outlined
    widget.show_panel(widget.resolving)
    widget.resolving.rule_combo.setCurrentText("nearest")
    shoot(viewer, "conflict-resolve-preview.png")
    widget.resolving.apply_button.click()
    widget._refresh_counts()
    shoot(viewer, "conflict-resolved.png")

    widget.editing.undo_button.click()  # back to the data as read, for the statistics
    while widget._workers:  # the dataset's counts fill in as its samples are read
        settle()
    widget.show_panel(widget.statistics)
    shoot(viewer, "statistics-panel.png")

    widget.show_sample(0)
    widget.show_panel(widget.model)
    widget.model.scope_combo.setCurrentIndex(1)  # whole dataset
    widget.model.run()
    while widget.model.running or widget.model.predictions.updating:
        settle()
    widget.model.sort_worst_first()
    widget.show_sample(3)
    while widget.model.predictions.updating:
        settle()
    viewer.reset_view()
    scroll_page_to(widget, widget.model, widget.model.status)
    shoot(viewer, "model-side-by-side.png")
    widget.model.show_view(2)  # the error map
    shoot(viewer, "model-error-map.png")
    widget.model.show_view(0)

    resolving = widget.resolving  # conflicts to spot (the rare class), then fine-tune
    widget.show_panel(resolving)
    resolving.rule_combo.setCurrentText("priority")
    resolving.priority_list.insertItem(0, resolving.priority_list.takeItem(1))
    resolving.scope_combo.setCurrentIndex(1)
    resolving.apply()
    training = widget.training
    widget.show_panel(training)
    training.form.steps.setValue(100)
    training.train()
    while training.running:
        settle()
    scroll_page_to(widget, training, training.chart)
    shoot(viewer, "train-tab.png")

    viewer.open_sample("segviewer", "many_classes")  # six classes, many combinations
    while widget._workers:
        settle()
    widget.show_panel(widget.conflicts)
    while widget.conflicts.computing:
        settle()
    scroll_page_to(widget, widget.conflicts, widget.conflicts.winners)
    viewer.reset_view()
    shoot(viewer, "many-classes-legend.png")

    widget.show_sample(len(widget.session.dataset) - 1)  # the volume, in 3D
    viewer.dims.ndisplay = 3
    settle(30)
    shoot(viewer, "view-3d.png")
    viewer.close()


if __name__ == "__main__":
    main()
