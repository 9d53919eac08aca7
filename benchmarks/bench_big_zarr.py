"""A big OME-Zarr sample on the CPU: write it, count it, predict it, with time and memory.

Writes a synthetic SIZE² sample (default 8192²) tile by tile, counts its classes chunk by
chunk (``segviewer stats``), and predicts it band by band into a new OME-Zarr
(``segviewer predict``), each in its own process so that each peak RSS is its own. The
figure to compare with: the image plus its labels in memory (3 bytes a pixel here).
Target (big-images issue): predicting peaks at ≤ 2× image + labels beyond the process's
baseline. Run: ``python benchmarks/bench_big_zarr.py [--size 8192]``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASELINE = (
    "import resource, torch, monai, segviewer.core.model.inference; "
    "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
)


def peak_rss_mb(*args: str) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of ``segviewer ARGS`` in a child process."""
    code = (
        "import resource, sys; from segviewer.cli import main; "
        f"rc = main({list(args)!r}); "
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); sys.exit(rc)"
    )
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if done.returncode:
        sys.exit(done.stderr)
    return time.perf_counter() - start, int(done.stderr.strip().splitlines()[-1]) / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=8192)
    size = parser.parse_args().size
    data = size * size * 3 / 2**20  # uint16 image + uint8 labels, MB
    baseline = subprocess.run([sys.executable, "-c", BASELINE], capture_output=True, text=True)
    base = int(baseline.stdout) / 1024
    with tempfile.TemporaryDirectory() as folder:
        store, pred = Path(folder, "big.zarr"), Path(folder, "pred.zarr")
        write = peak_rss_mb("sample", "--big", str(size), "--out", str(store))
        stats = peak_rss_mb("stats", str(store))
        predict = peak_rss_mb("predict", str(store), "--out", str(pred))
    print(
        f"{size}² OME-Zarr on 2 CPU threads; image + labels in memory would be {data:.0f} MB; "
        f"a process with torch and MONAI imported starts at {base:.0f} MB"
    )
    for name, (seconds, rss) in [("write", write), ("stats", stats), ("predict", predict)]:
        over = rss - base
        print(
            f"{name:<8} {seconds:7.1f} s   peak RSS {rss:6.0f} MB "
            f"({over:+.0f} MB over the baseline, {over / data:.2f}× image + labels)"
        )
    ok = predict[1] - base <= 2 * data
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
