"""Render resources/big-tile-editing.png: a 4096² OME-Zarr sample in napari, zoomed in, the
area in view opened as a tile from the Edit page and painted (run: xvfb-run -a
.venv/bin/python scripts/screenshot_big_tile.py)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import napari

from segviewer.core.io.ome_zarr import write_big_sample

RESOURCES = Path(__file__).resolve().parents[1] / "resources"


def main() -> None:
    from screenshots import settle, shoot

    store = Path(tempfile.mkdtemp()) / "slide.zarr"
    write_big_sample(store, 4096, seed=3, tile=1024, chunk=512)
    viewer = napari.Viewer()
    viewer.window._qt_window.resize(1500, 950)
    _, widget = viewer.window.add_plugin_dock_widget("segviewer", "SegViewer")
    viewer.open(str(store), plugin="segviewer")
    widget.show_panel(widget.editing)
    camera = getattr(viewer, "scene", viewer).camera
    camera.center, camera.zoom = (1400, 2200), 2.5
    settle()
    widget.editing.big_tile.edit_view()
    settle()
    ws = widget.session.workspace
    ws.policy.overwrite = True
    ws.paint("spot", (slice(60, 110), slice(80, 200)))
    viewer.layers.selection.active = viewer.layers["spot"]
    shoot(viewer, "big-tile-editing.png")
    viewer.close()


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    main()
