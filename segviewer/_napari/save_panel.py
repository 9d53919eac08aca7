"""The panel's Save tab: write the dataset (or the shown sample) into a new folder."""

from __future__ import annotations

import threading
from pathlib import Path

from napari.qt.threading import create_worker
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
from superqt import QFlowLayout

from segviewer._napari.export_section import ExportSection
from segviewer._napari.progress import progress_bar
from segviewer._napari.session import ViewerSession
from segviewer.core.errors import SegviewerError
from segviewer.core.io.writers import FORMATS
from segviewer.core.progress import Cancelled

CANCELLED = "cancelled"
FORMAT_LABELS = {
    "onehot": "one-hot, background first (exclusive)",
    "index": "index labels: 0 background, 1..C, 255 ignore",
    "masks": "one-hot as they are (conflicts kept)",
}
CONTAINER_LABELS = {
    "same": "as opened (npz, TIFF, NIfTI, folder, OME-Zarr)",
    "ome-zarr": "OME-Zarr: NAME.zarr each, class names in the NGFF metadata",
}
HELP = (
    "Files keep the input's container and names (npz, TIFF pair, NIfTI pair, a dataset "
    "folder or OME-Zarr) unless another is chosen, and go into a <b>new</b> folder: sources "
    "are never overwritten, and a failed save leaves nothing behind. Exclusive formats need "
    "every conflict resolved first."
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
        self.container_combo = QComboBox()
        self.container_combo.addItems(list(CONTAINER_LABELS.values()))
        self.container_combo.setToolTip("The file container of every saved sample")
        form.addRow("Format:", self.format_combo)
        form.addRow("Files:", self.container_combo)
        form.addRow("Save:", self.scope_combo)
        layout.addLayout(form)
        self.save_button = QPushButton(
            "Save to a new folder…",
            toolTip="Write the samples as exclusive labels into a folder you choose; "
            "the files you opened are never overwritten",
        )
        self.save_button.clicked.connect(self._save_dialog)
        self.cancel_button = QPushButton(
            "Cancel", enabled=False, toolTip="Stop saving (nothing half-written)"
        )
        self.cancel_button.clicked.connect(self.cancel)
        buttons = QFlowLayout()
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.cancel_button)
        layout.addLayout(buttons)
        self.worker = None  # the save running, if any
        self._stop = threading.Event()
        layout.addWidget(QLabel(HELP, wordWrap=True, styleSheet="color: gray"))
        self.export = ExportSection(session)
        layout.addWidget(self.export)
        layout.addStretch(1)

    @property
    def format(self) -> str:
        return FORMATS[self.format_combo.currentIndex()]

    def _save_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Name of the new folder to save into")
        if path:
            self.save_to(path)

    def save_to(self, out: str | Path) -> bool:
        """Save in the chosen format and scope into the new folder ``out``, in a worker
        (copies of the edited samples are taken first, so painting may go on)."""
        workspace = self.session.workspace
        if workspace.dataset is None:
            show_error("Nothing to save: open a dataset first.")
            return False
        if self.worker is not None:
            return False
        self.session.edits.flush()
        scope = "sample" if self.scope_combo.currentIndex() == 1 else "dataset"
        try:
            container = list(CONTAINER_LABELS)[self.container_combo.currentIndex()]
            job = workspace.prepare_save(out, self.format, scope, container)
        except SegviewerError as error:
            show_error(str(error))
            return False
        self._stop.clear()
        self.worker = create_worker(_run, job, self.session.engine_spec, self._stop)
        self.worker.returned.connect(lambda outcome: self._on_returned(job, outcome))
        self.worker.finished.connect(self._on_finished)
        self.save_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.worker.start()
        return True

    def cancel(self) -> None:
        """Stop the save: nothing is left behind."""
        self._stop.set()

    def _on_returned(self, job, outcome: str | None) -> None:
        if outcome is None:
            self.session.workspace.finish_save(job)
            show_info(f"Saved {job.dataset.name} as {FORMAT_LABELS[job.format]} to {job.out}")
        elif outcome == CANCELLED:
            show_info("Save cancelled; nothing was written.")
        else:
            show_error(outcome)

    def _on_finished(self) -> None:
        self.worker = None
        self.save_button.setEnabled(True)
        self.cancel_button.setEnabled(False)


def _run(job, engine, stop: threading.Event) -> str | None:
    """Run a SaveJob on ``engine``; None when written, else CANCELLED or what went wrong."""
    try:
        with progress_bar(f"Saving {job.dataset.name}", stop) as progress:
            job.run(progress, engine)
    except Cancelled:
        return CANCELLED
    except SegviewerError as error:
        return str(error)
    except Exception as error:  # e.g. Dask's KilledWorker: one line, never a traceback
        return f"the save failed ({type(error).__name__}: {error}); nothing was written"
    return None
