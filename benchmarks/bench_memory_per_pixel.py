"""Resident memory per pixel of an in-memory 2D sample shown in the panel, beyond the data.

Target (big-images issue): ≤ 3 bytes per pixel beyond the data itself (the image, uint8,
and the two class masks, uint8: 3 bytes per pixel). For each size, a fresh napari process
under Xvfb builds a 2-class sample in memory, notes its resident memory (RSS), shows the
sample in the panel (image, background, the two classes, conflicts), draws the window and
notes RSS again. The slope between sizes (bytes per extra pixel) leaves out the fixed
cost of napari and the panel. The baseline is plain napari showing the same arrays (the
image and the two masks as Labels layers), in the same way. Run:
``xvfb-run -a .venv/bin/python benchmarks/bench_memory_per_pixel.py``.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np

TARGET, SIZES = 3.0, (2048, 4096, 8192)

SHOW = r"""
import sys
import napari, numpy as np
from qtpy.QtWidgets import QApplication
from segviewer.core.data.sample import Dataset
from segviewer.core.data.synthetic import make_sample

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096

size, plain = int(sys.argv[1]), sys.argv[2] == "plain"
viewer = napari.Viewer(show=True)
viewer.window._qt_window.resize(1500, 950)
if not plain:
    _, widget = viewer.window.add_plugin_dock_widget("segviewer", "SegViewer")
tile = make_sample(np.random.default_rng(8), (2048, 2048), "big")
reps = size // 2048
sample = make_sample(np.random.default_rng(8), (64, 64), "big")
sample.image = np.tile(tile.image, (reps, reps))
sample.masks = np.ascontiguousarray(np.tile(tile.masks, (1, reps, reps)))
for _ in range(10):
    QApplication.processEvents()
before = rss()
if plain:
    viewer.add_image(sample.image)
    for mask in sample.masks:
        viewer.add_labels(mask)
else:
    widget.session.add_dataset(Dataset.from_samples("big", [sample]))
for _ in range(30):
    QApplication.processEvents()
viewer.screenshot(canvas_only=False)
print(before, rss())
"""


def measure(size: int, mode: str) -> tuple[int, int]:
    command = [sys.executable, "-c", SHOW, str(size), mode]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    before, after = map(int, done.stdout.split()[-2:])
    return before, after


def main() -> int:
    slopes = {}
    for mode in ("segviewer", "plain"):
        growth = []
        for size in SIZES:
            before, after = measure(size, mode)
            growth.append(after - before)
            print(
                f"{mode} {size}²: data {3 * size * size / 2**20:.0f} MB; shown adds "
                f"{(after - before) / 2**20:.0f} MB ({(after - before) / size**2:.1f} B/px)"
            )
        pixels = np.array(SIZES, float) ** 2
        slopes[mode] = np.polyfit(pixels, growth, 1)[0]
        print(f"{mode}: {slopes[mode]:.1f} bytes per extra pixel beyond the data")
    ok = slopes["segviewer"] <= TARGET
    print(
        f"segviewer {slopes['segviewer']:.1f} B/px, plain napari {slopes['plain']:.1f} B/px "
        f"(ours beyond napari's own: {slopes['segviewer'] - slopes['plain']:.1f}); target ≤ "
        f"{TARGET:.0f} B/px: {'PASS' if ok else 'FAIL'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
