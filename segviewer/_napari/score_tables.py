"""The Model tab's score tables: a sample's scores and confusion, the dataset's Dice."""

from __future__ import annotations

from qtpy.QtCore import Qt
from qtpy.QtWidgets import QTableWidgetItem

from segviewer._napari.tables import fit_height, set_cell
from segviewer.core.model.scores import format_score, worst_dice

SCORES = ("dice", "iou", "precision", "recall")


class ScoreItem(QTableWidgetItem):
    """A table cell that sorts by its number ("–", no score, sorts last)."""

    def __init__(self, value: float | None):
        super().__init__(format_score(value))
        self.value = float("inf") if value is None else value
        self.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)

    def __lt__(self, other) -> bool:
        return self.value < getattr(other, "value", float("inf"))


def fill_sample_scores(table, confusion, classes, scores) -> None:
    """Per-class scores of one sample, and its confusion matrix."""
    table.setRowCount(len(classes) if scores else 0)
    for row, name in enumerate(classes if scores else []):
        set_cell(table, row, 0, name)
        for column, key in enumerate(SCORES, start=1):
            set_cell(table, row, column, format_score(getattr(scores, key)[row]), numeric=True)
    fit_height(table)
    confusion.setColumnCount(1 + len(classes))
    confusion.setHorizontalHeaderLabels(["truth \\ predicted", *classes])
    confusion.setRowCount(len(classes) if scores else 0)
    for row, name in enumerate(classes if scores else []):
        set_cell(confusion, row, 0, name)
        for column, count in enumerate(scores.confusion[row], start=1):
            set_cell(confusion, row, column, f"{count:,}", numeric=True)
    fit_height(confusion)


def fill_dataset_scores(table, dataset, classes, indices, per_sample) -> None:
    """One row per predicted sample: its worst class Dice, then each class's (sortable)."""
    table.setSortingEnabled(False)
    table.setColumnCount(2 + len(classes))
    table.setHorizontalHeaderLabels(["Sample", "Worst Dice", *(f"Dice {c}" for c in classes)])
    table.setRowCount(len(indices))
    for row, (index, scores) in enumerate(zip(indices, per_sample, strict=True)):
        item = QTableWidgetItem(dataset.names[index])
        item.setData(Qt.UserRole, index)
        table.setItem(row, 0, item)
        table.setItem(row, 1, ScoreItem(worst_dice(scores.dice)))
        for column, dice in enumerate(scores.dice, start=2):
            table.setItem(row, column, ScoreItem(dice))
    table.setSortingEnabled(True)
