"""The Save tab's "Export for training" section: the dataset for nnU-Net v2 or MONAI, on
the panel's dataset job engine (the Statistics page's "Dataset jobs" setting)."""

from __future__ import annotations

import threading
from pathlib import Path

from napari.qt.threading import create_worker
from napari.utils.notifications import show_error, show_info
from qtpy.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QLineEdit,
    QPushButton,
    QSpinBox,
)
from superqt import QFlowLayout

from segviewer._napari.progress import progress_bar
from segviewer._napari.session import ViewerSession
from segviewer.core.errors import SegviewerError
from segviewer.core.progress import Cancelled
from segviewer.core.stats.weights import SCHEMES

FRAMEWORKS = {"nnunet": "nnU-Net v2 raw dataset", "monai": "MONAI datalist + snippet"}
DIMS = {"all samples": None, "2D samples only": 2, "3D samples only": 3}


class ExportSection(QGroupBox):
    """Framework, its options and an Export button; the export runs in a worker."""

    def __init__(self, session: ViewerSession):
        super().__init__("Export for training")
        self.session = session
        self.worker = None
        form = QFormLayout(self)
        self.framework_combo = QComboBox()
        for key, label in FRAMEWORKS.items():
            self.framework_combo.addItem(label, key)
        self.framework_combo.currentIndexChanged.connect(self._show_options)
        form.addRow("For:", self.framework_combo)
        self.id_spin = QSpinBox(minimum=1, maximum=999, value=501)
        self.id_spin.setToolTip("nnU-Net's dataset number: the folder is DatasetNNN_NAME")
        self.name_edit = QLineEdit("segviewer", toolTip="nnU-Net's dataset name")
        form.addRow("Dataset number:", self.id_spin)
        form.addRow("Dataset name:", self.name_edit)
        self.scheme_combo = QComboBox(toolTip="Class weights written into the MONAI snippet")
        self.scheme_combo.addItems(SCHEMES)
        self.scheme_combo.setCurrentText("median_frequency")
        form.addRow("Class weights:", self.scheme_combo)
        self.dims_combo = QComboBox(toolTip="nnU-Net and MONAI datasets are all 2D or all 3D")
        self.dims_combo.addItems(list(DIMS))
        form.addRow("Export:", self.dims_combo)
        self.export_button = QPushButton("Export…", toolTip="Write the dataset as it is now")
        self.export_button.clicked.connect(self._dialog)
        self.cancel_button = QPushButton(
            "Cancel", enabled=False, toolTip="Stop the export (nothing half-written)"
        )
        self.cancel_button.clicked.connect(self.cancel)
        buttons = QFlowLayout()
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.cancel_button)
        form.addRow(buttons)
        self._stop = threading.Event()
        self._show_options()

    @property
    def framework(self) -> str:
        return self.framework_combo.currentData()

    def _show_options(self) -> None:
        nnunet = self.framework == "nnunet"
        for widget in (self.id_spin, self.name_edit):
            widget.setEnabled(nnunet)
        self.scheme_combo.setEnabled(not nnunet)

    def _dialog(self) -> None:
        if self.framework == "nnunet":
            path = QFileDialog.getExistingDirectory(self, "Folder to write DatasetNNN_NAME into")
        else:
            path, _ = QFileDialog.getSaveFileName(self, "Name of the new folder to export into")
        if path:
            self.export_to(path)

    def export_to(self, out: str | Path) -> bool:
        """Export into ``out`` in a worker; a notification says where it went or why not."""
        workspace = self.session.workspace
        if workspace.dataset is None:
            show_error("Nothing to export: open a dataset first.")
            return False
        if self.worker is not None:
            return False
        self.session.edits.flush()
        dims = DIMS[self.dims_combo.currentText()]
        if self.framework == "nnunet":
            options = {"dataset_id": self.id_spin.value(), "name": self.name_edit.text()}
        else:
            options = {"scheme": self.scheme_combo.currentText()}
        try:  # copies of the edited samples are taken now: painting may go on
            job = workspace.prepare_export(self.framework, out, dims=dims, **options)
        except SegviewerError as error:
            show_error(str(error))
            return False
        self._stop.clear()
        self.worker = create_worker(_run, job, self.session.engine_spec, self._stop)
        self.worker.returned.connect(_report)
        self.worker.finished.connect(self._on_finished)
        self.export_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.worker.start()
        return True

    def cancel(self) -> None:
        """Stop the export: nothing is left behind."""
        self._stop.set()

    def _on_finished(self) -> None:
        self.worker = None
        self.export_button.setEnabled(True)
        self.cancel_button.setEnabled(False)


def _run(job, engine, stop: threading.Event) -> str:
    """Run an ExportJob on ``engine``; the line to show (where it went, or why not)."""
    try:
        with progress_bar(f"Exporting {job.dataset.name}", stop) as progress:
            return f"Exported to {job.run(progress, engine)}"
    except Cancelled:
        return "Export cancelled; nothing was written."
    except SegviewerError as error:
        return f"error: {error}"
    except Exception as error:  # e.g. Dask's KilledWorker: one line, never a traceback
        return f"error: the export failed ({type(error).__name__}: {error}); nothing was written"


def _report(message: str) -> None:
    if message.startswith("error: "):
        show_error(message.removeprefix("error: "))
    else:
        show_info(message)
