"""The panel's Resolve section: pick a rule, see what it would do, apply it (undoable)."""

from __future__ import annotations

from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from segviewer._napari import shortcuts
from segviewer._napari.background_work import run_in_thread
from segviewer._napari.session import ViewerSession
from segviewer.core.editing.rules import RULES, plan, priority_order, winner_name

RULE_HELP = {
    "priority": "the claiming class highest in the priority list wins",
    "smallest": "the claiming class with the smallest area in the sample wins",
    "largest": "the claiming class with the largest area in the sample wins",
    "nearest": "the claiming class whose own (non-conflicting) pixels are nearest wins",
    "model": "the claiming class the model (Model tab) finds most probable wins",
    "table": "the winner set for the pixel's combination in the Conflicts tab, else the order",
    "learned": "the winners and order learned from your fixes (Conflicts tab → Learn)",
    "ignore": "conflict pixels become 'ignore' (255 in index labels; training skips them)",
    "background": "conflict pixels become background",
}


class ResolvePanel(QWidget):
    def __init__(self, session: ViewerSession):
        super().__init__()
        self.session = session
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.rule_combo = QComboBox()
        self.rule_combo.addItems(RULES)
        self.scope_combo = QComboBox()
        self.scope_combo.addItems(["This sample", "Whole dataset"])
        self.priority_list = QListWidget(toolTip="Drag to reorder; first wins ties")
        self.priority_list.setDragDropMode(QAbstractItemView.InternalMove)
        self.priority_list.setMaximumHeight(70)
        form.addRow("Rule:", self.rule_combo)
        form.addRow("Priority (drag):", self.priority_list)
        form.addRow("Apply to:", self.scope_combo)
        self.per_region_box = QCheckBox("Whole regions")
        self.per_region_box.setToolTip(
            "Give each connected conflict region (of one combination of classes) whole to the "
            "class that the rule gives most of its pixels, never ragged pieces"
        )
        form.addRow("", self.per_region_box)
        layout.addLayout(form)
        self.rule_help = QLabel(wordWrap=True, styleSheet="color: gray")
        self.preview = QLabel(wordWrap=True)
        self.apply_button = QPushButton(
            "Apply rule",
            toolTip=shortcuts.tip(
                "Resolve the conflicts of the sample (or dataset) by this rule, as one undo step",
                "segviewer:apply_rule",
            ),
        )
        self.undo_button = QPushButton("↶ Undo", toolTip="Undo the last edit or rule (Ctrl+Z)")
        self.undo_button.clicked.connect(session.edits.undo)
        buttons = QHBoxLayout()
        buttons.addWidget(self.apply_button, stretch=1)
        buttons.addWidget(self.undo_button)
        for widget in (self.rule_help, self.preview):
            layout.addWidget(widget)
        layout.addLayout(buttons)
        layout.addStretch(1)
        self.rule_combo.currentIndexChanged.connect(self.refresh)
        self.priority_list.model().rowsMoved.connect(self.refresh)
        self.per_region_box.toggled.connect(self.refresh)
        self.apply_button.clicked.connect(self.apply)

    @property
    def rule(self) -> str:
        return self.rule_combo.currentText()

    @property
    def priority(self) -> list[str]:
        return [self.priority_list.item(i).text() for i in range(self.priority_list.count())]

    def refresh(self) -> None:
        """Follow the shown sample's classes; preview what the rule would do to it."""
        sample = self.session.sample
        self.rule_help.setText(RULE_HELP[self.rule] + "; ties go to the priority order.")
        if sample is None:
            self.preview.setText("")
            return
        if sorted(self.priority) != sorted(sample.class_names):
            self.priority_list.clear()
            self.priority_list.addItems(sample.class_names)
            for i in range(self.priority_list.count()):
                self.priority_list.item(i).setFlags(
                    self.priority_list.item(i).flags() | Qt.ItemIsDragEnabled
                )
        probabilities = self.session.workspace.probabilities_of(
            self.session.dataset, self.session.index
        )
        if self.rule == "model" and probabilities is None:
            self.preview.setText("Run a model on this sample first (Model tab).")
            return
        precedence = self.session.workspace.precedence()
        if self.rule in ("table", "learned") and precedence is None:
            self.preview.setText("Set winners or learn from your fixes first (Conflicts tab).")
            return
        arguments = (
            sample.masks,
            self.rule,
            priority_order(sample.class_names, self.priority),
            probabilities,
            precedence,
            self.per_region_box.isChecked(),
            sample.class_names,
        )
        self.preview.setText("Working out what the rule would do…")
        run_in_thread(
            self,
            lambda: plan(*arguments),
            lambda resolution: self._show_preview(resolution, sample.class_names),
            sample.masks[0].size,
        )

    def _show_preview(self, resolution, names: list[str]) -> None:
        if resolution.n_conflicts == 0:
            self.preview.setText("This sample has no conflicts.")
            return
        gains = ", ".join(
            f"{winner_name(c, names)} +{n:,}"
            for c, n in sorted(resolution.gains.items(), key=lambda kv: -kv[1])
        )
        self.preview.setText(f"This sample: {resolution.n_conflicts:,} conflict px → {gains}")

    def apply(self) -> int:
        whole = self.scope_combo.currentIndex() == 1
        per_region = self.per_region_box.isChecked()
        return self.session.edits.apply_rule(self.rule, self.priority, whole, per_region)
