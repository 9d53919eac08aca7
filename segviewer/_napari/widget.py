"""The SegViewer dock widget: open datasets, browse samples, see class pixel counts."""

from __future__ import annotations

import napari
from napari.qt.threading import thread_worker
from qtpy.QtCore import Qt, QTimer
from qtpy.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from segviewer._napari.conflicts_panel import ConflictsPanel
from segviewer._napari.editing_panel import EditingPanel
from segviewer._napari.resolve_panel import ResolvePanel
from segviewer._napari.save_panel import SavePanel
from segviewer._napari.session import ViewerSession
from segviewer._napari.tables import fit_height, make_table, set_cell
from segviewer.core.colors import BACKGROUND_COLOR, CONFLICT_COLOR, IGNORE_COLOR, class_color
from segviewer.core.counts import SampleSummary, count_pixels, sample_summary
from segviewer.core.errors import SegviewerError
from segviewer.core.sample import Dataset

EDITED_MARK = "●"
HELP = (
    "Paint on a class layer to edit that class's mask. Edits stay in memory when you switch "
    f"samples ({EDITED_MARK} marks an edited sample). <b>background</b> = pixels in no class; "
    "<b>conflicts</b> = pixels in two or more classes (a pixel in two classes counts in both)."
)


class SegViewerWidget(QWidget):
    """Main panel: datasets, their samples (one line each), the shown sample's counts."""

    def __init__(self, napari_viewer: napari.viewer.Viewer):
        super().__init__()
        self.viewer = napari_viewer
        self.session = ViewerSession(napari_viewer)
        self._summaries: dict[int, list[SampleSummary | str | None]] = {}
        self._workers: dict[int, object] = {}  # one summary worker per dataset still reading
        self._listed: Dataset | None = None  # the dataset the sample table shows
        self._stale: set[tuple[Dataset, int]] = set()  # samples a rule or undo changed
        self._recount = QTimer(self, singleShot=True, interval=200, timeout=self._refresh_counts)
        self._build()
        self.session.dataset_added.connect(self._on_dataset_added)
        self.session.sample_changed.connect(self._on_sample_changed)
        self.session.edited.connect(self._on_edited)
        for dataset in self.session.datasets:
            self._on_dataset_added(dataset)
        self._on_sample_changed()

    # -- layout ---------------------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        self.setMinimumWidth(460)
        self.dataset_combo = QComboBox(toolTip="Datasets open in this viewer")
        self.dataset_combo.activated.connect(self._on_dataset_chosen)
        layout.addWidget(QLabel("<b>Dataset</b>"))
        layout.addWidget(self.dataset_combo)
        buttons = QHBoxLayout()
        for text, tip, slot in [
            ("Open files…", "Open .npz files, TIFF or NIfTI pairs", self._open_files_dialog),
            (
                "Open folder…",
                "Open a dataset folder (images/ + masks/CLASS/)",
                self._open_folder_dialog,
            ),
            ("Sample data", "Open the synthetic sample dataset", self.open_sample_data),
        ]:
            button = QPushButton(text, toolTip=tip)
            button.clicked.connect(slot)
            buttons.addWidget(button)
        layout.addLayout(buttons)

        self.samples_label = QLabel("<b>Samples</b>")
        layout.addWidget(self.samples_label)
        self.sample_list = make_table(["Sample", "Shape", "Classes present", "Conflict px"])
        self.sample_list.setToolTip("Click a sample to show it; ● marks unsaved edits")
        self.sample_list.setSelectionBehavior(QTableWidget.SelectRows)
        self.sample_list.setSelectionMode(QTableWidget.SingleSelection)
        self.sample_list.cellClicked.connect(lambda row, _column: self.show_sample(row))
        layout.addWidget(self.sample_list, stretch=2)
        nav = QHBoxLayout()
        self.previous_button = QPushButton("◀ Previous", toolTip="Previous sample")
        self.next_button = QPushButton("Next ▶", toolTip="Next sample")
        self.position_label = QLabel("–", alignment=Qt.AlignCenter)
        self.previous_button.clicked.connect(lambda: self.session.step(-1))
        self.next_button.clicked.connect(lambda: self.session.step(1))
        for widget in (self.previous_button, self.position_label, self.next_button):
            nav.addWidget(widget)
        layout.addLayout(nav)

        self.sample_label = QLabel("No sample open", wordWrap=True)
        layout.addWidget(self.sample_label)
        self.counts_table = make_table(["Class", "Pixels", "% of pixels"])
        self.counts_table.setToolTip("Pixel counts of the shown sample; they follow your edits")
        layout.addWidget(self.counts_table)
        layout.addWidget(QLabel(HELP, wordWrap=True, styleSheet="color: gray"))
        self.editing = EditingPanel(self.session)
        self.resolving = ResolvePanel(self.session)
        self.conflicts = ConflictsPanel(self.session)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.editing, "Edit")
        self.tabs.addTab(self.conflicts, "Conflicts")
        self.tabs.addTab(self.resolving, "Resolve")
        self.saving = SavePanel(self.session)
        self.tabs.addTab(self.saving, "Save")
        layout.addWidget(self.tabs)
        self.tabs.currentChanged.connect(lambda _index: self._refresh_tab())

    # -- actions --------------------------------------------------------------------------------
    def open_paths(self, paths) -> bool:
        return self.session.open(paths)

    def open_sample_data(self) -> None:
        """The same as File > Open Sample > segviewer (through the manifest)."""
        self.viewer.open_sample("segviewer", "cells")

    def show_sample(self, index: int) -> bool:
        return self.session.dataset is not None and self.session.show(self.session.dataset, index)

    def _open_files_dialog(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Open segviewer files")
        if paths:
            self.open_paths(paths)

    def _open_folder_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a dataset folder")
        if folder:
            self.open_paths(folder)

    def _on_dataset_chosen(self, row: int) -> None:
        dataset = self.session.datasets[row]
        if dataset is not self.session.dataset:
            self.session.show(dataset, 0)

    # -- reacting to the session ----------------------------------------------------------------
    def _on_dataset_added(self, dataset: Dataset) -> None:
        self.dataset_combo.addItem(f"{dataset.name} ({len(dataset)} samples)")
        self._summaries[id(dataset)] = [None] * len(dataset)
        self._start_summaries(dataset)

    def _on_edited(self, touched: list) -> None:
        self._stale.update(touched)
        self._recount.start()  # at most 5 recounts a second while painting

    def _on_sample_changed(self) -> None:
        dataset = self.session.dataset
        if dataset is None:
            return
        self.dataset_combo.setCurrentIndex(self.session.datasets.index(dataset))
        if self._listed is not dataset:
            self._fill_sample_list(dataset)
        self.sample_list.selectRow(self.session.index)
        self.position_label.setText(f"{self.session.index + 1} / {len(dataset)}")
        self._refresh_counts()

    def _fill_sample_list(self, dataset: Dataset) -> None:
        self._listed = dataset
        self.sample_list.setRowCount(len(dataset))
        self.samples_label.setText(f"<b>Samples</b> ({len(dataset)})")
        for index in range(len(dataset)):
            self._update_item(index)

    def _update_item(self, index: int) -> None:
        dataset = self._listed
        mark = f"{EDITED_MARK} " if dataset.is_modified(index) else ""
        summary = self._summaries[id(dataset)][index]
        if isinstance(summary, SampleSummary):
            cells = [
                "×".join(map(str, summary.shape)),
                ", ".join(summary.present) or "none",
                f"{summary.conflicts:,}",
            ]
        else:
            cells = [summary or "reading…", "", ""]
        for column, text in enumerate([mark + dataset.names[index], *cells]):
            set_cell(self.sample_list, index, column, text, numeric=column == 3)
        self.sample_list.resizeColumnToContents(0)

    def _refresh_counts(self) -> None:
        sample, dataset, index = self.session.sample, self.session.dataset, self.session.index
        if sample is None:
            return
        counts = count_pixels(sample.masks, sample.ignore)
        self._refresh_tab()
        stale, self._stale = {(dataset, index), *self._stale}, set()
        for owner, edited in stale:  # only the samples an edit touched are counted again
            self._summaries[id(owner)][edited] = sample_summary(
                sample if (owner, edited) == (dataset, index) else owner.sample(edited)
            )
            if self._listed is owner:
                self._update_item(edited)
        dtype = sample.image.dtype
        self.sample_label.setText(
            f"<b>{sample.name}</b>: image {'×'.join(map(str, sample.image.shape))} {dtype}"
            f"{' RGB' if sample.rgb else ''}, {len(sample.class_names)} classes"
        )
        rows = [
            (n, c, class_color(i))
            for i, (n, c) in enumerate(zip(sample.class_names, counts.classes, strict=True))
        ]
        rows += [
            ("background", counts.background, BACKGROUND_COLOR),
            ("conflicts", counts.conflicts, CONFLICT_COLOR),
        ]
        if counts.ignore:
            rows.append(("ignore", counts.ignore, IGNORE_COLOR))
        self.counts_table.setRowCount(len(rows))
        for row, (name, pixels, color) in enumerate(rows):
            set_cell(self.counts_table, row, 0, f"■ {name}", color=color)
            set_cell(self.counts_table, row, 1, f"{pixels:,}", numeric=True)
            set_cell(self.counts_table, row, 2, f"{100 * pixels / counts.total:.2f}", numeric=True)
        fit_height(self.counts_table)

    def _refresh_tab(self) -> None:
        """Refresh the visible tab only: regions and rule previews cost a pass over the image."""
        self.editing.refresh()
        current = self.tabs.currentWidget()
        if current in (self.conflicts, self.resolving):
            current.refresh()

    # -- one-line summaries, computed off the GUI thread ------------------------------------------
    def _start_summaries(self, dataset: Dataset) -> None:
        worker = _summarise(dataset)
        key = id(dataset)
        worker.yielded.connect(lambda result: self._on_summary(dataset, *result))
        worker.finished.connect(lambda: self._workers.pop(key, None))
        self._workers[key] = worker
        worker.start()

    def _on_summary(self, dataset: Dataset, index: int, line: SampleSummary | str) -> None:
        lines = self._summaries[id(dataset)]
        if lines[index] is None:  # the shown sample's own (possibly edited) line wins
            lines[index] = line
        if self._listed is dataset:
            self._update_item(index)

    def closeEvent(self, event) -> None:
        for worker in list(self._workers.values()):
            worker.quit()
        super().closeEvent(event)


@thread_worker
def _summarise(dataset: Dataset):
    """Yield ``(index, summary line)`` for every sample, reading each from its source."""
    for index, ref in enumerate(dataset.refs):
        try:
            line = sample_summary(ref.load())
        except SegviewerError as error:
            line = f"⚠ unreadable: {error}"
        yield index, line
