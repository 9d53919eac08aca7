"""The panel's Train tab: fine-tune a model on the edited labels, and compare losses."""

from __future__ import annotations

import copy
import dataclasses
import threading

from napari.utils import progress
from napari.utils.notifications import show_error, show_info
from qtpy.QtCore import QTimer
from qtpy.QtWidgets import (
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from superqt import QFlowLayout

from segviewer._napari.compare_section import CompareSection
from segviewer._napari.model_panel import ModelPanel
from segviewer._napari.sample_roles import SampleRoles
from segviewer._napari.session import ViewerSession
from segviewer._napari.train_chart import TrainingChart
from segviewer._napari.train_form import TrainSettingsForm
from segviewer._napari.train_worker import TrainingEvents, fine_tune_worker, sample_loaders
from segviewer._napari.tuned_model import TunedModelActions
from segviewer.core.errors import SegviewerError
from segviewer.core.model.files import LoadedModel
from segviewer.core.model.finetune import (
    FinetuneResult,
    FinetuneSettings,
    best_dice,
    fresh_model_for,
    record_finetune,
    run_label,
    trained_part,
    untrained_copy,
)
from segviewer.core.model.scores import score_line

HELP = (
    "Labels are the current masks, edits included. Training draws random patches from the "
    "training samples; every 50 steps the validation samples are predicted and scored, and "
    "the best weights so far are kept (also when you cancel)."
)


class TrainPanel(TunedModelActions, QWidget):
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
        self._events = TrainingEvents()
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
        self.form = TrainSettingsForm()
        layout.addWidget(self.form)

        self.samples = SampleRoles()
        self.samples.training_dims = self.form.dims
        self.form.dims_combo.currentTextChanged.connect(lambda _: self.samples.default_split())
        layout.addWidget(self.samples)

        buttons = QFlowLayout()
        self.train_button = QPushButton(
            "Fine-tune",
            toolTip="Fine-tune the chosen model on the training samples with the chosen loss, "
            "validating as it goes",
        )
        self.cancel_button = QPushButton(
            "Cancel",
            enabled=False,
            toolTip="Stop after this step; the best weights so far are kept",
        )
        self.train_button.clicked.connect(self.train)
        self.cancel_button.clicked.connect(self.cancel)
        buttons.addWidget(self.train_button)
        buttons.addWidget(self.cancel_button)
        layout.addLayout(buttons)
        self.status = QLabel(HELP, wordWrap=True)
        layout.addWidget(self.status)
        self.chart = TrainingChart()
        layout.addWidget(self.chart)
        results = QFlowLayout()
        self.predict_button = QPushButton(
            "Show its predictions",
            enabled=False,
            toolTip="Run the fine-tuned model in the Model tab, side by side with the truth",
        )
        self.predict_button.setToolTip("Predict the shown sample beside its ground truth")
        self.predict_button.clicked.connect(self.show_predictions)
        self.save_button = QPushButton(
            "Save model…", enabled=False, toolTip="Save the fine-tuned weights as a model file"
        )
        self.save_button.clicked.connect(self._save_dialog)
        results.addWidget(self.predict_button)
        results.addWidget(self.save_button)
        layout.addLayout(results)

        self.comparing = CompareSection()
        self.comparing.add_button.clicked.connect(self.add_current_run)
        self.comparing.compare_button.clicked.connect(self.compare)
        layout.addWidget(self.comparing)
        layout.addStretch(1)

    def add_current_run(self) -> None:
        self.comparing.add_run(self.form.loss_settings(), self.form.weights_combo.currentText())

    # -- the dataset's samples ----------------------------------------------------------------
    def refresh(self) -> None:
        names = self.models.model_names()
        current = self.form.start_combo.currentText()
        if names != [
            self.form.start_combo.itemText(i) for i in range(self.form.start_combo.count())
        ]:
            self.form.start_combo.clear()
            self.form.start_combo.addItems(names)
            if current in names:
                self.form.start_combo.setCurrentText(current)
        self.samples.show_dataset(self.session.dataset)

    def _inputs(self):
        """(opener of the start model, training loaders, validation loaders)."""
        session = self.session
        name = self.form.start_combo.currentText()
        classes = ["background", *session.sample.class_names]
        open_model = self.models.opener(name, classes)
        in_memory, scratch = name in self.models.loaded, self.form.scratch_check.isChecked()
        dims, arch, shown = self.form.dims(), self.form.architecture(), session.sample

        def opener() -> LoadedModel:  # runs in the worker; training changes a model in place
            if arch is not None:
                return fresh_model_for(arch, shown, dims)
            model = trained_part(open_model(), dims)
            if scratch:
                return untrained_copy(model)
            return copy.deepcopy(model) if in_memory else model

        train, validation = sample_loaders(
            self.session.workspace, self.samples.indices("train"), self.samples.indices("validate")
        )
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
            base = self.form.settings()
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
        device = self.form.device_combo.currentText()
        worker = fine_tune_worker(
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
