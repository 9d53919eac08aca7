"""The panel's Train tab: fine-tune a model on the edited labels, and compare losses."""

from __future__ import annotations

import copy
import dataclasses
import threading
from pathlib import Path

from napari.qt.threading import thread_worker
from napari.utils import progress
from napari.utils.notifications import show_error, show_info
from qtpy.QtCore import QObject, QTimer, Signal
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from segviewer._napari.compare_section import CompareSection
from segviewer._napari.model_panel import ModelPanel
from segviewer._napari.sample_roles import SampleRoles
from segviewer._napari.session import ViewerSession
from segviewer._napari.train_chart import TrainingChart
from segviewer.core.errors import SegviewerError
from segviewer.core.model.files import LoadedModel, save_model
from segviewer.core.model.finetune import (
    FinetuneResult,
    FinetuneSettings,
    best_dice,
    compare_losses,
    finetune,
    record_finetune,
    run_label,
    untrained_copy,
)
from segviewer.core.model.inference import choose_device
from segviewer.core.model.losses import LOSSES, LossSettings
from segviewer.core.model.scores import score_line
from segviewer.core.stats.weights import SCHEMES

HELP = (
    "Labels are the current masks, edits included. Training draws random patches from the "
    "training samples; every 50 steps the validation samples are predicted and scored, and "
    "the best weights so far are kept (also when you cancel)."
)


class _Events(QObject):
    """Signals the training thread sends to the panel (queued to the GUI thread)."""

    opened = Signal(object)  # the classes of the opened model
    step = Signal(int, int, float)  # run, step, loss
    validated = Signal(int, int, object)  # run, step, per-class Dice


class TrainPanel(QWidget):
    def __init__(self, session: ViewerSession, models: ModelPanel):
        super().__init__()
        self.session, self.models = session, models
        self.show_model_tab = lambda: None  # set by the widget
        self.tuned: tuple[str, LoadedModel] | None = None  # the last fine-tuned model
        self.result: FinetuneResult | None = None  # how its training went
        self._tuned_count = 0
        self._worker = None
        self._stop = threading.Event()
        self._bar = None
        self._events = _Events()
        self._events.opened.connect(self._on_opened)
        self._events.step.connect(self._on_step)
        self._events.validated.connect(self._on_validated)
        self._labels: list[str] = []
        self._losses: list[list[float]] = []
        self._validation: list[list[tuple[int, list]]] = []
        self._classes: list[str] = []
        self._redraw = QTimer(self, singleShot=True, interval=500, timeout=self._draw_history)
        self._build()

    # -- layout -------------------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.start_combo = QComboBox(toolTip="The model whose weights training starts from")
        self.scratch_check = QCheckBox("fresh random weights (same architecture)")
        form.addRow("Start from:", self.start_combo)
        form.addRow("", self.scratch_check)
        self.loss_combo = QComboBox()
        self.loss_combo.addItems(LOSSES)
        self.loss_combo.setCurrentText("dicece")
        self.loss_combo.currentTextChanged.connect(self._show_loss_options)
        form.addRow("Loss:", self.loss_combo)
        self.lambda_dice = QDoubleSpinBox(minimum=0, maximum=100, value=1.0, singleStep=0.1)
        self.lambda_ce = QDoubleSpinBox(minimum=0, maximum=100, value=1.0, singleStep=0.1)
        self.gamma = QDoubleSpinBox(minimum=0, maximum=10, value=2.0, singleStep=0.5)
        lambdas = QHBoxLayout()
        lambdas.addWidget(QLabel("λ Dice"))
        lambdas.addWidget(self.lambda_dice)
        lambdas.addWidget(QLabel("λ CE"))
        lambdas.addWidget(self.lambda_ce)
        self.lambda_row = QWidget()
        self.lambda_row.setLayout(lambdas)
        lambdas.setContentsMargins(0, 0, 0, 0)
        form.addRow(self.lambda_row)
        form.addRow("Focal γ:", self.gamma)
        self.background_check = QCheckBox("background takes part in the Dice/focal term")
        self.background_check.setChecked(True)
        form.addRow("", self.background_check)
        self.weights_combo = QComboBox(toolTip="Computed on the training samples' counts")
        self.weights_combo.addItems(SCHEMES)
        form.addRow("Class weights:", self.weights_combo)
        self.steps = QSpinBox(minimum=1, maximum=100_000, value=200)
        self.lr = QLineEdit(
            "0.0001", toolTip="Adam learning rate: ~1e-4 to fine-tune, ~3e-3 from fresh weights"
        )
        self.batch = QSpinBox(minimum=1, maximum=256, value=8)
        self.patch = QSpinBox(minimum=16, maximum=2048, value=128, singleStep=16)
        numbers = QHBoxLayout()
        for label, widget in [("Steps", self.steps), ("LR", self.lr), ("Batch", self.batch)]:
            numbers.addWidget(QLabel(label))
            numbers.addWidget(widget)
        form.addRow(numbers)
        form.addRow("Patch side (px):", self.patch)
        self.conflicts_combo = QComboBox()
        self.conflicts_combo.addItem("refuse: resolve them first", "refuse")
        self.conflicts_combo.addItem("ignore: leave them out of the loss", "ignore")
        form.addRow("Conflict pixels:", self.conflicts_combo)
        self.device_combo = QComboBox()
        self.device_combo.addItems(["cpu", "cuda"])
        form.addRow("Device:", self.device_combo)
        layout.addLayout(form)
        self._show_loss_options("dicece")

        self.samples = SampleRoles()
        layout.addWidget(self.samples)

        buttons = QHBoxLayout()
        self.train_button = QPushButton("Fine-tune")
        self.cancel_button = QPushButton("Cancel", enabled=False)
        self.train_button.clicked.connect(self.train)
        self.cancel_button.clicked.connect(self.cancel)
        buttons.addWidget(self.train_button)
        buttons.addWidget(self.cancel_button)
        layout.addLayout(buttons)
        self.status = QLabel(HELP, wordWrap=True)
        layout.addWidget(self.status)
        self.chart = TrainingChart()
        layout.addWidget(self.chart)
        results = QHBoxLayout()
        self.predict_button = QPushButton("Show its predictions", enabled=False)
        self.predict_button.setToolTip("Predict the shown sample beside its ground truth")
        self.predict_button.clicked.connect(self.show_predictions)
        self.save_button = QPushButton("Save model…", enabled=False)
        self.save_button.clicked.connect(self._save_dialog)
        results.addWidget(self.predict_button)
        results.addWidget(self.save_button)
        layout.addLayout(results)

        self.comparing = CompareSection()
        self.comparing.add_button.clicked.connect(self.add_current_run)
        self.comparing.compare_button.clicked.connect(self.compare)
        layout.addWidget(self.comparing)
        layout.addStretch(1)

    def _show_loss_options(self, name: str) -> None:
        self.lambda_row.setEnabled(name == "dicece")
        self.gamma.setEnabled(name == "focal")
        self.background_check.setEnabled(name != "ce")

    def add_current_run(self) -> None:
        self.comparing.add_run(self.loss_settings(), self.weights_combo.currentText())

    # -- the dataset's samples ----------------------------------------------------------------
    def refresh(self) -> None:
        names = self.models.model_names()
        current = self.start_combo.currentText()
        if names != [self.start_combo.itemText(i) for i in range(self.start_combo.count())]:
            self.start_combo.clear()
            self.start_combo.addItems(names)
            if current in names:
                self.start_combo.setCurrentText(current)
        self.samples.show_dataset(self.session.dataset)

    # -- settings -----------------------------------------------------------------------------
    def loss_settings(self) -> LossSettings:
        return LossSettings(
            self.loss_combo.currentText(),
            self.background_check.isChecked(),
            self.lambda_dice.value(),
            self.lambda_ce.value(),
            self.gamma.value(),
        )

    def settings(self) -> FinetuneSettings:
        """The form as settings (raises SegviewerError for a bad learning rate)."""
        try:
            lr = float(self.lr.text())
        except ValueError:
            lr = float("nan")
        if not 0 < lr < 10:
            raise SegviewerError(
                f"learning rate {self.lr.text()!r}: expected a positive number such as 0.001"
            )
        return FinetuneSettings(
            self.loss_settings(),
            self.weights_combo.currentText(),
            self.steps.value(),
            lr,
            self.batch.value(),
            (self.patch.value(), self.patch.value()),
            conflicts=self.conflicts_combo.currentData(),
        )

    def _inputs(self):
        """(opener of the start model, training loaders, validation loaders)."""
        session, dataset = self.session, self.session.dataset
        name = self.start_combo.currentText()
        open_model = self.models.opener(name, ["background", *session.sample.class_names])
        in_memory, scratch = name in self.models.loaded, self.scratch_check.isChecked()

        def opener() -> LoadedModel:  # runs in the worker; training changes a model in place
            model = open_model()
            if scratch:
                return untrained_copy(model)
            return copy.deepcopy(model) if in_memory else model

        loaders = {}
        for index, role in enumerate(self.samples.roles):
            if role == "skip":
                continue
            if index == session.index or dataset.is_modified(index):  # a snapshot of the edits
                sample = session.sample if index == session.index else dataset.sample(index)
                snapshot = dataclasses.replace(
                    sample,
                    masks=sample.masks.copy(),
                    ignore=None if sample.ignore is None else sample.ignore.copy(),
                )
                loaders[index] = lambda s=snapshot: s
            else:
                loaders[index] = dataset.refs[index].load
        train = [loaders[i] for i in self.samples.indices("train")]
        validation = [loaders[i] for i in self.samples.indices("validate")]
        return opener, train, validation

    # -- running ------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._worker is not None

    def train(self) -> bool:
        """Fine-tune with the form's settings in a worker; False if refused."""
        return self._start(compare=False)

    def compare(self) -> bool:
        """The same fine-tune under each checked loss setting; False if refused."""
        return self._start(compare=True)

    def _start(self, compare: bool) -> bool:
        if self.session.dataset is None or self._worker is not None:
            return False
        try:
            base = self.settings()
        except SegviewerError as error:
            show_error(str(error))
            return False
        opener, train, validation = self._inputs()
        if compare:
            runs = [
                dataclasses.replace(base, loss=loss, weights=weights)
                for loss, weights in self.comparing.checked_runs()
            ]
            if not runs:
                show_error("Check at least one loss setting to compare.")
                return False
        else:
            runs = [base]
        self._labels = [run_label(run) for run in runs]
        self._losses = [[] for _ in runs]
        self._validation = [[] for _ in runs]
        self._classes = []  # the model's, once the worker has opened it
        self.chart.clear()
        self._stop.clear()
        device = self.device_combo.currentText()
        worker = _fine_tune(
            opener, train, validation, runs, device, self._stop, self._events, compare
        )
        worker.returned.connect(lambda outcome: self._on_returned(runs, compare, *outcome))
        worker.finished.connect(self._on_finished)
        self._worker = worker
        what = "Comparing losses" if compare else f"Fine-tuning ({self._labels[0]})"
        self._bar = progress(total=base.steps * len(runs), desc=what)
        self.status.setText(f"{what}: reading the samples…")
        for button in (self.train_button, self.comparing.compare_button, self.predict_button):
            button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        worker.start()
        return True

    def cancel(self) -> None:
        """Stop at the next step or validation window; the best weights so far are kept."""
        self._stop.set()

    def _on_step(self, run: int, step: int, loss: float) -> None:
        self._losses[run].append(loss)
        if self._bar is not None:
            self._bar.update(1)
        self._schedule_redraw()

    def _on_opened(self, classes: list) -> None:
        self._classes = list(classes)

    def _on_validated(self, run: int, step: int, dice: list) -> None:
        self._validation[run].append((step, dice))
        self._schedule_redraw()

    def _schedule_redraw(self) -> None:
        """At most one chart redraw per 500 ms, however fast steps arrive."""
        if not self._redraw.isActive():
            self._redraw.start()

    def _draw_history(self) -> None:
        run = max((r for r, losses in enumerate(self._losses) if losses), default=0)
        losses = self._losses[run]
        self.status.setText(
            f"{self._labels[run]}: step {len(losses)}"
            + (f", loss {losses[-1]:.4f}" if losses else "")
            + (f" (run {run + 1} of {len(self._labels)})" if len(self._labels) > 1 else "")
        )
        self.chart.draw_history(
            self._labels, self._losses, self._validation, self._classes, current=run
        )

    def _on_returned(self, runs, compare: bool, model, outcome) -> None:
        """``model``: the trained model (None if it did not open); ``outcome``: the results,
        or the message of what went wrong."""
        self._redraw.stop()  # a pending redraw would overwrite the final message
        if isinstance(outcome, str):
            show_error(outcome)
            self.status.setText(f"Stopped: {outcome}")
            return
        self._draw_history()
        if not outcome or best_dice(outcome[0]) is None:
            self.status.setText("Cancelled before the first validation: nothing changed.")
        elif compare:
            self._show_comparison([r for r in outcome if best_dice(r) is not None])
        else:
            self._keep(model, runs[0], outcome[0])
        stopped = {r.stopped for r in outcome} - {None}
        if stopped:
            show_info(f"Training stopped early: {'; '.join(sorted(stopped))}.")

    def _keep(self, model: LoadedModel, settings: FinetuneSettings, result) -> None:
        """The fine-tuned model joins the model list, with how it was made."""
        self._tuned_count += 1
        name = f"fine-tuned {self._tuned_count}: {run_label(settings)}"
        dice = record_finetune(model, name, settings, result)
        info = model.info
        self.models.add_model(name, model)
        self.tuned, self.result = (name, model), result
        self.refresh()
        self.status.setText(
            f"<b>{name}</b> is in the model list. Validation Dice of the kept weights (step "
            f"{result.best_step}): {score_line(info.classes, dice)}."
            + (" No step improved on the starting weights." if result.best_step == 0 else "")
            + (f" Stopped early: {result.stopped}." if result.stopped else "")
        )
        self.save_button.setEnabled(True)

    def _show_comparison(self, results: list[FinetuneResult]) -> None:
        self.comparing.show_results(self._labels, results, self._classes)
        self.status.setText(
            f"Compared {len(results)} loss settings on {len(results[0].validation_names)} "
            "validation sample(s); the best Dice per class is in bold."
        )

    def _on_finished(self) -> None:
        self._worker = None
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        self.train_button.setEnabled(True)
        self.comparing.compare_button.setEnabled(True)
        self.predict_button.setEnabled(self.tuned is not None)
        self.cancel_button.setEnabled(False)

    # -- the fine-tuned model -----------------------------------------------------------------
    def show_predictions(self) -> bool:
        """Predict the shown sample with the fine-tuned model, beside the ground truth."""
        if self.tuned is None:
            return False
        self.models.model_combo.setCurrentText(self.tuned[0])
        self.models.scope_combo.setCurrentIndex(0)
        self.models.device_combo.setCurrentText(self.device_combo.currentText())
        self.show_model_tab()
        return self.models.run()

    def save_model_to(self, path: str | Path) -> bool:
        """Write the fine-tuned model (weights + metadata) as a .safetensors file."""
        path = Path(path)
        if self.tuned is None:
            return False
        if path.suffix != ".safetensors":
            path = path.with_name(path.name + ".safetensors")
        _, model = self.tuned
        try:
            save_model(path, model.network, model.info)
        except SegviewerError as error:
            show_error(str(error))
            return False
        show_info(f"Saved the model to {path}; open it later with “Open a model file…”.")
        return True

    def _save_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Save the fine-tuned model", "finetuned.safetensors", "Models (*.safetensors)"
        )
        if path:
            self.save_model_to(path)


@thread_worker
def _fine_tune(opener, train, validation, runs, device: str, stop, events: _Events, compare):
    """Return ``(model, results)``: the model ``opener`` opened, trained (None if it did not
    open), and one FinetuneResult per run, or the message of what went wrong."""
    model = None
    try:
        device = choose_device(device)
        model = opener()
        events.opened.emit(model.info.classes)
        train_samples = [load() for load in train]
        validation_samples = [load() for load in validation]
        if compare:
            results = compare_losses(
                model,
                train_samples,
                validation_samples,
                runs,
                device,
                events.step.emit,
                stop.is_set,
                events.validated.emit,
            )
            return model, results
        result = finetune(
            model,
            train_samples,
            validation_samples,
            runs[0],
            device,
            lambda step, loss: events.step.emit(0, step, loss),
            stop.is_set,
            lambda step, dice: events.validated.emit(0, step, dice),
        )
        return model, [result]
    except SegviewerError as error:
        return model, str(error)
