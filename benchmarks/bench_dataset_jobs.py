"""Dataset jobs at scale (issue 14): `segviewer stats` and `resolve` on 10,000 samples of
256² (a PNG folder), in one process, on a local cluster of 2 workers, and on a scheduler
with 2 workers started as separate processes on 127.0.0.1; the client's peak RSS; and the
summary index (a reopen).

Run: .venv/bin/python benchmarks/bench_dataset_jobs.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from loopback_cluster import loopback_cluster
from scale_data import dataset_10k

BIN = Path(sys.executable).parent


def timed(argv: list[str], env: dict) -> tuple[float, int, str]:
    """Seconds, the client's peak RSS (bytes, polled every 20 ms) and stdout of a command."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:  # pipes could fill
        start = time.perf_counter()
        process = subprocess.Popen(argv, stdout=out, stderr=err, env=env)
        watched, peak = psutil.Process(process.pid), 0
        while process.poll() is None:
            try:
                peak = max(peak, watched.memory_info().rss)
            except psutil.Error:
                break
            time.sleep(0.02)
        seconds = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        assert process.returncode == 0, err.read().decode()
        return seconds, peak, out.read().decode()


def main() -> None:
    data = dataset_10k()
    work = Path(tempfile.mkdtemp())
    env = {**os.environ, "SEGVIEWER_CACHE_DIR": str(work / "cache")}
    stats = [BIN / "segviewer", "stats", str(data), "--json"]
    print(f"10,000 samples of 256² (PNG folder); {os.cpu_count()} cores")

    one, rss_one, json_one = timed([*stats, "--no-index", "--workers", "1"], env)
    two, rss_two, json_two = timed([*stats, "--no-index", "--workers", "2"], env)
    print(f"stats, one process:         {one:6.1f} s   client peak RSS {rss_one / 2**20:5.0f} MB")
    print(
        f"stats, local cluster of 2:  {two:6.1f} s   client peak RSS {rss_two / 2**20:5.0f} MB"
        f"   speed-up {one / two:.2f}×   same JSON: {json_one == json_two}"
    )

    far = {}
    for workers in (1, 2):
        folder = work / f"cluster-{workers}"
        folder.mkdir()
        with loopback_cluster(folder, env, workers) as address:
            far[workers], _, json_far = timed([*stats, "--no-index", "--scheduler", address], env)
        print(
            f"stats, scheduler + {workers} worker(s) (separate processes): {far[workers]:6.1f} s"
            f"   byte-identical JSON: {json_far == json_one}"
        )
    print(f"   2 workers against 1 on the same kind of cluster: {far[1] / far[2]:.2f}×")

    first, _, _ = timed([*stats, "--workers", "2"], env)
    again, rss_again, json_again = timed(stats, env)
    print(
        f"stats with the index: first run {first:5.1f} s, reopen {again:5.2f} s "
        f"(client peak RSS {rss_again / 2**20:.0f} MB; same JSON: {json_again == json_one})"
    )

    out = work / "resolved"
    resolve = [
        BIN / "segviewer",
        "resolve",
        str(data),
        "--rule",
        "nearest",
        "--format",
        "index",
        "--out",
        str(out),
        "--workers",
        "2",
    ]
    seconds, rss, _ = timed(resolve, env)
    print(
        f"resolve --rule nearest, local cluster of 2: {seconds:6.1f} s   "
        f"client peak RSS {rss / 2**20:.0f} MB"
    )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
