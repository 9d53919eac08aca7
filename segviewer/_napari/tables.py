"""Small read-only tables used across the panel."""

from __future__ import annotations

from qtpy.QtCore import Qt
from qtpy.QtGui import QColor
from qtpy.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem


def make_table(headers: list[str]) -> QTableWidget:
    """A read-only table whose first column stretches."""
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QTableWidget.NoEditTriggers)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeToContents)
    header.setStretchLastSection(True)
    return table


def fit_height(table: QTableWidget) -> None:
    """Show every row of a short table without a scroll bar."""
    rows = sum(table.rowHeight(r) for r in range(table.rowCount()))
    table.setFixedHeight(rows + table.horizontalHeader().height() + 2 * table.frameWidth())


def set_cell(
    table: QTableWidget,
    row: int,
    column: int,
    text: str,
    *,
    numeric: bool = False,
    color: str | None = None,
) -> None:
    item = QTableWidgetItem(text)
    if numeric:
        item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
    if color is not None:
        item.setForeground(QColor(color))
    table.setItem(row, column, item)
