"""The panel's Editing section: painting policy, background edits, undo/redo, conflict legend."""

from __future__ import annotations

from qtpy.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from segviewer._napari import display_modes
from segviewer._napari.big_tile_section import BigTileSection
from segviewer._napari.session import ViewerSession
from segviewer.core.editing.strokes import AREAS

AREA_LABELS = {
    "everywhere": "Everywhere",
    "background": "Only background pixels",
    "conflicts": "Only conflict pixels",
}
HELP = (
    "Paint on a <b>class</b> layer to edit its mask, on <b>background</b> to make pixels "
    "background (they leave every class); erase background to give its pixels to the class "
    "chosen above. Ctrl+Z / Ctrl+Shift+Z undo and redo every layer an edit changed, together."
)


class EditingPanel(QWidget):
    def __init__(self, session: ViewerSession):
        super().__init__()
        self.session = session
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.overwrite_combo = QComboBox()
        self.overwrite_combo.addItems(["Allow overlap", "Overwrite other classes"])
        self.overwrite_combo.setToolTip("Overwrite: pixels painted into a class leave all others")
        self.area_combo = QComboBox()
        self.area_combo.addItems([AREA_LABELS[a] for a in AREAS])
        self.area_combo.setToolTip("Where a stroke may change pixels (judged before the stroke)")
        self.fill_combo = QComboBox(toolTip="Class that erased background pixels join")
        form.addRow("Painting a class:", self.overwrite_combo)
        form.addRow("Editable area:", self.area_combo)
        form.addRow("Erased background joins:", self.fill_combo)
        self.mode_combos: dict[str, QComboBox] = {}
        for role, tip in [
            ("background", "How pixels in no class are drawn over the image"),
            (
                "conflicts",
                "How pixels in two or more classes are drawn (one colour per combination)",
            ),
        ]:
            combo = QComboBox(toolTip=tip)
            combo.addItems(display_modes.MODES[role])
            combo.setCurrentText(session.display_modes[role])
            combo.currentTextChanged.connect(
                lambda mode, role=role: session.set_display_mode(role, mode)
            )
            self.mode_combos[role] = combo
            form.addRow(f"Show {role} as:", combo)
        layout.addLayout(form)
        buttons = QHBoxLayout()
        self.undo_button = QPushButton("↶ Undo", toolTip="Undo the last edit (Ctrl+Z)")
        self.redo_button = QPushButton("↷ Redo", toolTip="Redo (Ctrl+Shift+Z)")
        self.undo_button.clicked.connect(session.edits.undo)
        self.redo_button.clicked.connect(session.edits.redo)
        buttons.addWidget(self.undo_button)
        buttons.addWidget(self.redo_button)
        layout.addLayout(buttons)
        layout.addWidget(QLabel(HELP, wordWrap=True, styleSheet="color: gray"))
        self.big_tile = BigTileSection(session)  # first, when a big sample is shown
        layout.insertWidget(0, self.big_tile)
        layout.addStretch(1)

        self.overwrite_combo.currentIndexChanged.connect(self._update_policy)
        self.area_combo.currentIndexChanged.connect(self._update_policy)
        self.fill_combo.currentIndexChanged.connect(self._update_policy)
        session.edited.connect(self._update_buttons)  # the legend follows via refresh()
        self.refresh()

    def _update_policy(self) -> None:
        policy = self.session.edits.policy
        policy.overwrite = self.overwrite_combo.currentIndex() == 1
        policy.area = AREAS[self.area_combo.currentIndex()]
        policy.background_fill = max(0, self.fill_combo.currentIndex())

    def refresh(self) -> None:
        """Follow the shown sample's classes."""
        sample = self.session.sample
        names = sample.class_names if sample is not None else []
        if [self.fill_combo.itemText(i) for i in range(self.fill_combo.count())] != names:
            self.fill_combo.clear()
            self.fill_combo.addItems(names)
        self._update_buttons()

    def _update_buttons(self) -> None:
        has_data = self.session.dataset is not None
        history = self.session.edits.history() if has_data else None
        self.undo_button.setEnabled(bool(history and history.can_undo))
        self.redo_button.setEnabled(bool(history and history.can_redo))
        self.undo_button.setToolTip(
            f"Undo {history.next_undo}" if history and history.can_undo else "Nothing to undo"
        )
