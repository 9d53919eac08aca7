"""The core progress protocol drawn as napari's progress bar (safe inside a worker thread,
as in napari's ``examples/progress_bar_threading_.py``)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from napari.utils import progress as napari_progress

from segviewer.core.progress import Progress


@contextlib.contextmanager
def progress_bar(what: str, stop: threading.Event | None = None) -> Iterator[Progress]:
    """A :class:`Progress` shown in napari's activity dock; it stops once ``stop`` is set."""
    bar = napari_progress(total=0, desc=what)

    def report(done: int, total: int, message: str) -> None:
        if bar.total != total:
            bar.total = total
        bar.n = done
        bar.set_description(f"{what}: {message}" if message else what)
        bar.refresh()

    try:
        yield Progress(report, stop.is_set if stop is not None else (lambda: False))
    finally:
        bar.close()
