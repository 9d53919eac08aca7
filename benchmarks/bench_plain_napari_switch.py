"""The baseline of "click the 3D sample" in bench_gui_actions.py: plain napari, with the
panel docked but empty, so no segviewer code runs. Five layers showing a 384² sample get the
data of a 197×233×189 volume (as the panel swaps data when the classes match), then go back,
then to the volume again; prints the longest event-loop gap of each (a 5 ms timer). Run:
``xvfb-run -a .venv/bin/python benchmarks/bench_plain_napari_switch.py``.
"""

from __future__ import annotations

import time

import napari
import numpy as np
from qtpy.QtCore import QTimer
from qtpy.QtWidgets import QApplication

from segviewer.core.data.synthetic import make_sample


def layer_arrays(sample) -> list[np.ndarray]:
    """The image, background, two classes and conflicts, as the panel shows them."""
    masks = sample.masks.astype(bool)
    derived = [~masks.any(0), masks[0], masks[1], masks.sum(0) > 1]
    return [sample.image, *(mask.view(np.uint8) for mask in derived)]


def turns(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        QApplication.processEvents()
        time.sleep(0.002)


def main() -> None:
    rng = np.random.default_rng(3)
    flat = make_sample(rng, (384, 384), "slice")
    volume = make_sample(rng, (197, 233, 189), "mri")
    viewer = napari.Viewer(show=True)
    viewer.window._qt_window.resize(1500, 950)
    viewer.window.add_plugin_dock_widget("segviewer", "SegViewer")
    image, *labels = layer_arrays(flat)
    layers = [viewer.add_image(image)]
    layers += [viewer.add_labels(data, opacity=0.6) for data in labels]
    ticks: list[float] = []
    timer = QTimer(interval=5, timeout=lambda: ticks.append(time.perf_counter()))
    timer.start()
    turns(0.5)
    for name, sample in (
        ("to the volume", volume),
        ("back to 2D", flat),
        ("to the volume", volume),
    ):
        start = time.perf_counter()
        for layer, data in zip(layers, layer_arrays(sample), strict=True):
            layer.data = data
        viewer.reset_view()
        turns(0.5)
        gaps = np.diff([start, *(t for t in ticks if t > start)])
        print(f"plain napari, five layers' data {name}: longest gap {gaps.max() * 1e3:.0f} ms")
    viewer.close()


if __name__ == "__main__":
    main()
