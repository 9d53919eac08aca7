"""The SegViewer dock widget: open datasets, browse samples, see class pixel counts."""

from __future__ import annotations

import napari
from qtpy.QtCore import QEvent, QSize, Qt, QTimer
from qtpy.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)
from superqt import QFlowLayout

from segviewer._napari import shortcuts
from segviewer._napari.close_guard import UnsavedGuard
from segviewer._napari.conflicts_panel import ConflictsPanel
from segviewer._napari.counts_view import fill_counts
from segviewer._napari.editing_panel import EditingPanel
from segviewer._napari.gc_pauses import freeze_startup_objects, unfreeze_when_gone
from segviewer._napari.model_panel import ModelPanel
from segviewer._napari.pages import Pages
from segviewer._napari.resolve_panel import ResolvePanel
from segviewer._napari.sample_lines import EDITED_MARK, SampleLines
from segviewer._napari.save_panel import SavePanel
from segviewer._napari.session import ViewerSession
from segviewer._napari.stats_panel import StatsPanel
from segviewer._napari.tables import make_table
from segviewer._napari.train_panel import TrainPanel
from segviewer.core.data.sample import Dataset
from segviewer.core.stats.classes import SampleSummary

PANEL_WIDTH = 250  # at 1500 px, napari's layer docks (~340 px) and this leave the canvas ≥ 60 %
PANEL_MIN_WIDTH = 220
COMBO_CHARACTERS = 10
HELP = (
    "<b>background</b> = pixels in no class; <b>conflicts</b> = pixels in two or more classes "
    f"(counted in each). Edits stay in memory until saved ({EDITED_MARK} = edited sample)."
)


class SegViewerWidget(QWidget):
    """Main panel: datasets, their samples (one line each), the shown sample's counts."""

    def __init__(self, napari_viewer: napari.viewer.Viewer):
        freeze_startup_objects()  # first: the panel itself stays collectable (gc_pauses.py)
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
        self._gone = unfreeze_when_gone(self)

    # -- layout ---------------------------------------------------------------------------------
    def _build(self) -> None:
        # Two parts, one above the other, split by a handle the user can drag: the samples
        # (browse) and the tabs (work). Each tab page scrolls on its own, so the sample list
        # and the working tab are always visible together.
        browser = QWidget()
        layout = QVBoxLayout(browser)
        layout.setContentsMargins(4, 4, 4, 0)
        self.splitter = QSplitter(Qt.Vertical, childrenCollapsible=False)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.splitter)
        self.dataset_combo = QComboBox(toolTip="Dataset shown (of those open in this viewer)")
        self.dataset_combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.dataset_combo.activated.connect(self._on_dataset_chosen)
        chooser = QHBoxLayout()
        chooser.addWidget(self.dataset_combo, stretch=1)
        close = QPushButton("Close", toolTip="Close this dataset (asks if edits are unsaved)")
        close.clicked.connect(self.close_dataset)
        chooser.addWidget(close)
        layout.addLayout(chooser)
        buttons = QFlowLayout()
        for text, tip, slot in [
            ("Files…", "Open .npz files, TIFF, NIfTI or OME-Zarr", self._open_files_dialog),
            (
                "Folder…",
                "Open a dataset folder (images/ + masks/CLASS/, nnU-Net raw, …)",
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
        self.counts_table.setToolTip(f"Pixel counts of the shown sample: {HELP}")
        layout.addWidget(self.counts_table)
        session = self.session
        self.editing, self.resolving = EditingPanel(session), ResolvePanel(session)
        self.conflicts = ConflictsPanel(session, lambda: self.resolving.priority)
        self.saving = SavePanel(session)
        self.statistics, self.model = StatsPanel(session), ModelPanel(session)
        self.training = TrainPanel(session, self.model)
        self.tabs = Pages()
        for panel, title, tip in [
            (self.editing, "Edit", "Painting policy, undo, how background and conflicts show"),
            (self.conflicts, "Conflicts", "Conflict regions and the winner of each combination"),
            (self.resolving, "Resolve", "Resolve conflicts by a rule"),
            (self.saving, "Save", "Save exclusive labels; export for nnU-Net or MONAI"),
            (self.statistics, "Stats", "Class statistics and loss weights of the dataset"),
            (self.model, "Model", "Run a model and compare it with the ground truth"),
            (self.training, "Train", "Fine-tune a model with weighted losses"),
        ]:
            self.tabs.addTab(_scrolling(panel), title, tip)
        self.training.samples.shape_of = self.lines.shape_of
        self.training.show_model_tab = lambda: self.show_panel(self.model)
        self.splitter.addWidget(_scrolling(browser))
        self.splitter.addWidget(self.tabs)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        fit_forms(self)
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
        if self.current_panel() is not self.conflicts:
            self.show_panel(self.conflicts)
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

    def sizeHint(self) -> QSize:
        """Narrow: napari docks the panel at this width, leaving the canvas most of it."""
        return QSize(PANEL_WIDTH, 900)

    def minimumSizeHint(self) -> QSize:
        return QSize(PANEL_MIN_WIDTH, 400)

    def _page(self, panel: QWidget) -> QWidget:
        """The tab page (a scroll area) that holds ``panel``."""
        return panel.parentWidget().parentWidget()

    def current_panel(self) -> QWidget | None:
        page = self.tabs.currentWidget()
        return page.widget() if page is not None else None

    def show_panel(self, panel: QWidget) -> None:
        self.tabs.setCurrentWidget(self._page(panel))

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
            self._title_samples(dataset)
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

    def _on_tab_changed(self, _index: int) -> None:
        if self.current_panel() in (self.model, self.training):
            self.model.load_libraries()
        self._refresh_tab()

    def _title_samples(self, dataset: Dataset) -> None:
        """Title the list "Samples (N)", adding how many are read while summaries come in."""
        read, total = self.lines.read_count(dataset), len(dataset)
        progress = "" if read >= total else f"; {read:,} read…"
        self.samples_label.setText(f"<b>Samples</b> ({total:,}{progress})")

    def _on_summary(self, dataset: Dataset) -> None:
        if dataset is self.lines.listed:
            self._title_samples(dataset)
        if dataset is self.session.dataset and self.current_panel() is self.statistics:
            self._schedule_redraw()

    def _refresh_tab(self) -> None:
        """Refresh the visible tab only: regions and rule previews cost a pass over the image."""
        self.editing.refresh()
        current = self.current_panel()
        if current in (self.conflicts, self.resolving, self.statistics, self.model, self.training):
            current.refresh()

    def event(self, event) -> bool:
        """Once docked, the panel counts as gone when its dock is removed (gc_pauses.py)."""
        if event.type() == QEvent.ParentChange and self.parentWidget() is not None:
            self.parentWidget().destroyed.connect(self._gone)  # napari deletes a removed dock
        return super().event(event)

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


def _scrolling(panel: QWidget) -> QScrollArea:
    """``panel`` in a scroll area (a tab page, the browser), for when the dock is short."""
    page = QScrollArea(widgetResizable=True, frameShape=QFrame.NoFrame)
    page.setWidget(panel)
    return page


def fit_forms(widget: QWidget) -> None:
    """Fit a narrow dock: every form puts a long field under its label, and every combo box
    shrinks to a few characters (its list still shows the whole names)."""
    for form in widget.findChildren(QFormLayout):
        form.setRowWrapPolicy(QFormLayout.WrapLongRows)
    for combo in widget.findChildren(QComboBox):
        combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(COMBO_CHARACTERS)
