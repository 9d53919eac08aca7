"""A model's predictions beside the ground truth: layers, view modes and scores.

Predicted labels are kept per sample. The shown sample's prediction appears in one of three
views, switched in one click:

- ``side by side``: image + ground truth | image + prediction | image + error map, placed
  next to each other in the one canvas (translated along x), so a single camera moves all
  three together;
- ``overlay``: the prediction drawn as contours over the ground truth;
- ``error map``: correct / missed / extra / wrong class over the image.

Scores are computed from the current masks, so they follow edits of the ground truth.
"""

from __future__ import annotations

import numpy as np
from napari.layers import Image, Labels, Layer
from psygnal import Signal

from segviewer._napari.layers import META_KEY, _colormap, segviewer_meta
from segviewer._napari.session import VIEW_ROLES, ViewerSession
from segviewer.core.colors import ERROR_COLORS, class_color
from segviewer.core.sample import Dataset
from segviewer.core.scores import Scores, error_map, score_sample

MODES = ("side by side", "overlay", "error map")
GAP = 0.04  # space between the side-by-side panels, as a fraction of the image width


class Predictions:
    """The predicted labels of each sample and the layers showing the shown sample's."""

    changed = Signal()  # predictions were added or removed

    def __init__(self, session: ViewerSession):
        self.session = session
        self.labels: dict[tuple[Dataset, int], np.ndarray] = {}
        self.model_name: str | None = None
        self.classes: list[str] = []
        self.mode = MODES[0]
        session.sample_changed.connect(self.show_layers)

    # -- data ---------------------------------------------------------------------------------
    def start(self, model_name: str, classes: list[str]) -> None:
        """A new model run: earlier predictions (of another model) are dropped."""
        if model_name != self.model_name or classes != self.classes:
            self.labels.clear()
        self.model_name, self.classes = model_name, list(classes)

    def add(self, dataset: Dataset, index: int, labels: np.ndarray) -> None:
        self.labels[dataset, index] = labels
        if (dataset, index) == (self.session.dataset, self.session.index):
            self.show_layers()
        self.changed.emit()

    def shown_labels(self) -> np.ndarray | None:
        return self.labels.get((self.session.dataset, self.session.index))

    def scores(self, dataset: Dataset, index: int) -> Scores | None:
        """Scores of a predicted sample against its current (maybe edited) masks."""
        labels = self.labels.get((dataset, index))
        if labels is None:
            return None
        sample = self.session.sample if (dataset, index) == self._shown() else dataset.sample(index)
        return score_sample(sample.masks, labels, sample.ignore)

    def predicted_indices(self, dataset: Dataset) -> list[int]:
        return sorted(index for owner, index in self.labels if owner is dataset)

    def _shown(self) -> tuple[Dataset | None, int | None]:
        return self.session.dataset, self.session.index

    # -- layers -------------------------------------------------------------------------------
    def update_errors(self) -> None:
        """Recompute the error map after the ground truth was edited."""
        labels, sample = self.shown_labels(), self.session.sample
        for layer in self.view_layers():
            if segviewer_meta(layer)["role"] == "errors" and labels is not None:
                layer.data = error_map(sample.masks, labels, sample.ignore)

    def set_mode(self, mode: str) -> None:
        self.mode = mode
        self.show_layers()

    def view_layers(self) -> list[Layer]:
        return [
            layer
            for layer in self.session.viewer.layers
            if (segviewer_meta(layer) or {}).get("role") in VIEW_ROLES
        ]

    def show_layers(self) -> None:
        """(Re)build the prediction layers of the shown sample in the current mode."""
        viewer = self.session.viewer
        for layer in self.view_layers():
            viewer.layers.remove(layer)
        labels, sample = self.shown_labels(), self.session.sample
        if labels is None or sample is None:
            return
        ground_truth = self.session.shown_layers()
        meta = dict(segviewer_meta(ground_truth[0]))
        scale = np.asarray(sample.scale or (1.0,) * labels.ndim)
        width = labels.shape[-1] * scale[-1]
        shift = np.zeros(labels.ndim)
        shift[-1] = width * (1 + GAP)
        side_by_side = self.mode == "side by side"
        errors = error_map(sample.masks, labels, sample.ignore)
        layers = []
        if side_by_side:
            layers.append(self._image_view(sample, meta, "image (prediction)", shift))
        prediction = Labels(
            labels,
            name="prediction",
            colormap=_colormap({c + 1: class_color(c) for c in range(len(self.classes) - 1)}),
            opacity=0.6 if side_by_side else 1.0,
            scale=scale,
            translate=shift if side_by_side else None,
            metadata={META_KEY: {**meta, "role": "prediction", "class": None}},
        )
        if self.mode == "overlay":
            prediction.contour = 2
        if self.mode != "error map":
            layers.append(prediction)
        if self.mode != "overlay":
            if side_by_side:
                layers.append(self._image_view(sample, meta, "image (errors)", 2 * shift))
            layers.append(
                Labels(
                    errors,
                    name="errors",
                    colormap=_colormap(ERROR_COLORS),
                    opacity=1.0,
                    scale=scale,
                    translate=2 * shift if side_by_side else None,
                    metadata={META_KEY: {**meta, "role": "errors", "class": None}},
                )
            )
        for layer in layers:
            viewer.add_layer(layer)
        if ground_truth:
            viewer.layers.selection.active = self.session.class_layers()[0]
        if side_by_side:
            viewer.reset_view()

    def _image_view(self, sample, meta: dict, name: str, translate: np.ndarray) -> Image:
        """Another view of the sample's image (the same array, not a copy)."""
        original = self.session.shown_layers()[0]
        return Image(
            sample.image,
            name=name,
            rgb=sample.rgb,
            scale=sample.scale,
            translate=translate,
            contrast_limits=original.contrast_limits,
            colormap=original.colormap,
            metadata={META_KEY: {**meta, "role": "view", "class": None}},
        )
