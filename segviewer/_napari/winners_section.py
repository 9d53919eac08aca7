"""The Conflicts tab's precedence: one row per combination of classes with its colour, its
pixels and a winner the user picks; learning the winners from the user's own fixes.

The winners live in the Workspace (its precedence of the dataset), so a save writes them
as ``precedence.json`` and the CLI's ``--rule table --precedence`` reapplies them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from napari.utils.notifications import show_error, show_info
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from superqt import QFlowLayout

from segviewer._napari.session import ViewerSession
from segviewer._napari.tables import make_table, set_cell
from segviewer.core.colors import combination_color
from segviewer.core.editing.combinations import combination_sizes
from segviewer.core.editing.derived import classes_of
from segviewer.core.editing.precedence import BACKGROUND, IGNORE, Precedence
from segviewer.core.errors import SegviewerError

COLUMN = {"swatch": 0, "pixels": 1, "classes": 2, "winner": 3}  # pixels first: a narrow dock
BY_ORDER = "by order"  # no winner set: the first class of the order wins


class WinnersSection(QWidget):
    def __init__(self, session: ViewerSession, priority: Callable[[], list[str]] = list):
        super().__init__()
        self.session, self.priority = session, priority
        self.combinations: list[frozenset[str]] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("<b>Combinations and their winners</b>", wordWrap=True))
        self.table = make_table(["", "Pixels", "Classes", "Winner"])  # columns: see COLUMN
        self.table.setToolTip(
            "Each combination of overlapping classes, its colour in the conflicts layer, its "
            "pixels in this sample and the class that gets them ('by order': the first in "
            "the learned order, then the priority order of the Resolve tab)"
        )
        self.table.setMinimumHeight(120)
        layout.addWidget(self.table)
        buttons = QFlowLayout()
        self.scope_combo = QComboBox()
        self.scope_combo.addItems(["This sample", "Whole dataset"])
        self.apply_button = QPushButton("Apply winners", toolTip="One undo step")
        self.apply_button.clicked.connect(self.apply)
        buttons.addWidget(self.scope_combo)
        buttons.addWidget(self.apply_button)
        layout.addLayout(buttons)
        learning = QFlowLayout()
        self.learn_button = QPushButton(
            "Learn from my fixes",
            toolTip="Which class you gave each combination in the samples you fixed by hand "
            "(or marked as examples), and one order of the classes consistent with it",
        )
        self.learn_button.clicked.connect(self.learn)
        self.example_box = QCheckBox("This sample is an example")
        self.example_box.setToolTip("Learn from this sample's fixes even if a rule made them")
        self.example_box.toggled.connect(self._mark_example)
        learning.addWidget(self.learn_button)
        learning.addWidget(self.example_box)
        layout.addLayout(learning)
        self.learned_label = QLabel(wordWrap=True)
        layout.addWidget(self.learned_label)

    # -- showing --------------------------------------------------------------------------------
    def refresh(self) -> None:
        """One row per combination present in the shown sample, largest first, in its colour
        (all of them: this is the conflicts layer's legend), then any combination absent here
        that has a winner set."""
        sample, derived = self.session.sample, self.session.derived
        if sample is None or derived is None:
            self.table.setRowCount(0)
            return
        names = sample.class_names
        sizes = combination_sizes(derived.conflicts)
        self.session.colour_combinations(np.fromiter(sizes, derived.conflicts.dtype, len(sizes)))
        present = [frozenset(names[c] for c in classes_of(code)) for code in sizes]
        # then combinations elsewhere in the dataset that have a winner set (no colour here)
        elsewhere = [c for c in self._precedence().winners if c not in present and c <= set(names)]
        self.combinations = present + sorted(elsewhere, key=sorted)
        self.table.setRowCount(len(self.combinations))
        codes = list(sizes)
        for row, combination in enumerate(self.combinations):
            if row < len(codes):
                color = combination_color(self.session.combinations.position(codes[row]))
                set_cell(self.table, row, COLUMN["swatch"], "■", color=color)
                set_cell(self.table, row, COLUMN["pixels"], f"{sizes[codes[row]]:,}", numeric=True)
            else:
                set_cell(self.table, row, COLUMN["swatch"], "")
                set_cell(self.table, row, COLUMN["pixels"], "not here", numeric=True)
            classes = " + ".join(c for c in names if c in combination)
            set_cell(self.table, row, COLUMN["classes"], classes)
            self.table.setCellWidget(row, COLUMN["winner"], self._winner_combo(combination, names))
        self.example_box.blockSignals(True)
        self.example_box.setChecked(self.session.workspace.is_example())
        self.example_box.blockSignals(False)

    def _winner_combo(self, combination: frozenset[str], names: list[str]) -> QComboBox:
        """Choices: the order's pick (named), each class of the combination, ignore, background."""
        precedence = self._precedence()
        # the learned order, the Resolve tab's priority, then the classes' own order (the
        # priority may still list another dataset's classes)
        ranked = [n for n in (*precedence.order, *self.priority(), *names) if n in names]
        by_order = f"{BY_ORDER}: {next(n for n in ranked if n in combination)}"
        combo = QComboBox()
        combo.addItems([by_order, *(c for c in names if c in combination), IGNORE, BACKGROUND])
        combo.setCurrentText(precedence.winners.get(combination, by_order))
        combo.currentTextChanged.connect(lambda text: self._set_winner(combination, text))
        return combo

    # -- actions --------------------------------------------------------------------------------
    def _precedence(self) -> Precedence:
        workspace = self.session.workspace
        if workspace.dataset is None:
            return Precedence()
        return workspace.precedence() or Precedence()

    def _set_winner(self, combination: frozenset[str], winner: str) -> None:
        precedence = self._precedence()
        if winner.startswith(BY_ORDER):
            precedence.winners.pop(combination, None)
        else:
            precedence.winners[combination] = winner
        self.session.workspace.set_precedence(precedence)

    def _mark_example(self, on: bool) -> None:
        if self.session.workspace.dataset is not None:
            self.session.workspace.mark_example(on)

    def apply(self) -> int:
        """Resolve the sample's (or dataset's) conflicts by the winners, as one undo step."""
        workspace = self.session.workspace
        if workspace.dataset is None:
            return 0
        workspace.set_precedence(self._precedence())
        learned = workspace.learned.get(workspace.dataset)
        rule = "learned" if learned and learned.precedence is workspace.precedence() else "table"
        whole = self.scope_combo.currentIndex() == 1
        return self.session.edits.apply_rule(rule, self.priority() or None, whole)

    def learn(self) -> None:
        """Learn the winners and the order from the fixes; show how well each rule agrees."""
        workspace = self.session.workspace
        if workspace.dataset is None:
            return
        self.session.edits.flush()
        try:
            learned = workspace.learn_precedence(self.priority() or None)
            _, line = workspace.compare_rules(self.priority() or None)
        except SegviewerError as error:
            show_error(str(error))
            return
        order = " > ".join(learned.precedence.order)
        examples = len(workspace.examples())
        text = f"{line}<br>Learned order (first wins): {order} · from {examples} sample(s)"
        if learned.contradictions:
            text += (
                "<br><span style='color:#e0a030'>"
                + "<br>".join(learned.contradictions[:3])
                + "</span>"
            )
            show_info(f"{len(learned.contradictions)} contradiction(s) in your fixes")
        self.learned_label.setText(text)
        self.refresh()
