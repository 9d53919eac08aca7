"""The Samples list: a Qt model/view table that stays fast with tens of thousands of samples.

Qt asks the model only for the rows on screen, so filling in 10,000 summaries costs one
``dataChanged`` per batch, not a redraw per sample. A proxy sorts (click a header) and
filters (a name search, and: with conflicts, edited, unreadable, or a class absent).
"""

from __future__ import annotations

from collections.abc import Callable

from qtpy.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt
from qtpy.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

HEADERS = ["Sample", "Shape", "Classes present", "Conflict px"]
ALL, CONFLICTS, EDITED, UNREADABLE = "All samples", "With conflicts", "Edited", "Unreadable"
ABSENT = "Without "  # + a class name
FIT_ROWS = 16  # rows measured beyond those on screen when a column is fitted


class SampleTableModel(QAbstractTableModel):
    """Rows of the listed dataset; ``line(row)`` gives ``(texts, sort keys, facts)``."""

    def __init__(self, line: Callable[[int], tuple], rows: Callable[[], int]):
        super().__init__()
        self.line, self.rows = line, rows

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else self.rows()

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008
        return len(HEADERS)

    def headerData(self, section, orientation, role=Qt.DisplayRole):
        if orientation == Qt.Horizontal and role == Qt.DisplayRole:
            return HEADERS[section]
        return None

    def data(self, index: QModelIndex, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        if role == Qt.DisplayRole:
            return self.line(index.row())[0][index.column()]
        if role == Qt.UserRole:  # what sorting compares
            return self.line(index.row())[1][index.column()]
        if role == Qt.TextAlignmentRole and index.column() == 3:
            return int(Qt.AlignRight | Qt.AlignVCenter)
        return None

    def reset(self) -> None:
        self.beginResetModel()
        self.endResetModel()

    def changed(self, first: int, last: int) -> None:
        """Rows ``first``..``last`` have new text."""
        self.dataChanged.emit(self.index(first, 0), self.index(last, len(HEADERS) - 1))


class SampleFilter(QSortFilterProxyModel):
    """Keeps the rows whose name holds the search text and whose facts match the mode."""

    def __init__(self, model: SampleTableModel):
        super().__init__()
        self.setSourceModel(model)
        self.setSortRole(Qt.UserRole)
        self.setDynamicSortFilter(True)
        self.text, self.mode = "", ALL

    def set_filter(self, text: str, mode: str) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt ≥ 6.10
            self.beginFilterChange()
            self.text, self.mode = text.lower(), mode
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            self.text, self.mode = text.lower(), mode
            self.invalidateRowsFilter()

    def filterAcceptsRow(self, row: int, parent: QModelIndex) -> bool:
        if not self.text and self.mode == ALL:
            return True  # no filter: no line to make (10,000 rows re-filter on each batch)
        texts, _, facts = self.sourceModel().line(row)
        if self.text and self.text not in texts[0].lower():
            return False
        if self.mode == CONFLICTS:
            return facts["conflicts"] > 0
        if self.mode == EDITED:
            return facts["edited"]
        if self.mode == UNREADABLE:
            return facts["unreadable"]
        if self.mode.startswith(ABSENT):
            return facts["read"] and self.mode[len(ABSENT) :] not in facts["present"]
        return True


class SampleList(QWidget):
    """Search box, filter and the table; ``clicked(row)`` reports a dataset row."""

    def __init__(self, line, rows, clicked: Callable[[int], None]):
        super().__init__()
        self.model = SampleTableModel(line, rows)
        self.proxy = SampleFilter(self.model)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        bar = QHBoxLayout()
        self.search = QLineEdit(placeholderText="Search names", clearButtonEnabled=True)
        self.mode = QComboBox(toolTip="Show only some samples")
        self.mode.addItems([ALL, CONFLICTS, EDITED, UNREADABLE])
        self.search.textChanged.connect(self._filter)
        self.mode.currentTextChanged.connect(self._filter)
        bar.addWidget(self.search, stretch=1)
        bar.addWidget(self.mode)
        layout.addLayout(bar)
        self.view = QTableView()
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(-1, Qt.AscendingOrder)  # dataset order until a header is clicked
        self.view.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.view.verticalHeader().setVisible(False)
        self.view.verticalHeader().setDefaultSectionSize(22)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.Interactive)
        header.setStretchLastSection(True)
        # fitting a column measures the rows on screen and a few more (Qt's default, 1000
        # rows, took ~0.5 s on 10,000 samples: every cell is asked of the Python model)
        header.setResizeContentsPrecision(FIT_ROWS)
        self.view.setTextElideMode(Qt.ElideMiddle)  # long names keep their start and end
        self.view.setToolTip(
            "Click a sample to show it; ● marks unsaved edits; click a header to sort"
        )
        self.view.clicked.connect(lambda index: clicked(self.proxy.mapToSource(index).row()))
        self.view.setMinimumHeight(150)
        layout.addWidget(self.view)

    def set_classes(self, class_names: list[str]) -> None:
        """Offer "Without CLASS" for each class of the listed dataset."""
        current = self.mode.currentText()
        self.mode.blockSignals(True)
        self.mode.clear()
        self.mode.addItems([ALL, CONFLICTS, EDITED, UNREADABLE, *(ABSENT + c for c in class_names)])
        self.mode.setCurrentText(current if self.mode.findText(current) >= 0 else ALL)
        self.mode.blockSignals(False)

    def fit_columns(self) -> None:
        """Columns as wide as their text in the rows on screen and FIT_ROWS more (every
        cell is asked of the Python model: tens of ms, so done when a dataset is listed,
        when its first summaries and when its last come in, not on every batch)."""
        self.view.resizeColumnsToContents()

    def fit_names(self) -> None:
        """The name column as wide as its text (a line that gains the ● edited mark)."""
        self.view.resizeColumnToContents(0)

    def _filter(self, *_) -> None:
        self.proxy.set_filter(self.search.text(), self.mode.currentText())

    def select(self, row: int) -> None:
        """Select dataset row ``row`` if it passes the filter."""
        index = self.proxy.mapFromSource(self.model.index(row, 0))
        if index.isValid():
            self.view.selectRow(index.row())
            self.view.scrollTo(index)

    # -- what tests and users read ----------------------------------------------------------
    def rowCount(self) -> int:
        """Rows shown (after the filter)."""
        return self.proxy.rowCount()

    def text(self, row: int, column: int) -> str:
        """The text at shown row ``row`` (after sorting and the filter)."""
        return self.proxy.data(self.proxy.index(row, column))

    def click(self, row: int) -> None:
        """Click shown row ``row``, as a user does."""
        self.view.clicked.emit(self.proxy.index(row, 0))
