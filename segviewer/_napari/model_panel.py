"""The panel's Model tab: run a model in a worker, switch views, read the scores."""

from __future__ import annotations

import threading
from collections.abc import Callable

from napari.utils import progress
from napari.utils.notifications import show_error, show_info, show_warning
from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)
from superqt import QFlowLayout

from segviewer._napari import shortcuts
from segviewer._napari.model_worker import (
    CANCELLED,
    Notice,
    engine_run,
    load_libraries_worker,
    predict_worker,
)
from segviewer._napari.predictions import MODES, Predictions
from segviewer._napari.score_tables import fill_dataset_scores, fill_sample_scores
from segviewer._napari.session import ViewerSession
from segviewer._napari.tables import make_table
from segviewer.core.colors import ERROR_COLORS
from segviewer.core.model.files import LoadedModel
from segviewer.core.model.registry import FILE_ADAPTER, open_model, registered_models
from segviewer.core.model.scores import (
    ERROR_NAMES,
    mean_scores,
    score_line,
)

OPEN_FILE = "Open a model file…"
VIEW_TIPS = (
    "Ground truth and prediction side by side, errors outlined",
    "The prediction's outlines over the ground truth",
    "Missed, extra and wrong-class pixels over the image",
)
VIEW_ACTIONS = ("segviewer:side_by_side", "segviewer:overlay", "segviewer:error_map")


class ModelPanel(QWidget):
    def __init__(self, session: ViewerSession):
        super().__init__()
        self.session = session
        self.predictions = Predictions(session)
        self.model_files: dict[str, str] = {}  # shown name -> path of a model file
        self.loaded: dict[str, LoadedModel] = {}  # shown name -> a model in memory (fine-tuned)
        self._worker = None
        self._engine_run = None  # the running whole-dataset run's dataset job, if it may be one
        self._stop = threading.Event()
        self._bar = None
        self._libraries = None  # the worker that imports torch and MONAI
        self.libraries_loaded = False
        self._build()
        self.predictions.changed.connect(self.refresh)

    def load_libraries(self) -> None:
        """Import torch and MONAI in a worker, once, ahead of the first run (~3 s): the
        Model and Train tabs call this when first shown, so a run starts without a pause."""
        if self._libraries is None:
            self._libraries = load_libraries_worker()
            self._libraries.finished.connect(lambda: setattr(self, "libraries_loaded", True))
            self._libraries.start()

    # -- layout -------------------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.model_combo = QComboBox(toolTip="Registered models (segviewer.models) or a file")
        self.model_combo.addItems([n for n in registered_models() if n != FILE_ADAPTER])
        self.model_combo.addItem(OPEN_FILE)
        self.model_combo.activated.connect(self._on_model_chosen)
        self.device_combo = QComboBox()
        self.device_combo.addItems(["cpu", "cuda"])
        self.scope_combo = QComboBox()
        self.scope_combo.addItems(["This sample", "Whole dataset"])
        form.addRow("Model:", self.model_combo)
        form.addRow("Device:", self.device_combo)
        form.addRow("Run on:", self.scope_combo)
        layout.addLayout(form)
        buttons = QFlowLayout()
        self.run_button = QPushButton(
            "Run model",
            toolTip="Predict the shown sample (or the dataset) with the chosen model and "
            "compare with the ground truth",
        )
        self.cancel_button = QPushButton(
            "Cancel", enabled=False, toolTip="Stop; samples already predicted keep their result"
        )
        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.cancel)
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        layout.addLayout(buttons)

        views = QFlowLayout()
        self.view_buttons = QButtonGroup(self)
        for index, mode in enumerate(MODES):
            button = QPushButton(mode.capitalize(), checkable=True, checked=index == 0)
            button.setToolTip(shortcuts.tip(VIEW_TIPS[index], VIEW_ACTIONS[index]))
            self.view_buttons.addButton(button, index)
            views.addWidget(button)
        self.view_buttons.idClicked.connect(lambda index: self.predictions.set_mode(MODES[index]))
        next_key = shortcuts.shortcut_of("segviewer:next_view")
        layout.addWidget(QLabel(f"<b>View</b> ({next_key} switches)"))
        layout.addLayout(views)
        legend = " ".join(
            f"<span style='color:{ERROR_COLORS[code]}'>■</span> {ERROR_NAMES[code]}"
            for code in ERROR_COLORS
        )
        self.legend = QLabel(f"Error map: {legend}; correct pixels are clear.", wordWrap=True)
        layout.addWidget(self.legend)

        self.status = QLabel("No prediction yet: choose a model and run it.", wordWrap=True)
        layout.addWidget(self.status)
        self.sample_table = make_table(["Class", "Dice", "IoU", "Precision", "Recall"])
        self.sample_table.setToolTip("Scores of the shown sample (– = empty ground truth)")
        layout.addWidget(self.sample_table)
        self.confusion_table = make_table(["truth \\ predicted"])
        self.confusion_table.setToolTip("Pixels of each true class (rows) by predicted class")
        layout.addWidget(self.confusion_table)
        header = QHBoxLayout()
        header.addWidget(QLabel("<b>Dataset</b>: click a sample to open it", wordWrap=True))
        self.worst_button = QPushButton("Worst first", toolTip="Sort by the lowest class Dice")
        self.worst_button.clicked.connect(self.sort_worst_first)
        header.addWidget(self.worst_button)
        layout.addLayout(header)
        self.dataset_label = QLabel(wordWrap=True)
        layout.addWidget(self.dataset_label)
        self.dataset_table = make_table(["Sample", "Worst Dice"])
        self.dataset_table.setSelectionBehavior(QTableWidget.SelectRows)
        self.dataset_table.setMinimumHeight(140)
        self.dataset_table.cellClicked.connect(self._open_row)
        layout.addWidget(self.dataset_table)
        layout.addStretch(1)

    # -- running ------------------------------------------------------------------------------
    def _on_model_chosen(self, row: int) -> None:
        if self.model_combo.itemText(row) != OPEN_FILE:
            return
        path, _ = QFileDialog.getOpenFileName(
            self, "Open a model file", filter="Models (*.safetensors *.pt *.pth *.ts);;All (*)"
        )
        if path:
            self.add_model_file(path)
        else:
            self.model_combo.setCurrentIndex(0)

    def add_model_file(self, path: str) -> None:
        name = path.rsplit("/", 1)[-1]
        self.model_files[name] = path
        self.model_combo.insertItem(self.model_combo.count() - 1, name)
        self.model_combo.setCurrentText(name)

    def add_model(self, name: str, model: LoadedModel) -> None:
        """A model in memory (e.g. just fine-tuned) joins the list and is chosen."""
        if name not in self.loaded:
            self.model_combo.insertItem(self.model_combo.count() - 1, name)
        self.loaded[name] = model
        self.model_combo.setCurrentText(name)

    def model_names(self) -> list[str]:
        """The models in the list (not the "open a file" entry)."""
        return [self.model_combo.itemText(i) for i in range(self.model_combo.count() - 1)]

    def opener(self, name: str, classes: list[str]) -> Callable[[], LoadedModel]:
        """A function that opens the model ``name`` of the list, for ``classes`` (it raises
        SegviewerError). Call it in a worker: a first open imports MONAI (~2 s)."""
        if name in self.loaded:
            model = self.loaded[name]
            return lambda: model
        spec = self.model_files.get(name, name)
        return lambda: open_model(spec, classes)

    def run(self) -> bool:
        """Predict the shown sample (or every sample) in a worker thread; False if refused."""
        session, dataset = self.session, self.session.dataset
        if dataset is None or self._worker is not None:
            return False
        name = self.model_combo.currentText()
        classes = ["background", *session.sample.class_names]
        opener = self.opener(name, classes)
        indices = list(range(len(dataset))) if self.scope_combo.currentIndex() else [session.index]
        # the worker gets copies of samples in memory (the user may paint them meanwhile)
        # and reads the others itself; each result carries the revision it was made from
        workspace = session.workspace
        images = {i: workspace.snapshot(i) for i in indices if dataset.is_edited(i)}
        images[session.index] = workspace.snapshot(session.index)
        revisions = {i: workspace.revision(i) for i in indices}
        self._stop.clear()
        self._active = session.viewer.layers.selection.active
        device = self.device_combo.currentText()
        self._engine_run = None  # a whole-dataset run may be a job on the session's engine
        if self.scope_combo.currentIndex() and name not in self.loaded:
            model, folder = self.model_files.get(name, name), workspace.prediction_files.folder()
            self._engine_run = engine_run(
                dataset, model, classes, device, session.engine_spec, folder
            )
        worker = predict_worker(
            dataset, indices, images, opener, device, self._stop, self._engine_run
        )
        worker.yielded.connect(lambda item: self._on_yielded(name, dataset, item, revisions))
        worker.returned.connect(self._on_returned)
        worker.finished.connect(self._on_finished)
        self._worker = worker
        self._what = f"Predicting with {name}"
        self._bar = progress(total=len(indices), desc=self._what)
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        worker.start()
        return True

    def show_view(self, index: int) -> None:
        """Show the comparison view ``index`` of MODES (as clicking its button)."""
        self.view_buttons.button(index).setChecked(True)
        self.predictions.set_mode(MODES[index])

    def next_view(self) -> None:
        self.show_view((MODES.index(self.predictions.mode) + 1) % len(MODES))

    def cancel(self) -> None:
        """Stop at the next window; finished samples keep their predictions."""
        self._stop.set()
        if self._worker is not None and self._engine_run is None:
            self._worker.quit()  # a run that may hold an engine stops itself, closing it

    @property
    def running(self) -> bool:
        return self._worker is not None

    def _on_yielded(self, name: str, dataset, item, revisions: dict[int, int]) -> None:
        """The opened model first (its classes name the prediction layers), then results."""
        if isinstance(item, LoadedModel):
            self.predictions.start(name, item.info.classes)
            self.predictions.prepare_layers()
        elif isinstance(item, Notice):
            self._on_notice(item)
        else:
            self._on_result(dataset, *item, revision=revisions[item[0]])

    def _on_notice(self, notice: Notice) -> None:
        """Where the samples are predicted (in the progress bar), or why not on the engine."""
        if not notice.on_engine:
            show_warning(notice.message)
        elif self._bar is not None:
            self._bar.set_description(f"{self._what} {notice.message}")

    def _on_result(self, dataset, index: int, labels, errors, scores, probabilities, revision):
        self.predictions.add(dataset, index, labels, errors, scores, probabilities, revision)
        if self._bar is not None:
            self._bar.update(1)

    def _on_returned(self, outcome: str | None) -> None:
        """``outcome``: None when every sample was predicted, else why it stopped. A run
        that failed before any result changes nothing in the viewer."""
        if outcome == CANCELLED:
            show_info("Prediction cancelled; finished samples keep their predictions.")
        elif outcome is not None:
            show_error(outcome)
            if not self.predictions.labels:
                self.predictions.discard_layers()
                layers = self.session.viewer.layers
                if self._active in layers:
                    layers.selection.active = self._active

    def _on_finished(self) -> None:
        self._worker = None
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.refresh()

    # -- scores -------------------------------------------------------------------------------
    def refresh(self) -> None:
        dataset = self.session.dataset
        predictions = self.predictions
        if dataset is None or not predictions.labels:
            return
        predictions.update_errors()
        classes = predictions.classes
        shown = predictions.scores(dataset, self.session.index)
        self.status.setText(
            f"Model <b>{predictions.model_name}</b>: "
            + ("scores of this sample below." if shown else "this sample is not predicted yet.")
        )
        fill_sample_scores(self.sample_table, self.confusion_table, classes, shown)
        indices = predictions.predicted_indices(dataset)
        per_sample = [predictions.scores(dataset, i) for i in indices]
        if per_sample:
            self.dataset_label.setText(
                f"{len(indices)} of {len(dataset)} samples predicted; mean Dice: "
                + score_line(classes, mean_scores(per_sample).dice)
            )
        else:  # another dataset than the one the model ran on
            self.dataset_label.setText("No sample of this dataset is predicted yet.")
        fill_dataset_scores(self.dataset_table, dataset, classes, indices, per_sample)

    def sort_worst_first(self) -> None:
        self.dataset_table.sortItems(1, Qt.AscendingOrder)

    def _open_row(self, row: int, _column: int) -> None:
        index = self.dataset_table.item(row, 0).data(Qt.UserRole)
        self.session.show(self.session.dataset, index)
