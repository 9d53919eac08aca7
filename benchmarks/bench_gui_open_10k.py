"""Opening a folder of 10,000 samples (256², PNG) in the panel: the time to the first
sample shown, the time until every summary is in the Samples list (first open: read on a
local cluster of 2 workers; reopen: from the summary index), and the longest the Qt event
loop was blocked meanwhile (a 10 ms timer records the gaps between its ticks; target
100 ms). Run: ``xvfb-run -a .venv/bin/python benchmarks/bench_gui_open_10k.py``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import napari
import numpy as np
from bench_gui_train import run_until  # the benchmarks run as scripts, side by side
from qtpy.QtCore import QTimer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale_data import dataset_10k

TARGET_MS = 100.0


def open_and_fill(folder: Path) -> tuple[float, float, float]:
    """Seconds to the first sample shown, seconds to every summary, worst gap (ms)."""
    viewer = napari.Viewer(show=True)
    _, widget = viewer.window.add_plugin_dock_widget("segviewer", "SegViewer")
    widget.session.engine_spec = type(widget.session.engine_spec)(workers=2)
    ticks: list[float] = []
    timer = QTimer(interval=10, timeout=lambda: ticks.append(time.perf_counter()))
    timer.start()
    run_until(lambda: len(ticks) >= 5)
    start = time.perf_counter()
    widget.open_paths([str(folder)])
    shown = time.perf_counter() - start
    run_until(lambda: not widget.lines.workers)
    filled = time.perf_counter() - start
    run_until(lambda: len(ticks) >= 5 + 10)
    timer.stop()
    assert widget.session.tallies(widget.session.dataset).known.all()
    worst = float(np.diff(ticks).max() * 1e3)
    viewer.close()
    return shown, filled, worst


def main() -> int:
    folder = dataset_10k()
    os.environ["SEGVIEWER_CACHE_DIR"] = tempfile.mkdtemp()
    print("10,000 samples of 256² (PNG folder) in the panel")
    for label in ("first open (local cluster of 2 workers)", "reopen (summary index)"):
        shown, filled, worst = open_and_fill(folder)
        print(
            f"{label}: first sample shown after {shown:.2f} s, every summary in after "
            f"{filled:.1f} s; longest event-loop block {worst:.0f} ms (target {TARGET_MS:.0f})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
