"""A Dask scheduler and workers started as separate processes on 127.0.0.1 (tests and
benchmarks run against a real cluster, never a mock)."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

BIN = Path(sys.executable).parent


@contextlib.contextmanager
def loopback_cluster(folder: Path, env: dict, workers: int = 2) -> Iterator[str]:
    """Yield the address of a `dask scheduler` with ``workers`` `dask worker` processes
    (one thread each), all on 127.0.0.1; stop them after."""
    from distributed import Client

    file = folder / "scheduler.json"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env}
    scheduler = [BIN / "dask", "scheduler", "--host", "127.0.0.1", "--port", "0"]
    processes = [
        subprocess.Popen([*scheduler, "--scheduler-file", file, "--no-dashboard"], **quiet)
    ]
    try:
        while not file.exists():
            time.sleep(0.1)
        worker = [BIN / "dask", "worker", "--scheduler-file", file, "--host", "127.0.0.1"]
        for _ in range(workers):
            processes.append(
                subprocess.Popen([*worker, "--nthreads", "1", "--no-dashboard"], **quiet)
            )
        address = json.loads(file.read_text())["address"]
        with Client(address, timeout=30) as client:
            client.wait_for_workers(workers, timeout=60)
        yield address
    finally:
        for process in reversed(processes):
            process.terminate()
            process.wait(timeout=30)
