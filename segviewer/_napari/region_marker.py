"""An outline around the conflict region the user went to, so it is found at a glance."""

from __future__ import annotations

import numpy as np
from napari.layers import Shapes

from segviewer._napari.layers import META_KEY

NAME = "selected region"
COLOR = "#ffff00"


def outline(viewer, bbox: tuple[slice, ...], scale, displayed: list[int], point) -> Shapes:
    """Draw (or move) a yellow rectangle around ``bbox`` (pixel slices) on the shown slice."""
    scale = np.asarray(scale, float)
    corner = np.asarray(point, float)  # the current slice for the axes not displayed
    low = np.array([bbox[a].start - 0.5 for a in range(len(bbox))]) * scale
    high = np.array([bbox[a].stop - 0.5 for a in range(len(bbox))]) * scale
    rows, cols = displayed[-2:]
    vertices = np.tile(corner[: len(bbox)], (4, 1))
    vertices[:, rows] = [low[rows], low[rows], high[rows], high[rows]]
    vertices[:, cols] = [low[cols], high[cols], high[cols], low[cols]]
    width = 2 / max(_zoom(viewer), 1e-6)  # ~2 screen pixels at the zoom of the focus
    layer = next((layer for layer in viewer.layers if layer.name == NAME), None)
    if layer is not None and layer.ndim != len(bbox):
        viewer.layers.remove(layer)
        layer = None
    if layer is None:
        layer = Shapes(
            [vertices],
            shape_type="rectangle",
            name=NAME,
            edge_color=COLOR,
            face_color="transparent",
            edge_width=width,
            metadata={META_KEY: {"role": "view"}},
        )
        active = viewer.layers.selection.active
        viewer.add_layer(layer)
        viewer.layers.selection.active = active  # painting stays on the class layer
    else:
        layer.data = [vertices]
        layer.edge_width = width
        layer.edge_color = COLOR
        layer.visible = True
    return layer


def clear(viewer) -> None:
    """Remove the outline (another sample is shown)."""
    for layer in [layer for layer in viewer.layers if layer.name == NAME]:
        viewer.layers.remove(layer)


def _zoom(viewer) -> float:
    return getattr(viewer, "scene", viewer).camera.zoom
