"""Pages with a switcher whose buttons wrap onto a second row in a narrow dock, so every
page's name stays visible (a QTabWidget would hide some behind scroll arrows)."""

from __future__ import annotations

from qtpy.QtCore import Signal
from qtpy.QtWidgets import QButtonGroup, QPushButton, QStackedWidget, QVBoxLayout, QWidget
from superqt import QFlowLayout


class Pages(QWidget):
    """A QTabWidget-like stack of pages (the same method names, Qt's camelCase)."""

    currentChanged = Signal(int)

    def __init__(self):
        super().__init__()
        self.buttons = QButtonGroup(self, exclusive=True)
        self.bar = QFlowLayout()
        self.bar.setSpacing(2)
        self.stack = QStackedWidget()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.bar)
        layout.addWidget(self.stack, stretch=1)
        self.buttons.idClicked.connect(self.setCurrentIndex)

    def addTab(self, page: QWidget, title: str, tip: str = "") -> int:
        index = self.stack.addWidget(page)
        button = QPushButton(title, checkable=True, checked=index == 0, toolTip=tip or title)
        self.buttons.addButton(button, index)
        self.bar.addWidget(button)
        return index

    def count(self) -> int:
        return self.stack.count()

    def widget(self, index: int) -> QWidget:
        return self.stack.widget(index)

    def tabText(self, index: int) -> str:
        return self.buttons.button(index).text()

    def currentIndex(self) -> int:
        return self.stack.currentIndex()

    def currentWidget(self) -> QWidget | None:
        return self.stack.currentWidget()

    def setCurrentIndex(self, index: int) -> None:
        self.buttons.button(index).setChecked(True)
        if index != self.stack.currentIndex():
            self.stack.setCurrentIndex(index)
            self.currentChanged.emit(index)

    def setCurrentWidget(self, page: QWidget) -> None:
        self.setCurrentIndex(self.stack.indexOf(page))
