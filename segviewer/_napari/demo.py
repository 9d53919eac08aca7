"""``segviewer demo``: napari with the SegViewer panel and the sample dataset."""

from __future__ import annotations

from pathlib import Path


def open_demo_viewer():
    """A viewer with the SegViewer panel docked and the sample dataset opened via the manifest."""
    import napari

    viewer = napari.Viewer(title="segviewer")
    viewer.window.add_plugin_dock_widget("segviewer", "SegViewer")
    viewer.open_sample("segviewer", "cells")
    return viewer


def run_demo(screenshot: Path | None = None) -> int:
    import napari
    from qtpy.QtWidgets import QApplication

    viewer = open_demo_viewer()
    if screenshot is None:
        napari.run()
        return 0
    viewer.window._qt_window.resize(1500, 950)
    for _ in range(5):
        QApplication.processEvents()
    viewer.reset_view()
    QApplication.processEvents()
    Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
    viewer.screenshot(path=str(screenshot), canvas_only=False, flash=False)
    viewer.close()
    print(f"wrote {screenshot}")
    return 0
