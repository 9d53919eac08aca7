"""Opening an 8192×8192 TIFF pair (image + 2-class masks) against tifffile alone.

Targets (foundation issue): time ≤ 1.3× tifffile.imread of the same two files; peak memory
< 2.5× the size of the data. Run: ``python benchmarks/bench_open_tiff.py [--size N]``.
Exits 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import tifffile

from segviewer.core.io.readers import open_dataset

TIME_TARGET, MEMORY_TARGET = 1.3, 2.5


def write_pair(folder: Path, size: int, layout: str) -> tuple[Path, Path, int]:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 4096, (size, size), dtype=np.uint16)
    masks = np.zeros((2, size, size), np.uint8)
    masks[0, : size // 2] = 1  # a large class
    masks[1, size // 2 - size // 64 : size // 2 + size // 64] = 1  # a thin band overlapping it
    if layout == "last, 0/255":
        masks = np.ascontiguousarray(np.moveaxis(masks, 0, -1)) * np.uint8(255)
    tifffile.imwrite(folder / "big.tif", image)
    tifffile.imwrite(folder / "big_masks.tif", masks)
    return folder / "big.tif", folder / "big_masks.tif", image.nbytes + masks.nbytes


def baseline(image_path: Path, masks_path: Path):
    return tifffile.imread(image_path), tifffile.imread(masks_path)


def segviewer_open(image_path: Path, masks_path: Path):
    return open_dataset(image_path).sample(0)


def best_time(function, *args, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        result = function(*args)
        times.append(time.perf_counter() - start)
        del result
    return min(times)


def peak_bytes(function, *args) -> int:
    gc.collect()
    tracemalloc.start()
    result = function(*args)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del result
    return peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=8192)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    ok = True
    print(f"open a {args.size}² uint16 image + (2, {args.size}, {args.size}) masks from TIFF")
    for layout in ("first, 0/1", "last, 0/255"):
        with tempfile.TemporaryDirectory() as tmp:
            image_path, masks_path, data_bytes = write_pair(Path(tmp), args.size, layout)
            baseline(image_path, masks_path)  # warm the page cache for both contenders
            base = best_time(baseline, image_path, masks_path, repeats=args.repeats)
            ours = best_time(segviewer_open, image_path, masks_path, repeats=args.repeats)
            peak = peak_bytes(segviewer_open, image_path, masks_path)
            base_peak = peak_bytes(baseline, image_path, masks_path)
        ratio, memory = ours / base, peak / data_bytes
        print(
            f"  masks class axis {layout}: tifffile {base * 1e3:.0f} ms, segviewer "
            f"{ours * 1e3:.0f} ms, ratio {ratio:.2f} (target ≤ {TIME_TARGET}); peak memory "
            f"{peak / 2**20:.0f} MiB = {memory:.2f}× the data (target < {MEMORY_TARGET}; "
            f"tifffile alone {base_peak / data_bytes:.2f}×)"
        )
        if layout == "first, 0/1":  # the layout the targets are set for
            ok &= ratio <= TIME_TARGET and memory < MEMORY_TARGET
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
