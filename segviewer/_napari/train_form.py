"""The Train tab's settings form: start model, loss and its options, weights, schedule."""

from __future__ import annotations

from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from segviewer.core.errors import SegviewerError
from segviewer.core.model.files import ARCHITECTURES
from segviewer.core.model.finetune import PRECISIONS, FinetuneSettings
from segviewer.core.model.losses import LOSSES, LossSettings
from segviewer.core.stats.sampler import SAMPLERS
from segviewer.core.stats.weights import SCHEMES

SAME_ARCHITECTURE = "the start model's"


class TrainSettingsForm(QWidget):
    """The controls of a fine-tune; :meth:`settings` reads them as FinetuneSettings."""

    def __init__(self) -> None:
        super().__init__()
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.start_combo = QComboBox(toolTip="The model whose weights training starts from")
        self.scratch_check = QCheckBox(
            "fresh random weights",
            toolTip="Train from scratch instead of from the chosen model's weights",
        )
        form.addRow("Start from:", self.start_combo)
        form.addRow("", self.scratch_check)
        self.arch_combo = QComboBox(
            toolTip="Train a fresh MONAI network of this architecture instead of the start "
            "model (its weights are random; use a learning rate of ~3e-3)"
        )
        self.arch_combo.addItems([SAME_ARCHITECTURE, *ARCHITECTURES])
        form.addRow("Architecture:", self.arch_combo)
        self.dims_combo = QComboBox(
            toolTip="2D trains on 2D samples (3D ones validate); 3D trains a 3D network on "
            "3D patches of the volumes"
        )
        self.dims_combo.addItems(["2D", "3D"])
        self.dims_combo.currentTextChanged.connect(self._show_dims)
        form.addRow("Train in:", self.dims_combo)
        self.loss_combo = QComboBox()
        self.loss_combo.addItems(LOSSES)
        self.loss_combo.setCurrentText("dicece")
        self.loss_combo.currentTextChanged.connect(self._show_loss_options)
        form.addRow("Loss:", self.loss_combo)
        self.lambda_dice = QDoubleSpinBox(minimum=0, maximum=100, value=1.0, singleStep=0.1)
        self.lambda_ce = QDoubleSpinBox(minimum=0, maximum=100, value=1.0, singleStep=0.1)
        self.gamma = QDoubleSpinBox(minimum=0, maximum=10, value=2.0, singleStep=0.5)
        lambdas = QFormLayout()  # a row of its own, hidden with the losses that have no λ
        lambdas.addRow("λ Dice:", self.lambda_dice)
        lambdas.addRow("λ CE:", self.lambda_ce)
        self.lambda_row = QWidget()
        self.lambda_row.setLayout(lambdas)
        lambdas.setContentsMargins(0, 0, 0, 0)
        form.addRow(self.lambda_row)
        form.addRow("Focal γ:", self.gamma)
        self.background_check = QCheckBox(
            "background in the loss",
            toolTip="Count the implied background as a class in the loss "
            "(MONAI include_background)",
        )
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
        form.addRow("Steps:", self.steps)
        form.addRow("Learning rate:", self.lr)
        form.addRow("Batch:", self.batch)
        form.addRow("Patch side (px):", self.patch)
        self.foreground = QDoubleSpinBox(
            minimum=0, maximum=1, value=0.33, singleStep=0.05,
            toolTip="Share of patches centred on a pixel of a class present (nnU-Net: 0.33)",
        )  # fmt: skip
        form.addRow("On foreground:", self.foreground)
        self.sampler_combo = QComboBox(
            toolTip="How training samples are drawn: uniformly, or by rarest-class sampler "
            "weights (samples holding rare classes more often)"
        )
        self.sampler_combo.addItems(SAMPLERS)
        form.addRow("Sampler:", self.sampler_combo)
        self.conflicts_combo = QComboBox(
            toolTip="Pixels in two or more classes have no single right answer: leave them "
            "out of the loss (the default, as nnU-Net's ignore label), or refuse to train "
            "until they are resolved"
        )
        self.conflicts_combo.addItem("ignore: leave them out of the loss", "ignore")
        self.conflicts_combo.addItem("refuse: resolve them first", "refuse")
        form.addRow("Conflict pixels:", self.conflicts_combo)
        self.device_combo = QComboBox()
        self.device_combo.addItems(["cpu", "cuda"])
        form.addRow("Device:", self.device_combo)
        self.precision_combo = QComboBox(
            toolTip="fp32, or bf16 mixed precision: about 2x faster 3D steps on a modern CPU"
        )
        self.precision_combo.addItems(PRECISIONS)
        form.addRow("Precision:", self.precision_combo)
        self._show_loss_options("dicece")

    def _show_dims(self, text: str) -> None:
        self.patch.setValue(64 if text == "3D" else 128)

    def dims(self) -> int:
        return 3 if self.dims_combo.currentText() == "3D" else 2

    def architecture(self) -> str | None:
        """The fresh architecture chosen, or None to train the start model."""
        text = self.arch_combo.currentText()
        return None if text == SAME_ARCHITECTURE else text

    def _show_loss_options(self, name: str) -> None:
        self.lambda_row.setEnabled(name == "dicece")
        self.gamma.setEnabled(name == "focal")
        self.background_check.setEnabled(name != "ce")

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
            (self.patch.value(),) * self.dims(),
            conflicts=self.conflicts_combo.currentData(),
            foreground=self.foreground.value(),
            sampler=self.sampler_combo.currentText(),
            precision=self.precision_combo.currentText(),
        )
