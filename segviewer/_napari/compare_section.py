"""The Train tab's compare-losses section: which settings to run, and their results."""

from __future__ import annotations

from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from superqt import QFlowLayout

from segviewer._napari.tables import fit_height, make_table, set_cell
from segviewer._napari.train_chart import CompareChart
from segviewer.core.model.finetune import FinetuneResult, FinetuneSettings, best_dice, run_label
from segviewer.core.model.losses import LossSettings
from segviewer.core.model.scores import format_score

PRESETS = (  # (loss, weights, checked by default)
    ("dice", "uniform", True),
    ("dice", "inverse_frequency", True),
    ("ce", "uniform", False),
    ("ce", "inverse_frequency", False),
    ("dicece", "uniform", True),
    ("dicece", "inverse_frequency", True),
    ("focal", "uniform", False),
    ("generalized_dice", "uniform", False),
)


class CompareSection(QWidget):
    """A checkable list of loss settings, the Compare button, a results table and chart."""

    def __init__(self):
        super().__init__()
        self.results: list[FinetuneResult] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(
            QLabel(
                "<b>Compare losses</b>: the same fine-tune (start, seed, samples, steps) under "
                "each checked setting",
                wordWrap=True,
            )
        )
        self.run_list = QListWidget()
        for name, weights, checked in PRESETS:
            self.add_run(LossSettings(name), weights, checked)
        self.run_list.setMinimumHeight(self.run_list.sizeHintForRow(0) * 9)
        layout.addWidget(self.run_list)
        buttons = QFlowLayout()
        self.add_button = QPushButton(
            "Add the settings above", toolTip="The form's loss, λ, γ, background and weights"
        )
        self.compare_button = QPushButton(
            "Compare",
            toolTip="Train one short run per loss/weighting spec on the same split and chart "
            "their validation Dice",
        )
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.compare_button)
        layout.addLayout(buttons)
        self.table = make_table(["Run"])
        self.table.hide()
        layout.addWidget(self.table)
        self.chart = CompareChart()
        self.chart.hide()
        layout.addWidget(self.chart)

    def add_run(self, loss: LossSettings, weights: str, checked: bool = True) -> None:
        item = QListWidgetItem(run_label(FinetuneSettings(loss, weights)))
        item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
        item.setCheckState(Qt.Checked if checked else Qt.Unchecked)
        item.setData(Qt.UserRole, (loss, weights))
        self.run_list.addItem(item)

    def checked_runs(self) -> list[tuple[LossSettings, str]]:
        items = [self.run_list.item(i) for i in range(self.run_list.count())]
        return [item.data(Qt.UserRole) for item in items if item.checkState() == Qt.Checked]

    def show_results(self, labels: list[str], results: list[FinetuneResult], classes) -> None:
        """One row per run: its validation Dice per class (the best per class in bold)."""
        self.results = results
        table = self.table
        table.setColumnCount(2 + len(classes))
        table.setHorizontalHeaderLabels(["Run", *(f"Dice {c}" for c in classes), "Best step"])
        table.setRowCount(len(results))
        rows = [best_dice(result) for result in results]
        for row, (label, dice, result) in enumerate(zip(labels, rows, results, strict=False)):
            set_cell(table, row, 0, label + (" (stopped)" if result.stopped else ""))
            for column, value in enumerate(dice, start=1):
                best = value is not None and value == max(
                    d[column - 1] for d in rows if d[column - 1] is not None
                )
                set_cell(table, row, column, format_score(value), numeric=True, bold=best)
            set_cell(table, row, 1 + len(classes), str(result.best_step), numeric=True)
        table.show()
        fit_height(table)
        self.chart.show()
        self.chart.draw_comparison(labels[: len(rows)], rows, classes)
