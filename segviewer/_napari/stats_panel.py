"""The panel's Statistics tab: class counts, fractions and weights, live while painting."""

from __future__ import annotations

from pathlib import Path

from napari.utils.notifications import show_error, show_info
from qtpy.QtGui import QColor
from qtpy.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from superqt import QFlowLayout

from segviewer._napari.session import ViewerSession
from segviewer._napari.stats_chart import StatsChart
from segviewer._napari.tables import fit_height, make_table, set_cell
from segviewer.core.colors import BACKGROUND_COLOR, class_color
from segviewer.core.errors import SegviewerError
from segviewer.core.io.atomic import write_text
from segviewer.core.jobs import EngineSpec
from segviewer.core.stats.classes import ClassStats
from segviewer.core.stats.export import loss_snippet, stats_json
from segviewer.core.stats.weights import SCHEMES, check_beta

SCOPES = ("whole dataset", "this sample")
HELP = (
    "Classes in loss order, <b>background</b> (pixels in no class) first. A pixel in two "
    "classes counts in both. <b>In samples</b>: how many samples contain the class. A "
    "weighted <i>sampler</i> (drawing samples with a rare class more often) only helps when "
    "a class is missing from many samples; a class present in every sample needs loss "
    "weights. Weights are normalized to mean 1 over present classes unless unticked; "
    "definitions in the README."
)


class StatsPanel(QWidget):
    """Shows :class:`ClassStats` of the shown sample or the whole dataset."""

    def __init__(self, session: ViewerSession):
        super().__init__()
        self.session = session
        self.stats: ClassStats | None = None
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.scope_combo = QComboBox()
        self.scope_combo.addItems(SCOPES)
        self.scheme_combo = QComboBox(toolTip="The scheme drawn in the chart and exported")
        self.scheme_combo.addItems(SCHEMES)
        self.scheme_combo.setCurrentText("median_frequency")
        self.normalize_box = QCheckBox(
            "normalized (mean 1)",
            checked=True,
            toolTip="Scale the weights so that they average 1 over the classes present",
        )
        self.beta_edit = QLineEdit(placeholderText="1 − 1/N (default)")
        self.beta_edit.setToolTip("β of the effective-number scheme, in [0, 1)")
        form.addRow("Scope:", self.scope_combo)
        form.addRow("Weights:", self.scheme_combo)
        form.addRow("", self.normalize_box)
        form.addRow("β:", self.beta_edit)
        self.jobs_edit = QLineEdit(placeholderText="local (one worker per core)")
        self.jobs_edit.setToolTip(
            "Where whole-dataset jobs run (reading and counting for datasets opened next, "
            "saving, exports, predicting): empty for a local Dask cluster (small datasets "
            "in napari), a scheduler address "
            "(tcp://host:8786) for a cluster that sees the same files, or 'synchronous'"
        )
        self.jobs_edit.editingFinished.connect(self._set_engine)
        form.addRow("Dataset jobs:", self.jobs_edit)
        layout.addLayout(form)
        self.summary = QLabel(wordWrap=True)
        layout.addWidget(self.summary)
        self.table = make_table(["Class", "Pixels", "Fraction", "In samples"])
        self.table.setToolTip("Pixels of each class; in samples = samples that contain it")
        layout.addWidget(self.table)
        self.weights_table = make_table(["Weights"])
        self.weights_table.setToolTip("One row per scheme: the weight vector, in class order")
        layout.addWidget(self.weights_table)
        self.chart = StatsChart()
        layout.addWidget(self.chart)
        buttons = QFlowLayout()
        for text, tip, slot in [
            ("Copy JSON", "The JSON of `segviewer stats --json`", self.copy_json),
            ("Copy loss code", "PyTorch / MONAI losses with these weights", self.copy_snippet),
            ("Save…", "Save the JSON (.json) or the loss code (.py)", self._save_dialog),
        ]:
            button = QPushButton(text, toolTip=tip)
            button.clicked.connect(slot)
            buttons.addWidget(button)
        layout.addLayout(buttons)
        layout.addWidget(QLabel(HELP, wordWrap=True, styleSheet="color: gray"))
        layout.addStretch(1)
        for combo in (self.scope_combo, self.scheme_combo):
            combo.currentIndexChanged.connect(lambda _index: self.refresh())
        self.normalize_box.toggled.connect(lambda _checked: self.refresh())
        self.beta_edit.editingFinished.connect(self.refresh)

    # -- numbers ------------------------------------------------------------------------------
    @property
    def scheme(self) -> str:
        return self.scheme_combo.currentText()

    @property
    def whole_dataset(self) -> bool:
        return self.scope_combo.currentIndex() == 0

    def _beta(self) -> float | None:
        text = self.beta_edit.text().strip().replace(",", ".")
        return check_beta(float(text)) if text else None

    def compute(self) -> ClassStats | None:
        """The statistics for the chosen scope, from the session's tallies."""
        session = self.session
        if session.dataset is None:
            return None
        table = session.tallies(session.dataset)
        try:
            beta = self._beta()
        except ValueError:  # SegviewerError included
            self.beta_edit.setStyleSheet("color: red")
            raise SegviewerError("β must be a number in [0, 1), e.g. 0.999") from None
        self.beta_edit.setStyleSheet("")
        if self.whole_dataset:
            return table.stats(None, beta)
        sample = session.sample
        return ClassStats(
            list(sample.class_names), [sample.name], session.shown_tally()[None], beta
        )

    def _set_engine(self) -> None:
        address = self.jobs_edit.text().strip() or None
        self.session.engine_spec = EngineSpec(scheduler=address)

    def refresh(self) -> None:
        try:
            self.stats = self.compute()
        except SegviewerError as error:
            self.stats = None
            self.summary.setText(f"⚠ {error}")
            self.table.setRowCount(0)
            self.weights_table.setRowCount(0)
            self.chart.draw_stats([], [], [], self.scheme)
            return
        if self.stats is None:
            return
        self._show_summary()
        self._fill_table()
        weights = self._weights()[self.scheme]
        self.chart.draw_stats(self.stats.classes, self.stats.frequencies, weights, self.scheme)

    def _weights(self) -> dict:
        stats = self.stats
        return stats.normalized_weights() if self.normalize_box.isChecked() else stats.weights()

    def _show_summary(self) -> None:
        stats, table = self.stats, self.session.tallies(self.session.dataset)
        counted = int(table.known.sum())
        scope = (
            f"{len(stats.sample_names)} samples"
            if self.whole_dataset
            else f"sample {stats.sample_names[0]}"
        )
        reading = (
            f" (counted {counted} of {len(table.known)} so far…)"
            if self.whole_dataset and not table.complete
            else ""
        )
        self.summary.setText(
            f"<b>{scope}</b>{reading}: N = {stats.total:,} counted pixels; "
            f"<b>{stats.conflicts:,}</b> conflict pixels"
        )

    def _fill_table(self) -> None:
        stats, weights = self.stats, self._weights()
        colors = [BACKGROUND_COLOR, *(class_color(i) for i in range(len(stats.classes) - 1))]
        samples = len(stats.sample_names)
        self.table.setRowCount(len(stats.classes))
        for row, name in enumerate(stats.classes):
            set_cell(self.table, row, 0, f"■ {name}", color=colors[row])
            cells = [
                f"{stats.counts[row]:,}",
                f"{100 * stats.frequencies[row]:.3g}%",
                f"{stats.present_in[row]}/{samples}",
            ]
            for column, text in enumerate(cells, start=1):
                set_cell(self.table, row, column, text, numeric=True)
        fit_height(self.table)

        table = self.weights_table
        table.setColumnCount(1 + len(stats.classes))
        table.setHorizontalHeaderLabels(["Scheme", *stats.classes])
        for column, color in enumerate(colors, start=1):
            table.horizontalHeaderItem(column).setForeground(QColor(color))
        table.setRowCount(len(SCHEMES))
        for row, scheme in enumerate(SCHEMES):
            chosen = scheme == self.scheme
            set_cell(table, row, 0, scheme, bold=chosen)
            for column, value in enumerate(weights[scheme], start=1):
                set_cell(table, row, column, f"{value:.4g}", numeric=True, bold=chosen)
        fit_height(table)

    # -- export -------------------------------------------------------------------------------
    def json_text(self) -> str:
        return stats_json(self.stats)

    def snippet_text(self) -> str:
        session = self.session
        source = f"dataset '{session.dataset.name}'"
        if not self.whole_dataset:
            source = f"sample '{session.sample.name}' of {source}"
        return loss_snippet(self.stats, self.scheme, self.normalize_box.isChecked(), source)

    def copy_json(self) -> None:
        self._copy(self.json_text, "statistics JSON")

    def copy_snippet(self) -> None:
        self._copy(self.snippet_text, "loss code")

    def _copy(self, text, what: str) -> None:
        if self.stats is None:
            show_error("No statistics to copy: open a dataset first.")
            return
        QApplication.clipboard().setText(text())
        show_info(f"Copied the {what} to the clipboard.")

    def _save_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Save statistics", "class_weights.json", "JSON (*.json);;Python (*.py)"
        )
        if path:
            self.save(path)

    def save(self, path: str | Path) -> bool:
        """Write the JSON (``.json``) or the loss code (``.py``) atomically."""
        path = Path(path)
        if self.stats is None or path.suffix not in (".json", ".py"):
            show_error(f"{path.name}: choose a .json or .py file name (and open a dataset).")
            return False
        text = self.json_text() if path.suffix == ".json" else self.snippet_text()
        try:
            write_text(path, text + "\n")
        except SegviewerError as error:
            show_error(str(error))
            return False
        show_info(f"Saved {path}")
        return True
