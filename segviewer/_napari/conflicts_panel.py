"""The panel's Conflicts tab: conflict regions largest first; click or step to go to one."""

from __future__ import annotations

from collections.abc import Callable

from qtpy.QtWidgets import (
    QLabel,
    QLayout,
    QPushButton,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)
from superqt import QFlowLayout

from segviewer._napari import shortcuts
from segviewer._napari.background_work import run_in_thread
from segviewer._napari.session import ViewerSession
from segviewer._napari.tables import make_table, set_cell
from segviewer._napari.winners_section import WinnersSection
from segviewer.core.editing.regions import ConflictRegion, conflict_regions

MAX_ROWS = 500


class ConflictsPanel(QWidget):
    def __init__(self, session: ViewerSession, priority: Callable[[], list[str]] = list):
        super().__init__()
        self.session = session
        self.regions: list[ConflictRegion] = []
        self.current = -1
        self.computing = False  # regions being found in a thread
        self._pending_step = 0  # region steps asked for meanwhile
        layout = QVBoxLayout(self)
        self.summary = QLabel(wordWrap=True)
        self.table = make_table(["#", "Pixels", "Classes"])
        self.table.setToolTip("Click a region to centre and zoom the view on it")
        self.table.setSelectionBehavior(QTableWidget.SelectRows)
        self.table.cellClicked.connect(lambda row, _column: self.go_to(row))
        nav = QFlowLayout()
        self.previous_button = QPushButton(
            "◀ Previous region",
            toolTip=shortcuts.tip(
                "Centre the view on the previous region", "segviewer:previous_region"
            ),
        )
        self.next_button = QPushButton(
            "Next region ▶",
            toolTip=shortcuts.tip("Centre the view on the next region", "segviewer:next_region"),
        )
        self.previous_button.clicked.connect(lambda: self.step(-1))
        self.next_button.clicked.connect(lambda: self.step(1))
        nav.addWidget(self.previous_button)
        nav.addWidget(self.next_button)
        self.winners = WinnersSection(session, priority)
        for item in (self.summary, self.table, nav, self.winners):
            (layout.addLayout if isinstance(item, QLayout) else layout.addWidget)(item)

    def refresh(self) -> None:
        """Find the regions (in a thread for a large sample), then list them."""
        derived, sample = self.session.derived, self.session.sample
        self.computing = derived is not None
        if derived is None:
            self._show_regions([], [])
        else:
            run_in_thread(
                self,
                lambda: conflict_regions(derived.conflicts),
                lambda regions: self._show_regions(regions, sample.class_names),
                derived.conflicts.size,
            )
        self.winners.refresh()

    def _show_regions(self, regions: list[ConflictRegion], names: list[str]) -> None:
        self.regions, self.current, self.computing = regions, -1, False
        shown = self.regions[:MAX_ROWS]
        self.table.setRowCount(len(shown))
        for row, region in enumerate(shown):
            set_cell(self.table, row, 0, str(row + 1), numeric=True)
            set_cell(self.table, row, 1, f"{region.size:,}", numeric=True)
            set_cell(self.table, row, 2, " + ".join(names[c] for c in region.classes))
        more = f" (the {MAX_ROWS} largest listed)" if len(self.regions) > MAX_ROWS else ""
        self.summary.setText(
            f"<b>{len(self.regions):,} conflict regions</b>, largest first{more}"
            if self.regions
            else "No conflicts in this sample."
        )
        if self._pending_step:
            offset, self._pending_step = self._pending_step, 0
            self.step(offset)

    def step(self, offset: int) -> None:
        if self.computing:  # the regions are being found: step once they are
            self._pending_step += offset
        elif self.regions:
            self.go_to((self.current + offset) % len(self.regions))

    def go_to(self, row: int) -> None:
        """Centre and zoom the view on region ``row`` (and move to its slice in 3D)."""
        self.current = row
        self.table.selectRow(row)
        self.session.focus(self.regions[row].bbox, self.regions[row].centre)
