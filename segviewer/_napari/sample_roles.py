"""The Train tab's samples: which train, which validate, which are left out."""

from __future__ import annotations

from collections.abc import Callable

from qtpy.QtWidgets import QLabel, QPushButton, QTableWidget, QVBoxLayout, QWidget
from superqt import QFlowLayout

from segviewer._napari.tables import make_table, set_cell
from segviewer.core.data.sample import Dataset
from segviewer.core.model.finetune import FinetuneSettings, default_split

ROLES = {"train": "#8fd18f", "validate": "#8fb8ff", "skip": "#909090"}
ROLE_BUTTONS = {"train": "Use to train", "validate": "Use to validate", "skip": "Leave out"}


class SampleRoles(QWidget):
    """A table of the dataset's samples with their role, and buttons that set it."""

    def __init__(self):
        super().__init__()
        self.roles: list[str] = []  # per sample of the dataset
        self.dataset: Dataset | None = None
        self.shape_of: Callable[[int], tuple[int, ...] | None] = lambda index: None
        self.training_dims: Callable[[], int] = lambda: 2
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(
            QLabel("<b>Samples</b>: select rows, then give them a role", wordWrap=True)
        )
        self.table = make_table(["Sample", "Role"])
        self.table.setSelectionBehavior(QTableWidget.SelectRows)
        self.table.setMinimumHeight(120)
        layout.addWidget(self.table)
        buttons = QFlowLayout()
        for role, text in ROLE_BUTTONS.items():
            button = QPushButton(text, toolTip=f"The selected samples: {role}")
            button.clicked.connect(lambda _=False, r=role: self.set_role(self.selected(), r))
            buttons.addWidget(button)
        default = QPushButton(
            "Default split",
            toolTip="A seeded 75/25 split of the samples of the dimensions trained (2D or 3D)",
        )
        default.clicked.connect(self.default_split)
        buttons.addWidget(default)
        layout.addLayout(buttons)

    def show_dataset(self, dataset: Dataset | None) -> None:
        """Roles for ``dataset``: the default split when it is new here."""
        if dataset is not None and dataset is not self.dataset:
            self.dataset = dataset
            self.default_split()

    def default_split(self) -> None:
        """A seeded split of the samples of the dimensions trained; the others validate."""
        if self.dataset is None:
            return
        count = len(self.dataset)
        wanted = self.training_dims()
        dims = [len(self.shape_of(i) or (0,) * wanted) for i in range(count)]  # unknown: wanted
        self.roles = ["skip"] * count
        settings = FinetuneSettings
        train, validation = default_split(dims, settings.validation_fraction, settings.seed, wanted)
        for role, indices in (("train", train), ("validate", validation)):
            for index in indices:
                self.roles[index] = role
        self._fill()

    def set_role(self, indices, role: str) -> None:
        for index in indices:
            self.roles[index] = role
        self._fill()

    def indices(self, role: str) -> list[int]:
        return [i for i, r in enumerate(self.roles) if r == role]

    def selected(self) -> list[int]:
        return sorted({index.row() for index in self.table.selectedIndexes()})

    def _fill(self) -> None:
        names = self.dataset.names
        self.table.setRowCount(len(names))
        for row, (name, role) in enumerate(zip(names, self.roles, strict=True)):
            set_cell(self.table, row, 0, name)
            set_cell(self.table, row, 1, role, color=ROLES[role])
        counts = {role: self.roles.count(role) for role in ROLES}
        self.table.setToolTip(", ".join(f"{n} {role}" for role, n in counts.items()))
