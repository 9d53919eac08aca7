"""The SegViewer dock widget: open datasets, browse samples, see class pixel counts."""

from __future__ import annotations

import napari
import numpy as np
from napari.qt.threading import thread_worker
from qtpy.QtCore import Qt, QTimer
from qtpy.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QTableWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from segviewer._napari.conflicts_panel import ConflictsPanel
from segviewer._napari.editing_panel import EditingPanel
from segviewer._napari.model_panel import ModelPanel
from segviewer._napari.resolve_panel import ResolvePanel
from segviewer._napari.save_panel import SavePanel
from segviewer._napari.session import ViewerSession
from segviewer._napari.stats_panel import StatsPanel
from segviewer._napari.tables import fit_height, make_table, set_cell
from segviewer._napari.train_panel import TrainPanel
from segviewer.core.colors import BACKGROUND_COLOR, CONFLICT_COLOR, IGNORE_COLOR, class_color
from segviewer.core.data.sample import Dataset
from segviewer.core.errors import SegviewerError
from segviewer.core.stats.classes import SampleSummary, present_classes, sample_summary

EDITED_MARK = "●"
HELP = (
    "<b>background</b> = pixels in no class; <b>conflicts</b> = pixels in two or more classes "
    f"(counted in each). Edits stay in memory until saved ({EDITED_MARK} = edited sample)."
)


class SegViewerWidget(QWidget):
    """Main panel: datasets, their samples (one line each), the shown sample's counts."""

    def __init__(self, napari_viewer: napari.viewer.Viewer):
        super().__init__()
        self.viewer = napari_viewer
        self.session = ViewerSession(napari_viewer)
        # per dataset, each sample's summary as read (or why it could not be read)
        self._summaries: dict[int, list[SampleSummary | str | None]] = {}
        self._workers: dict[int, object] = {}  # one summary worker per dataset still reading
        self._listed: Dataset | None = None  # the dataset the sample table shows
        self._stale: set[tuple[Dataset, int]] = set()  # sample lines an edit changed
        # Edits update the numbers at once; the panel redraws at most ~7 times a second.
        self._redraw = QTimer(self, singleShot=True, interval=150, timeout=self._refresh_counts)
        self._build()
        self.session.dataset_added.connect(self._on_dataset_added)
        self.session.sample_changed.connect(self._on_sample_changed)
        self.session.edited.connect(self._on_edited)
        for dataset in self.session.datasets:
            self._on_dataset_added(dataset)
        self._on_sample_changed()

    # -- layout ---------------------------------------------------------------------------------
    def _build(self) -> None:
        # Everything scrolls as one column, so no section is ever squeezed unreadable.
        content = QWidget()
        scroll = QScrollArea(widgetResizable=True, frameShape=QFrame.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        layout = QVBoxLayout(content)
        self.setMinimumWidth(540)
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
        self.sample_list.setMinimumHeight(150)
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
        self.statistics = StatsPanel(self.session)
        self.tabs.addTab(self.statistics, "Statistics")
        self.model = ModelPanel(self.session)
        self.tabs.addTab(self.model, "Model")
        self.resolving.probabilities_of = self.model.predictions.probabilities_of
        self.training = TrainPanel(self.session, self.model)
        self.tabs.addTab(self.training, "Train")
        self.training.samples.shape_of = self._shape_of
        self.training.show_model_tab = lambda: self.tabs.setCurrentWidget(self.model)
        layout.addWidget(self.tabs)
        self.tabs.currentChanged.connect(self._on_tab_changed)
        self._on_tab_changed(0)

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
        self._schedule_redraw()

    def _schedule_redraw(self) -> None:
        if not self._redraw.isActive():
            self._redraw.start()

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
            set_cell(self.sample_list, index, column, text, numeric=column == 3)
        self.sample_list.resizeColumnToContents(0)

    def _refresh_counts(self) -> None:
        """Show the numbers the session keeps exact: the counts table, the touched samples'
        lines and the visible tab."""
        sample, dataset, index = self.session.sample, self.session.dataset, self.session.index
        if sample is None:
            return
        self._refresh_tab()
        self._summaries[id(dataset)][index] = SampleSummary(
            sample.spatial_shape, tuple(sample.class_names), self.session.shown_tally()
        )
        stale, self._stale = {(dataset, index), *self._stale}, set()
        for owner, edited in stale:
            if self._listed is owner:
                self._update_item(edited)
        dtype = sample.image.dtype
        self.sample_label.setText(
            f"<b>{sample.name}</b>: image {'×'.join(map(str, sample.image.shape))} {dtype}"
            f"{' RGB' if sample.rgb else ''}, {len(sample.class_names)} classes"
        )
        row = self.session.shown_tally()
        names = sample.class_names
        rows = [
            (n, c, class_color(i)) for i, (n, c) in enumerate(zip(names, row[1:-1], strict=True))
        ]
        rows += [("background", row[0], BACKGROUND_COLOR), ("conflicts", row[-1], CONFLICT_COLOR)]
        ignored = 0 if sample.ignore is None else int(np.count_nonzero(sample.ignore))
        if ignored:
            rows.append(("ignore", ignored, IGNORE_COLOR))
        total = sample.masks[0].size
        self.counts_table.setRowCount(len(rows))
        for row_index, (name, pixels, color) in enumerate(rows):
            set_cell(self.counts_table, row_index, 0, f"■ {name}", color=color)
            set_cell(self.counts_table, row_index, 1, f"{pixels:,}", numeric=True)
            set_cell(self.counts_table, row_index, 2, f"{100 * pixels / total:.2f}", numeric=True)
        fit_height(self.counts_table)

    def _on_tab_changed(self, index: int) -> None:
        """Size the tabs to the visible page (not the tallest), so no page floats in space."""
        for page in range(self.tabs.count()):
            policy = QSizePolicy.Preferred if page == index else QSizePolicy.Ignored
            self.tabs.widget(page).setSizePolicy(policy, policy)
        self.tabs.adjustSize()
        if self.tabs.widget(index) in (self.model, self.training):
            self.model.load_libraries()
        self._refresh_tab()

    def _refresh_tab(self) -> None:
        """Refresh the visible tab only: regions and rule previews cost a pass over the image."""
        self.editing.refresh()
        current = self.tabs.currentWidget()
        if current in (self.conflicts, self.resolving, self.statistics, self.model, self.training):
            current.refresh()

    def _shape_of(self, index: int) -> tuple[int, ...] | None:
        """The shape of a sample of the current dataset, once its summary has been read."""
        summary = self._summaries[id(self.session.dataset)][index]
        return summary.shape if isinstance(summary, SampleSummary) else None

    # -- one-line summaries, computed off the GUI thread ------------------------------------------
    def _start_summaries(self, dataset: Dataset) -> None:
        worker = _summarise(dataset)
        key = id(dataset)
        worker.yielded.connect(lambda result: self._on_summary(dataset, *result))
        worker.finished.connect(lambda: self._workers.pop(key, None))
        self._workers[key] = worker
        worker.start()

    def _on_summary(self, dataset: Dataset, index: int, line: SampleSummary | str) -> None:
        table = self.session.tallies(dataset)
        if self._summaries[id(dataset)][index] is None:  # the shown sample's own line wins
            self._summaries[id(dataset)][index] = line
        if isinstance(line, SampleSummary) and not table.known[index]:
            table.set(index, line.class_names, line.tally)  # a sample counted since wins
        if self._listed is dataset:
            self._update_item(index)
        if dataset is self.session.dataset and self.tabs.currentWidget() is self.statistics:
            self._schedule_redraw()

    def closeEvent(self, event) -> None:
        self.model.cancel()
        self.training.cancel()
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
