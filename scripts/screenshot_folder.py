"""Screenshots of any dataset as a first-time user sees it: the first sample in 2D, the
Conflicts page, 3D (volumes) and a narrow window. Run under a display:
``xvfb-run -a .venv/bin/python scripts/screenshot_folder.py FOLDER OUT_PREFIX``.

The README's real-data pictures come from the MNI152 2009 template of nilearn's wheel
(``nilearn/datasets/data/mni_icbm152_*``): the T1 image, and as two overlapping classes its
grey- and white-matter probability maps above 0.3, saved as ``mni.nii.gz`` and
``mni_masks.nii.gz`` (class axis last).
"""

from __future__ import annotations

import sys

import napari
from screenshots import settle


def main(folder: str, prefix: str) -> None:
    viewer = napari.Viewer(show=True)
    viewer.window._qt_window.resize(1500, 950)
    _, widget = viewer.window.add_plugin_dock_widget("segviewer", "SegViewer")
    widget.open_paths([folder])
    while widget._workers:
        settle()

    def shoot(name: str) -> None:
        settle(20)
        viewer.screenshot(path=f"{prefix}{name}.png", canvas_only=False, flash=False)

    shoot("2d")
    widget.show_panel(widget.conflicts)
    while widget.conflicts.computing:
        settle()
    shoot("conflicts")
    if len(widget.session.sample.spatial_shape) == 3:
        viewer.dims.ndisplay = 3
        shoot("3d")
        viewer.dims.ndisplay = 2
    viewer.window._qt_window.resize(1000, 800)
    shoot("narrow")
    viewer.close()


if __name__ == "__main__":
    main(*sys.argv[1:3])
