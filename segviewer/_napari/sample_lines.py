"""The Samples list's lines: one per sample, from the summary index or read off the GUI
thread (on the session's Dask engine), ● if unsaved; they reach the list in batches."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

from napari.qt.threading import thread_worker
from napari.utils.notifications import show_warning

from segviewer._napari.sample_list import SampleList
from segviewer._napari.session import ViewerSession
from segviewer.core.data.sample import Dataset
from segviewer.core.errors import SegviewerError
from segviewer.core.jobs import SYNCHRONOUS, EngineSpec, map_samples
from segviewer.core.jobs.engine import opened
from segviewer.core.jobs.samples import SampleFailure
from segviewer.core.stats.classes import SampleSummary, present_classes
from segviewer.core.stats.index import SummaryIndex, as_summary, summary_record

EDITED_MARK = "●"
BATCH_SECONDS = 0.1  # a batch of lines reaches the list at most every 0.1 s
INDEX_BATCH = 2000  # lines from the index per batch (each batch is one event-loop turn)


class SampleLines:
    """The lines of every open dataset; shows the listed one in ``view``."""

    def __init__(self, session: ViewerSession, on_summary: Callable, clicked: Callable):
        self.session, self.on_summary = session, on_summary
        # per dataset, each sample's summary as read (or why it could not be read)
        self.summaries: dict[int, list[SampleSummary | str | None]] = {}
        self.workers: dict[int, object] = {}  # one summary worker per dataset still reading
        self._fitted: set[int] = set()  # datasets whose columns were fitted to summaries
        self.listed: Dataset | None = None  # the dataset the list shows
        self.view = SampleList(self.line, self._rows, clicked)

    def add(self, dataset: Dataset) -> None:
        """Start reading every sample's summary line in a worker."""
        key = id(dataset)
        self.summaries[key] = [None] * len(dataset)
        worker = _summarise(dataset, self.session.engine_spec)
        worker.yielded.connect(lambda batch: self._on_batch(dataset, batch))
        worker.finished.connect(lambda: self._on_read(dataset))
        self.workers[key] = worker
        worker.start()

    def _on_read(self, dataset: Dataset) -> None:
        """Every summary is in: fit the columns to them once more."""
        self.workers.pop(id(dataset), None)
        if dataset is self.listed and dataset in self.session.datasets:  # not closed meanwhile
            self.view.fit_columns()

    def remove(self, dataset: Dataset) -> None:
        self.summaries.pop(id(dataset), None)
        self._fitted.discard(id(dataset))
        worker = self.workers.pop(id(dataset), None)
        if worker is not None:
            worker.quit()
        if self.listed is dataset:
            self.listed = None
            self.view.model.reset()

    def fill(self, dataset: Dataset) -> None:
        self.listed = dataset
        self.view.model.reset()
        self.view.fit_columns()
        self.view.set_classes(self.session.workspace.sample_of(0, dataset).class_names)

    def set_shown(self, dataset: Dataset, index: int, summary: SampleSummary) -> None:
        self.summaries[id(dataset)][index] = summary

    def update(self, index: int, owner: Dataset | None = None) -> None:
        """Redraw line ``index`` (if ``owner``, the dataset it belongs to, is listed)."""
        if self.listed is not None and (owner is None or owner is self.listed):
            self.view.model.changed(index, index)
            self.view.fit_names()  # an edit adds ●: the name stays whole

    def read_count(self, dataset: Dataset) -> int:
        """How many of ``dataset``'s lines have their summary (or their reading error)."""
        lines = self.summaries.get(id(dataset), [])
        return len(lines) - lines.count(None)

    def _rows(self) -> int:
        return 0 if self.listed is None else len(self.listed)

    def line(self, index: int) -> tuple[list[str], list, dict]:
        """The texts of line ``index`` of the listed dataset, its sort keys and its facts."""
        dataset = self.listed
        edited = dataset.is_modified(index)
        name = dataset.names[index]
        summary = self.summaries[id(dataset)][index]
        facts = {"edited": edited, "conflicts": 0, "read": False, "unreadable": False}
        texts = [f"{EDITED_MARK} {name}" if edited else name]
        if isinstance(summary, SampleSummary):
            table = self.session.tallies(dataset)
            row = table.rows[index] if table.known[index] else summary.tally  # edits are known
            present = present_classes(summary.class_names, row)
            facts.update(conflicts=int(row[-1]), read=True, present=present)
            texts += ["×".join(map(str, summary.shape)), ", ".join(present) or "none"]
            texts.append(f"{int(row[-1]):,}")
            size = int(summary.tally[:-1].sum())  # background + class pixels, a size order
            keys = [name, size, texts[2], int(row[-1])]
        else:
            facts["unreadable"] = summary is not None
            texts += [summary or "reading…", "", ""]
            keys = [name, -1, "", -1]
        return texts, keys, facts

    def shape_of(self, index: int) -> tuple[int, ...] | None:
        """The shape of a sample of the shown dataset, once its summary has been read."""
        summary = self.summaries[id(self.session.dataset)][index]
        return summary.shape if isinstance(summary, SampleSummary) else None

    def _on_batch(self, dataset: Dataset, batch: list | str) -> None:
        if isinstance(batch, str):  # the engine could not start: read in napari instead
            show_warning(batch)
            return
        lines = self.summaries.get(id(dataset))
        if lines is None or not batch or dataset not in self.session.datasets:
            return  # closed meanwhile
        table = self.session.tallies(dataset)
        for index, line in batch:
            if lines[index] is None:  # the shown sample's own line wins
                lines[index] = line
            if isinstance(line, SampleSummary) and not table.known[index]:
                table.set(index, line.class_names, line.tally)  # a sample counted since wins
        if dataset is self.listed:
            self.view.model.changed(min(i for i, _ in batch), max(i for i, _ in batch))
            if id(dataset) not in self._fitted:  # the first summaries: fit to them
                self._fitted.add(id(dataset))
                self.view.fit_columns()
        self.on_summary(dataset)

    def stop(self) -> None:
        for worker in list(self.workers.values()):
            worker.quit()


@thread_worker
def _summarise(dataset: Dataset, engine: EngineSpec):
    """Yield batches of ``(index, summary line)``: the index's first, then the others as
    ``engine`` reads them (new summaries go into the index)."""
    index = SummaryIndex(warn=lambda message: None)
    known = index.get(dataset.refs, convert=as_summary)
    lines = list(known.items())
    for start in range(0, len(lines), INDEX_BATCH):
        yield lines[start : start + INDEX_BATCH]
    missing = [i for i in range(len(dataset)) if i not in known]
    batch, fresh, last = [], [], time.monotonic()
    with contextlib.ExitStack() as stack:
        try:
            running = stack.enter_context(opened(engine, len(missing)))
        except SegviewerError as error:
            yield f"{error}; reading the samples in napari instead"
            running = stack.enter_context(opened(EngineSpec(SYNCHRONOUS), len(missing)))
        for i, record, _ in map_samples(dataset, summary_record, running, None, missing):
            if isinstance(record, SampleFailure):
                batch.append((i, f"⚠ unreadable: {record.message}"))
            else:
                batch.append((i, as_summary(record)))
                fresh.append((dataset.refs[i], record))
            if time.monotonic() - last > BATCH_SECONDS:
                yield batch
                index.put(fresh)
                batch, fresh, last = [], [], time.monotonic()
    yield batch
    index.put(fresh)
    index.close()
