"""One progress protocol for every long function: done, total, a message, and a stop check.

A long function takes ``progress: Progress | None`` and calls ``progress.step(message)``
after each unit of work (``progress.start(total)`` first); it calls ``progress.check()``
where stopping is safe, which raises :class:`Cancelled` once the user asked to stop.
The shells bridge it once each: :func:`tqdm_progress` here for the CLI, and
``segviewer._napari.progress`` for napari's progress bar.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field


class Cancelled(Exception):  # not an error: the user asked for it
    """The user cancelled; the work stopped where it was safe to."""


Report = Callable[[int, int, str], None]  # done, total, message


@dataclass
class Progress:
    """Where a long job is (``done`` of ``total``) and whether it should stop."""

    report: Report | None = None
    should_stop: Callable[[], bool] = field(default=lambda: False)
    done: int = 0
    total: int = 0

    def start(self, total: int, message: str = "") -> None:
        self.done, self.total = 0, total
        self._emit(message)

    def step(self, message: str = "", amount: int = 1) -> None:
        self.done += amount
        self._emit(message)
        self.check()

    def check(self) -> None:
        """Raise :class:`Cancelled` if the user asked to stop."""
        if self.should_stop():
            raise Cancelled

    def _emit(self, message: str) -> None:
        if self.report is not None:
            self.report(self.done, self.total, message)


def ensure(progress: Progress | None) -> Progress:
    """``progress``, or a silent one that never stops."""
    return progress if progress is not None else Progress()


@contextlib.contextmanager
def tqdm_progress(what: str, unit: str = "sample") -> Iterator[Progress]:
    """A :class:`Progress` drawn as a tqdm bar on stderr (only when stderr is a terminal)."""
    from tqdm import tqdm

    tqdm.monitor_interval = 0  # no monitor thread
    bar = tqdm(desc=what, unit=unit, disable=None, file=sys.stderr)

    def report(done: int, total: int, message: str) -> None:
        if bar.total != total:
            bar.reset(total=total)
        bar.n = done
        bar.refresh()

    try:
        yield Progress(report)
    finally:
        bar.close()
