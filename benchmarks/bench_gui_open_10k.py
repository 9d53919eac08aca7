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
from closing import close_discarding_edits  # benchmarks run as scripts, side by side
from qtpy.QtCore import QTimer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale_data import dataset_10k

TARGET_MS = 100.0


def open_and_fill(folder: Path) -> tuple[float, float, float, float]:
    """Seconds to the first sample shown, seconds to every summary, the longest event-loop
    block of the open itself and then while the summaries fill in (ms)."""
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
    gaps = np.diff(ticks) * 1e3
    # the gap that spans the open and the first draw of its layers, then the later ones
    first = int(np.searchsorted(ticks, start + shown))
    long = [(round(ticks[i] - start, 2), round(g)) for i, g in enumerate(gaps) if g > 100]
    print("   gaps over 100 ms (start s, ms):", long)
    close_discarding_edits(viewer)
    return shown, filled, float(gaps[:first].max()), float(gaps[first:].max())


def main() -> int:
    folder = dataset_10k()
    os.environ["SEGVIEWER_CACHE_DIR"] = tempfile.mkdtemp()
    print("10,000 samples of 256² (PNG folder) in the panel")
    for label in ("first open (local cluster of 2 workers)", "reopen (summary index)"):
        shown, filled, opening, filling = open_and_fill(folder)
        print(
            f"{label}: first sample shown after {shown:.2f} s (open and first draw block the "
            f"event loop {opening:.0f} ms), every summary in after {filled:.1f} s; longest "
            f"event-loop block while they fill in: {filling:.0f} ms (target {TARGET_MS:.0f})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
