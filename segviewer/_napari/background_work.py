"""Work that would block the window for longer than a blink runs in a thread, with a busy
cursor while it runs; only the latest request of each kind shows its result."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qtpy.QtCore import Qt
from qtpy.QtWidgets import QApplication
from superqt.utils import create_worker

_latest: dict[Any, int] = {}  # kind → number of its latest request
_running: set = set()  # workers now running (kept alive until they finish)


INLINE_PIXELS = 1 << 19  # below this, work is quicker than a thread's round trip


def run_in_thread(
    kind: Any, compute: Callable[[], Any], show: Callable[[Any], None], pixels: int = 0
) -> None:
    """Run ``compute()`` in a thread, then ``show(result)`` on the GUI thread, unless a newer
    request of the same ``kind`` was made meanwhile (its result supersedes this one). Work
    on fewer than INLINE_PIXELS ``pixels`` runs at once, here."""
    number = _latest[kind] = _latest.get(kind, 0) + 1
    if pixels < INLINE_PIXELS:
        show(compute())
        return
    worker = create_worker(compute)

    def done(result) -> None:
        if _latest.get(kind) == number:
            show(result)

    def finished() -> None:
        _running.discard(worker)
        if not _running:
            QApplication.restoreOverrideCursor()

    worker.returned.connect(done)
    worker.finished.connect(finished)
    if not _running:
        QApplication.setOverrideCursor(Qt.BusyCursor)
    _running.add(worker)
    worker.start()


def busy() -> bool:
    """True while some work runs in a thread."""
    return bool(_running)
