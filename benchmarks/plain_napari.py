"""The baselines' scene: the panel's visible layers copied as plain napari layers (same
data, colours, rendering and blending, no segviewer behind them), the panel's own hidden."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def plain_copies(viewer) -> Iterator[list]:
    """Plain copies (of the data too: a stroke on them leaves ours alone) named "plain NAME"
    while inside; the panel's layers come back after."""
    from napari.layers import Layer

    ours = [layer for layer in viewer.layers if layer.visible]
    copies = []
    for layer in ours:
        data, options, kind = layer.as_layer_data_tuple()
        options = {**options, "name": f"plain {layer.name}", "metadata": {}}
        copies.append(viewer.add_layer(Layer.create(data.copy(), options, kind)))
        layer.visible = False
    try:
        yield copies
    finally:
        for layer in copies:
            viewer.layers.remove(layer)
        for layer in ours:
            layer.visible = True
