"""The panel's Editing section: painting policy, background edits, undo/redo, conflict legend."""

from __future__ import annotations

import numpy as np
from qtpy.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
)

from segviewer._napari.session import ViewerSession
from segviewer.core.colors import conflict_color
from segviewer.core.derived import classes_of, possible_conflicts
from segviewer.core.editing import AREAS

AREA_LABELS = {
    "everywhere": "Everywhere",
    "background": "Only background pixels",
    "conflicts": "Only conflict pixels",
}
HELP = (
    "Paint on <b>background</b> to make pixels background (they leave every class); erase "
    "it to give its pixels to the class chosen above. <b>conflicts</b> shows pixels in two "
    "or more classes, one colour per combination. Ctrl+Z / Ctrl+Shift+Z undo and redo "
    "every layer an edit changed, together."
)


class EditingPanel(QGroupBox):
    def __init__(self, session: ViewerSession):
        super().__init__("Editing")
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
        layout.addLayout(form)
        buttons = QHBoxLayout()
        self.undo_button = QPushButton("↶ Undo")
        self.redo_button = QPushButton("↷ Redo")
        self.undo_button.clicked.connect(session.edits.undo)
        self.redo_button.clicked.connect(session.edits.redo)
        buttons.addWidget(self.undo_button)
        buttons.addWidget(self.redo_button)
        layout.addLayout(buttons)
        self.legend = QLabel(wordWrap=True)
        layout.addWidget(self.legend)
        layout.addWidget(QLabel(HELP, wordWrap=True, styleSheet="color: gray"))

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
        """Follow the shown sample: its classes and its conflict combinations."""
        sample = self.session.sample
        names = sample.class_names if sample is not None else []
        if [self.fill_combo.itemText(i) for i in range(self.fill_combo.count())] != names:
            self.fill_combo.clear()
            self.fill_combo.addItems(names)
        self._update_buttons()
        self._update_legend()

    def _update_buttons(self) -> None:
        has_data = self.session.dataset is not None
        history = self.session.edits.history() if has_data else None
        self.undo_button.setEnabled(bool(history and history.can_undo))
        self.redo_button.setEnabled(bool(history and history.can_redo))
        self.undo_button.setToolTip(
            f"Undo {history.next_undo}" if history and history.can_undo else "Nothing to undo"
        )

    def _update_legend(self) -> None:
        derived = self.session.derived
        sample = self.session.sample
        if derived is None or sample is None:
            self.legend.setText("")
            return
        values, counts = np.unique(derived.conflicts[derived.conflicts > 0], return_counts=True)
        found = dict(zip(values.tolist(), counts.tolist(), strict=True))
        rows = []
        for position, code in enumerate(possible_conflicts(len(sample.class_names))):
            names = " + ".join(sample.class_names[c] for c in classes_of(code))
            rows.append(
                f"<span style='color:{conflict_color(position)}'>■</span> {names}: "
                f"{found.get(code, 0):,} px"
            )
        self.legend.setText("<b>Conflicts</b><br>" + "<br>".join(rows[:12]))
