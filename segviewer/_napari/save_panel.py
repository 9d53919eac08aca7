"""The panel's Save tab: write the dataset (or the shown sample) into a new folder."""

from __future__ import annotations

from pathlib import Path

from napari.utils.notifications import show_error, show_info
from qtpy.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from segviewer._napari.session import ViewerSession
from segviewer.core.errors import SegviewerError
from segviewer.core.io.writers import FORMATS, save_samples

FORMAT_LABELS = {
    "onehot": "one-hot, background first (exclusive)",
    "index": "index labels: 0 background, 1..C, 255 ignore",
    "masks": "one-hot as they are (conflicts kept)",
}
HELP = (
    "Files keep the input's container and names (npz, TIFF pair, NIfTI pair, or a dataset "
    "folder) and go into a <b>new</b> folder: sources are never overwritten, and a failed "
    "save leaves nothing behind. Exclusive formats need every conflict resolved first."
)


class SavePanel(QWidget):
    def __init__(self, session: ViewerSession):
        super().__init__()
        self.session = session
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.format_combo = QComboBox()
        self.format_combo.addItems([FORMAT_LABELS[f] for f in FORMATS])
        self.scope_combo = QComboBox()
        self.scope_combo.addItems(["Whole dataset", "This sample"])
        form.addRow("Format:", self.format_combo)
        form.addRow("Save:", self.scope_combo)
        layout.addLayout(form)
        self.save_button = QPushButton("Save to a new folder…")
        self.save_button.clicked.connect(self._save_dialog)
        layout.addWidget(self.save_button)
        layout.addWidget(QLabel(HELP, wordWrap=True, styleSheet="color: gray"))
        layout.addStretch(1)

    @property
    def format(self) -> str:
        return FORMATS[self.format_combo.currentIndex()]

    def _save_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Name of the new folder to save into")
        if path:
            self.save_to(path)

    def save_to(self, out: str | Path) -> bool:
        """Save in the chosen format and scope into the new folder ``out``."""
        session, dataset = self.session, self.session.dataset
        if dataset is None:
            show_error("Nothing to save: open a dataset first.")
            return False
        session.edits.flush()
        if self.scope_combo.currentIndex() == 1:
            samples = [session.sample]
        else:
            samples = (
                session.sample if i == session.index else dataset.sample(i)
                for i in range(len(dataset))
            )
        try:
            save_samples(samples, Path(out), self.format)
        except SegviewerError as error:
            show_error(str(error))
            return False
        show_info(f"Saved {dataset.name} as {FORMAT_LABELS[self.format]} to {out}")
        return True
