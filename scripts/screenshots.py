"""Render the README's screenshots into resources/ (run: xvfb-run -a .venv/bin/python
scripts/screenshots.py). The same window as `segviewer demo`, driven like a user would."""

from __future__ import annotations

from pathlib import Path

from qtpy.QtWidgets import QApplication, QScrollArea

from segviewer._napari.demo import open_demo_viewer

RESOURCES = Path(__file__).resolve().parents[1] / "resources"


def settle() -> None:
    for _ in range(10):
        QApplication.processEvents()


def main() -> None:
    viewer = open_demo_viewer()
    viewer.window._qt_window.resize(1500, 1000)
    settle()
    widget = viewer.window.dock_widgets["SegViewer (segviewer)"]
    viewer.reset_view()
    settle()
    viewer.screenshot(path=str(RESOURCES / "segviewer-window.png"), canvas_only=False, flash=False)

    widget.show_sample(3)
    widget._refresh_counts()
    widget.tabs.setCurrentWidget(widget.conflicts)
    widget.conflicts.go_to(0)
    widget.tabs.setCurrentWidget(widget.resolving)
    widget.resolving.rule_combo.setCurrentText("nearest")
    widget.resolving.refresh()
    settle()
    scroll = widget.findChild(QScrollArea).verticalScrollBar()
    scroll.setValue(10_000)  # the tabs in view
    settle()
    viewer.screenshot(
        path=str(RESOURCES / "conflict-resolve-preview.png"), canvas_only=False, flash=False
    )
    widget.resolving.apply_button.click()
    widget._refresh_counts()
    settle()
    viewer.screenshot(path=str(RESOURCES / "conflict-resolved.png"), canvas_only=False, flash=False)

    widget.editing.undo_button.click()  # back to the data as read, for the statistics
    while widget._workers:  # the dataset's counts fill in as its samples are read
        settle()
    widget.tabs.setCurrentWidget(widget.statistics)
    settle()
    scroll.setValue(10_000)
    settle()
    viewer.screenshot(path=str(RESOURCES / "statistics-panel.png"), canvas_only=False, flash=False)

    widget.show_sample(0)
    widget.tabs.setCurrentWidget(widget.model)
    widget.model.scope_combo.setCurrentIndex(1)  # whole dataset
    widget.model.run()
    while widget.model.running or widget.model.predictions.updating:
        settle()
    widget.model.sort_worst_first()
    widget.show_sample(3)
    settle()
    scroll.setValue(10_000)
    settle()
    shot = RESOURCES / "model-side-by-side.png"
    viewer.screenshot(path=str(shot), canvas_only=False, flash=False)

    resolving = widget.resolving  # conflicts to spot (the rare class), then fine-tune
    widget.tabs.setCurrentWidget(resolving)
    resolving.rule_combo.setCurrentText("priority")
    resolving.priority_list.insertItem(0, resolving.priority_list.takeItem(1))
    resolving.scope_combo.setCurrentIndex(1)
    resolving.apply()
    training = widget.training
    widget.tabs.setCurrentWidget(training)
    training.form.steps.setValue(100)
    training.train()
    while training.running:
        settle()
    settle()
    top = training.mapTo(scroll.parent().parent(), training.rect().topLeft()).y()
    scroll.setValue(scroll.value() + top + 120)  # the settings' lower half, samples and chart
    settle()
    viewer.screenshot(path=str(RESOURCES / "train-tab.png"), canvas_only=False, flash=False)
    viewer.close()


if __name__ == "__main__":
    main()
