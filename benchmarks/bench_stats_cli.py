"""``segviewer stats`` on a dataset of 1,000 samples of 512²: both cores, little memory.

Targets (statistics issue): with two worker processes the command takes ≤ 1/1.6 of the
single-process time, and it never holds more than a few samples in memory (its peak
resident memory, worker processes included, is compared with the dataset's size in memory).
The dataset is a folder (images/*.png, masks/CLASS/*.png) of 10 synthetic samples copied
100 times each. Run: ``python benchmarks/bench_stats_cli.py``. Exits 1 if a target is missed.
"""

from __future__ import annotations

import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from segviewer.core.data.synthetic import make_sample
from segviewer.core.io.writers import save_samples

SPEEDUP_TARGET, SAMPLES, SIZE = 1.6, 1000, 512


def make_dataset(root: Path) -> Path:
    rng = np.random.default_rng(5)
    seeds = [make_sample(rng, (SIZE, SIZE), f"seed_{i}") for i in range(10)]
    folder = save_samples(seeds, root / "seeds", "masks")
    out = root / "dataset"
    for sub in ("images", "masks/cell", "masks/spot"):
        (out / sub).mkdir(parents=True)
        for index in range(SAMPLES):
            source = folder / sub / f"seed_{index % 10}.png"
            shutil.copy(source, out / sub / f"sample_{index:04d}.png")
    return out


def run_stats(folder: Path, workers: int) -> tuple[float, float]:
    """Wall time and peak resident memory (MB, largest process) of one CLI run."""
    command = [sys.executable, "-m", "segviewer.cli", "stats", str(folder), "--json", "--no-index"]
    start = time.perf_counter()
    subprocess.run([*command, "--workers", str(workers)], check=True, capture_output=True)
    elapsed = time.perf_counter() - start
    return elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        folder = make_dataset(Path(tmp))
        in_memory = SAMPLES * SIZE * SIZE * (2 + 2) / 2**20  # uint16 image + 2 uint8 masks
        single, _ = run_stats(folder, 1)
        double, peak = run_stats(folder, 2)
    speedup = single / double
    print(
        f"segviewer stats, {SAMPLES} samples of {SIZE}²: 1 process {single:.1f} s, "
        f"2 processes {double:.1f} s, speed-up {speedup:.2f}× (target ≥ {SPEEDUP_TARGET})"
    )
    print(
        f"peak resident memory of any process: {peak:.0f} MB (the dataset in memory would be "
        f"{in_memory:.0f} MB; one sample is {in_memory / SAMPLES:.1f} MB)"
    )
    ok = speedup >= SPEEDUP_TARGET and peak < in_memory / 4
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
