"""The Samples table's lines: one per sample, summarised off the GUI thread, ● if unsaved."""

from __future__ import annotations

from collections.abc import Callable

from napari.qt.threading import thread_worker
from qtpy.QtWidgets import QTableWidget

from segviewer._napari.session import ViewerSession
from segviewer._napari.tables import set_cell
from segviewer.core.data.sample import Dataset
from segviewer.core.errors import SegviewerError
from segviewer.core.stats.classes import SampleSummary, present_classes, sample_summary

EDITED_MARK = "●"


class SampleLines:
    """Fills ``table`` with the listed dataset's lines and keeps them current."""

    def __init__(self, session: ViewerSession, table: QTableWidget, on_summary: Callable):
        self.session, self.table, self.on_summary = session, table, on_summary
        # per dataset, each sample's summary as read (or why it could not be read)
        self.summaries: dict[int, list[SampleSummary | str | None]] = {}
        self.workers: dict[int, object] = {}  # one summary worker per dataset still reading
        self.listed: Dataset | None = None  # the dataset the table shows

    def add(self, dataset: Dataset) -> None:
        """Start reading every sample's summary line in a worker."""
        self.summaries[id(dataset)] = [None] * len(dataset)
        worker = _summarise(dataset)
        key = id(dataset)
        worker.yielded.connect(lambda result: self._on_summary(dataset, *result))
        worker.finished.connect(lambda: self.workers.pop(key, None))
        self.workers[key] = worker
        worker.start()

    def remove(self, dataset: Dataset) -> None:
        self.summaries.pop(id(dataset), None)
        if self.listed is dataset:
            self.listed = None
            self.table.setRowCount(0)

    def fill(self, dataset: Dataset) -> None:
        self.listed = dataset
        self.table.setRowCount(len(dataset))
        for index in range(len(dataset)):
            self.update(index)

    def set_shown(self, dataset: Dataset, index: int, summary: SampleSummary) -> None:
        self.summaries[id(dataset)][index] = summary

    def update(self, index: int, owner: Dataset | None = None) -> None:
        """Redraw line ``index`` (if ``owner``, the dataset it belongs to, is listed)."""
        dataset = self.listed
        if dataset is None or (owner is not None and owner is not dataset):
            return
        mark = f"{EDITED_MARK} " if dataset.is_modified(index) else ""
        summary = self.summaries[id(dataset)][index]
        table = self.session.tallies(dataset)
        if isinstance(summary, SampleSummary):
            row = table.rows[index] if table.known[index] else summary.tally  # edits are known
            cells = [
                "×".join(map(str, summary.shape)),
                ", ".join(present_classes(summary.class_names, row)) or "none",
                f"{row[-1]:,}",
            ]
        else:
            cells = [summary or "reading…", "", ""]
        for column, text in enumerate([mark + dataset.names[index], *cells]):
            set_cell(self.table, index, column, text, numeric=column == 3)
        self.table.resizeColumnToContents(0)

    def shape_of(self, index: int) -> tuple[int, ...] | None:
        """The shape of a sample of the shown dataset, once its summary has been read."""
        summary = self.summaries[id(self.session.dataset)][index]
        return summary.shape if isinstance(summary, SampleSummary) else None

    def _on_summary(self, dataset: Dataset, index: int, line: SampleSummary | str) -> None:
        if id(dataset) not in self.summaries:
            return  # closed meanwhile
        table = self.session.tallies(dataset)
        if self.summaries[id(dataset)][index] is None:  # the shown sample's own line wins
            self.summaries[id(dataset)][index] = line
        if isinstance(line, SampleSummary) and not table.known[index]:
            table.set(index, line.class_names, line.tally)  # a sample counted since wins
        self.update(index, dataset)
        self.on_summary(dataset)

    def stop(self) -> None:
        for worker in list(self.workers.values()):
            worker.quit()


@thread_worker
def _summarise(dataset: Dataset):
    """Yield ``(index, summary line)`` for every sample, reading each from its source."""
    for index, ref in enumerate(dataset.refs):
        try:
            line = sample_summary(ref.load())
        except SegviewerError as error:
            line = f"⚠ unreadable: {error}"
        yield index, line
