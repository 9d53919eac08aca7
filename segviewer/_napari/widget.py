"""The SegViewer dock widget: open datasets, browse samples, see class pixel counts."""

from __future__ import annotations

import napari
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
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from segviewer._napari import shortcuts
from segviewer._napari.close_guard import UnsavedGuard
from segviewer._napari.conflicts_panel import ConflictsPanel
from segviewer._napari.counts_view import fill_counts
from segviewer._napari.editing_panel import EditingPanel
from segviewer._napari.model_panel import ModelPanel
from segviewer._napari.resolve_panel import ResolvePanel
from segviewer._napari.sample_lines import EDITED_MARK, SampleLines
from segviewer._napari.save_panel import SavePanel
from segviewer._napari.session import ViewerSession
from segviewer._napari.stats_panel import StatsPanel
from segviewer._napari.tables import make_table
from segviewer._napari.train_panel import TrainPanel
from segviewer.core.data.sample import Dataset
from segviewer.core.stats.classes import SampleSummary

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
        shortcuts.install(napari_viewer, self)  # first: tooltips name the keys
        self._stale: set[tuple[Dataset, int]] = set()  # sample lines an edit changed
        # Edits update the numbers at once; the panel redraws at most ~7 times a second.
        self._redraw = QTimer(self, singleShot=True, interval=150, timeout=self._refresh_counts)
        self._build()
        self.session.dataset_added.connect(self._on_dataset_added)
        self.session.sample_changed.connect(self._on_sample_changed)
        self.session.edited.connect(self._on_edited)
        self.session.workspace.saved.connect(
            lambda dataset, saved: self._on_edited([(dataset, i) for i in saved])
        )
        self.guard = UnsavedGuard(self.session.workspace)
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
        chooser = QHBoxLayout()
        chooser.addWidget(self.dataset_combo, stretch=1)
        close = QPushButton("Close", toolTip="Close this dataset (asks if edits are unsaved)")
        close.clicked.connect(self.close_dataset)
        chooser.addWidget(close)
        layout.addLayout(chooser)
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
        self.lines = SampleLines(self.session, self._on_summary, self.show_sample)
        self.sample_list = self.lines.view
        layout.addWidget(self.sample_list, stretch=2)
        nav = QHBoxLayout()
        self.previous_button = QPushButton(
            "◀ Previous", toolTip=shortcuts.tip("Previous sample", "segviewer:previous_sample")
        )
        self.next_button = QPushButton(
            "Next ▶", toolTip=shortcuts.tip("Next sample", "segviewer:next_sample")
        )
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
        session = self.session
        self.editing, self.resolving = EditingPanel(session), ResolvePanel(session)
        self.conflicts = ConflictsPanel(session, lambda: self.resolving.priority)
        self.saving = SavePanel(session)
        self.statistics, self.model = StatsPanel(session), ModelPanel(session)
        self.training = TrainPanel(session, self.model)
        self.tabs = QTabWidget()
        for panel, title in [
            (self.editing, "Edit"),
            (self.conflicts, "Conflicts"),
            (self.resolving, "Resolve"),
            (self.saving, "Save"),
            (self.statistics, "Statistics"),
            (self.model, "Model"),
            (self.training, "Train"),
        ]:
            self.tabs.addTab(panel, title)
        self.training.samples.shape_of = self.lines.shape_of
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

    def step_region(self, offset: int) -> None:
        """Go to the next (previous) conflict region, showing the Conflicts tab."""
        if self.tabs.currentWidget() is not self.conflicts:
            self.tabs.setCurrentWidget(self.conflicts)
        self.conflicts.step(offset)

    def apply_rule(self) -> int:
        """Apply the Resolve tab's rule (one undo step)."""
        return self.resolving.apply()

    def close_dataset(self) -> bool:
        """Close the shown dataset, asking first if it has unsaved edits."""
        dataset = self.session.dataset
        if dataset is None or not self.guard.may_close([dataset]):
            return False
        self.dataset_combo.removeItem(self.session.datasets.index(dataset))
        self.lines.remove(dataset)
        self.session.close(dataset)
        return True

    def _open_files_dialog(self) -> None:
        if paths := QFileDialog.getOpenFileNames(self, "Open segviewer files")[0]:
            self.open_paths(paths)

    def _open_folder_dialog(self) -> None:
        if folder := QFileDialog.getExistingDirectory(self, "Open a dataset folder"):
            self.open_paths(folder)

    def _on_dataset_chosen(self, row: int) -> None:
        dataset = self.session.datasets[row]
        if dataset is not self.session.dataset:
            self.session.show(dataset, 0)

    # -- reacting to the session ----------------------------------------------------------------
    def _on_dataset_added(self, dataset: Dataset) -> None:
        self.dataset_combo.addItem(f"{dataset.name} ({len(dataset)} samples)")
        self.lines.add(dataset)

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
        if self.lines.listed is not dataset:
            self.lines.fill(dataset)
            self.samples_label.setText(f"<b>Samples</b> ({len(dataset)})")
        self.sample_list.select(self.session.index)
        self.position_label.setText(f"{self.session.index + 1} / {len(dataset)}")
        self._refresh_counts()

    def _refresh_counts(self) -> None:
        """Show the numbers the session keeps exact: the counts table, the touched samples'
        lines and the visible tab."""
        sample, dataset, index = self.session.sample, self.session.dataset, self.session.index
        if sample is None:
            return
        self._refresh_tab()
        self.lines.set_shown(
            dataset,
            index,
            SampleSummary(
                sample.spatial_shape, tuple(sample.class_names), self.session.shown_tally()
            ),
        )
        stale, self._stale = {(dataset, index), *self._stale}, set()
        for owner, edited in stale:
            self.lines.update(edited, owner)
        dtype = sample.image.dtype
        self.sample_label.setText(
            f"<b>{sample.name}</b>: image {'×'.join(map(str, sample.image.shape))} {dtype}"
            f"{' RGB' if sample.rgb else ''}, {len(sample.class_names)} classes"
        )
        fill_counts(self.counts_table, sample, self.session.shown_tally())

    def _on_tab_changed(self, index: int) -> None:
        """Size the tabs to the visible page (not the tallest), so no page floats in space."""
        for page in range(self.tabs.count()):
            policy = QSizePolicy.Preferred if page == index else QSizePolicy.Ignored
            self.tabs.widget(page).setSizePolicy(policy, policy)
        self.tabs.adjustSize()
        if self.tabs.widget(index) in (self.model, self.training):
            self.model.load_libraries()
        self._refresh_tab()

    def _on_summary(self, dataset: Dataset) -> None:
        if dataset is self.session.dataset and self.tabs.currentWidget() is self.statistics:
            self._schedule_redraw()

    def _refresh_tab(self) -> None:
        """Refresh the visible tab only: regions and rule previews cost a pass over the image."""
        self.editing.refresh()
        current = self.tabs.currentWidget()
        if current in (self.conflicts, self.resolving, self.statistics, self.model, self.training):
            current.refresh()

    def showEvent(self, event) -> None:
        """Once docked, guard napari's window against closing with unsaved edits."""
        self.guard.watch(self)
        super().showEvent(event)

    def closeEvent(self, event) -> None:
        self.model.cancel()
        self.training.cancel()
        self.lines.stop()
        super().closeEvent(event)

    @property
    def _workers(self) -> dict:
        return self.lines.workers
