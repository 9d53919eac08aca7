"""Opening a big OME-Zarr sample in napari: time and memory to the first drawn view.

Writes a synthetic SIZE² sample (``segviewer sample --big``) unless ``--store`` names one,
then, in a fresh process under Xvfb, opens it with segviewer's reader and renders the
whole window once (the coarsest levels napari needs for the full view), then once more
zoomed to 1:1 at the centre (level 0 chunks). Prints the seconds of each and the peak
RSS of that process. Run: ``python benchmarks/bench_big_open.py --size 8192``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

VIEWER = r"""
import resource, sys, time
import napari
from qtpy.QtWidgets import QApplication

viewer = napari.Viewer(show=True)
viewer.window._qt_window.resize(1500, 950)
start = time.perf_counter()
viewer.open(sys.argv[1], plugin="segviewer")
opened = time.perf_counter() - start
viewer.screenshot(canvas_only=True)
first = time.perf_counter() - start
viewer.camera.zoom = 1.0
viewer.camera.center = tuple(s / 2 for s in viewer.layers[0].data[0].shape)
start = time.perf_counter()
viewer.screenshot(canvas_only=True)
zoomed = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{opened:.2f} {first:.2f} {zoomed:.2f} {rss:.0f}")
viewer.close()
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=8192)
    parser.add_argument("--store", type=Path, help="an existing OME-Zarr sample")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = args.store or Path(folder, "big.zarr")
        if args.store is None:
            subprocess.run(
                [sys.executable, "-m", "segviewer.cli", "sample", "--big", str(args.size),
                 "--out", str(store)], check=True)  # fmt: skip
        command = ["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24", sys.executable, "-c",
                   VIEWER, str(store)]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode:
            sys.exit(done.stderr[-2000:])
        opened, first, zoomed, rss = done.stdout.split()[-4:]
    print(
        f"{store.name} ({args.size}²): open {opened} s, first full view drawn {first} s, "
        f"a 1:1 view at the centre {zoomed} s; peak RSS of the napari process {rss} MB "
        f"(the image and masks in memory would be {args.size**2 * 4 / 2**20:.0f} MB)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
