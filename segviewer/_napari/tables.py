"""Small read-only tables used across the panel."""

from __future__ import annotations

from qtpy.QtCore import Qt
from qtpy.QtGui import QColor
from qtpy.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem


def make_table(headers: list[str]) -> QTableWidget:
    """A read-only table whose columns fit their contents and headers; a table wider than
    the panel scrolls sideways (no column is squeezed to fit)."""
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QTableWidget.NoEditTriggers)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeToContents)
    header.setStretchLastSection(False)
    return table


def fit_height(table: QTableWidget) -> None:
    """Show every row of a short table without a scroll bar."""
    rows = sum(table.rowHeight(r) for r in range(table.rowCount()))
    header = table.horizontalHeader()
    height = rows + header.height() + 2 * table.frameWidth()
    if header.length() > table.viewport().width():  # room for the horizontal scroll bar
        height += table.horizontalScrollBar().sizeHint().height()
    table.setFixedHeight(height)


def set_cell(
    table: QTableWidget,
    row: int,
    column: int,
    text: str,
    *,
    numeric: bool = False,
    color: str | None = None,
    bold: bool = False,
) -> None:
    item = QTableWidgetItem(text)
    if bold:
        font = item.font()
        font.setBold(True)
        item.setFont(font)
    if numeric:
        item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
    if color is not None:
        item.setForeground(QColor(color))
    table.setItem(row, column, item)
