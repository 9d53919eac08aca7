"""Where dataset jobs run: a Dask cluster, local by default or any by address, or in-process.

- ``open_engine()`` starts a ``distributed.LocalCluster`` on 127.0.0.1 with one worker
  process per core (``workers=N`` to choose), one thread each, so a worker holds one
  sample at a time; small jobs (fewer than :data:`LOCAL_CLUSTER_MIN` tasks) run in-process,
  since starting the workers would cost more than it saves.
- ``open_engine("tcp://host:8786")`` uses an existing cluster (``dask scheduler`` and
  ``dask worker``, dask-jobqueue, Kubernetes, dask-gateway...); it must be reachable
  within :data:`CONNECT_TIMEOUT` seconds and see the same files.
- ``open_engine("synchronous")`` runs every task in this process, in order (debugging).

Results come back in task order whatever the engine, so outputs are identical.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from segviewer.core.errors import SegviewerError
from segviewer.core.progress import Progress, ensure

SYNCHRONOUS = "synchronous"
CONNECT_TIMEOUT = 10  # seconds
LOCAL_CLUSTER_MIN = 64  # tasks; fewer run in-process unless a scheduler or workers are named


def default_workers() -> int:
    """One worker per core this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


class Engine:
    """Runs ``function(item)`` for every item and yields the results in item order."""

    name = SYNCHRONOUS
    workers = 1
    batches = False  # whether tasks should carry several samples (each task costs ~ms)

    def map(
        self,
        function: Callable[[Any], Any],
        items: Sequence,
        progress: Progress | None = None,
        weights: Sequence[int] | None = None,
    ) -> Iterator[Any]:
        """Yield ``function(item)`` in order; ``progress`` steps by each item's weight
        (e.g. the samples in a chunk) and may cancel between items."""
        progress = ensure(progress)
        for item, weight in zip(items, weights or [1] * len(items), strict=True):
            progress.check()
            result = function(item)
            progress.step(amount=weight)
            yield result

    def close(self) -> None:
        pass


class DaskEngine(Engine):
    """Tasks on a ``distributed.Client``; results gathered in order as they complete."""

    batches = True

    def __init__(self, client, cluster=None, name: str = "dask"):
        self.client, self.cluster, self.name = client, cluster, name
        self.workers = max(1, len(client.scheduler_info(n_workers=-1)["workers"]))

    def map(self, function, items, progress=None, weights=None):
        from distributed import as_completed

        progress = ensure(progress)
        weights = list(weights or [1] * len(items))
        futures = self.client.map(function, list(items), pure=False)
        position = {future.key: i for i, future in enumerate(futures)}
        done: dict[int, Any] = {}
        next_index = 0
        try:
            for future in as_completed(futures):
                index = position[future.key]
                done[index] = future.result()
                future.release()
                progress.step(amount=weights[index])
                while next_index in done:
                    yield done.pop(next_index)
                    next_index += 1
        finally:
            pending = [f for f in futures if not f.done()]
            if pending:
                self.client.cancel(pending)

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


@dataclass(frozen=True)
class EngineSpec:
    """Where to run, decided when a job knows how many tasks it has."""

    scheduler: str | None = None  # None: a local cluster (or in-process when small)
    workers: int | None = None

    def open(self, tasks: int):
        return open_engine(self.scheduler, self.workers, tasks)


def in_process_for_memory(
    refs: Sequence, engine: Engine | EngineSpec | None
) -> Engine | EngineSpec | None:
    """``engine``, unless it is the default and some samples are held only in memory (no
    files): those would travel whole to the workers, so the job runs in-process."""
    default = engine is None or engine == EngineSpec()
    if default and any(not ref.source.paths for ref in refs):
        return EngineSpec(SYNCHRONOUS)
    return engine


def opened(engine: Engine | EngineSpec | None, tasks: int):
    """A context giving an engine: ``engine`` itself, or one opened from a spec."""
    if isinstance(engine, Engine):
        return contextlib.nullcontext(engine)
    return (engine or EngineSpec()).open(tasks)


@contextlib.contextmanager
def open_engine(
    scheduler: str | None = None, workers: int | None = None, tasks: int | None = None
) -> Iterator[Engine]:
    """The engine for a job of ``tasks`` tasks (see the module's docstring); a job with
    nothing to do never starts or reaches a cluster."""
    if workers is not None and workers < 1:
        raise SegviewerError("--workers must be at least 1")
    if (
        scheduler == SYNCHRONOUS
        or tasks == 0
        or (
            scheduler is None
            and (workers == 1 or (workers is None and (tasks or 0) < LOCAL_CLUSTER_MIN))
        )
    ):
        yield Engine()
        return
    engine = _connect(scheduler) if scheduler else _local_cluster(workers or default_workers())
    try:
        yield engine
    finally:
        engine.close()


def _local_cluster(workers: int) -> DaskEngine:
    import dask
    from distributed import Client, LocalCluster

    # Dask's nannies set MALLOC_TRIM_THRESHOLD_=65536 in their workers, which sends every
    # sample-sized allocation through mmap/munmap: our per-sample work ran 1.5x slower.
    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}))
    environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    try:
        with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
    except (OSError, RuntimeError, TimeoutError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise SegviewerError(
            f"could not start a local Dask cluster of {workers} workers ({reason}); use "
            "--scheduler synchronous to run in this process"
        ) from None
    return DaskEngine(Client(cluster), cluster, f"local cluster of {workers} workers")


def _connect(address: str) -> DaskEngine:
    from distributed import Client

    try:
        client = Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise SegviewerError(
            f"cannot reach the Dask scheduler at {address!r} within {CONNECT_TIMEOUT} s "
            f"({reason}); start one (`dask scheduler`) or leave out --scheduler"
        ) from None
    return DaskEngine(client, None, f"scheduler {address}")
