"""The Train tab's actions on the fine-tuned model: predict with it, save it as a file."""

from __future__ import annotations

from pathlib import Path

from napari.utils.notifications import show_error, show_info
from qtpy.QtWidgets import QFileDialog

from segviewer.core.errors import SegviewerError
from segviewer.core.model.files import save_model


class TunedModelActions:
    """Mixed into TrainPanel, which sets ``tuned`` (name, model), ``models`` and ``form``."""

    def show_predictions(self) -> bool:
        """Predict the shown sample with the fine-tuned model, beside the ground truth."""
        if self.tuned is None:
            return False
        self.models.model_combo.setCurrentText(self.tuned[0])
        self.models.scope_combo.setCurrentIndex(0)
        self.models.device_combo.setCurrentText(self.form.device_combo.currentText())
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
