"""A model's predictions beside the ground truth: layers, view modes and scores.

Predicted labels are kept per sample. The shown sample's prediction appears in one of three
views, switched in one click (or the V key):

- ``side by side``: two views, each titled, "ground truth" | "prediction", with the errors
  outlined in the prediction. The prediction's layers are translated along x in the one
  canvas, so one camera pans and zooms both (napari's grid mode would also link them, but
  puts every layer group in its own cell and has no titles; ours are a text layer);
- ``overlay``: the prediction drawn as contours over the ground truth;
- ``error map``: missed / extra / wrong class over the image.

Both views draw the background and classes the same way. Layers not shown sit at the
origin, so napari's Home fits what is shown. At the default zoom an image may have several
pixels per screen pixel: errors are then drawn enlarged so that a 1-pixel error still shows.

Scores are computed from the current masks, so they follow edits of the ground truth.
"""

from __future__ import annotations

import math

import numpy as np
from napari.layers import Image, Labels, Layer, Points
from psygnal import Signal
from qtpy.QtCore import QTimer
from scipy import ndimage

from segviewer._napari import display_modes
from segviewer._napari.layers import META_KEY, _colormap, named_values
from segviewer._napari.session import ViewerSession
from segviewer.core.colors import BACKGROUND_COLOR, ERROR_COLORS, class_color
from segviewer.core.data.sample import Dataset
from segviewer.core.model.scores import ERROR_NAMES, Scores, error_map, score_sample
from segviewer.core.workspace import Prediction

MODES = ("side by side", "overlay", "error map")
GAP = 0.04  # space between the side-by-side views, as a fraction of the image width
TITLE_LIFT = 0.03  # titles sit above each view, by this fraction of the image height
TITLES = ("ground truth", "prediction (errors outlined)")
# the view layers, in the order they are stacked, and their roles
VIEW_LAYERS = {
    "image (prediction)": "view",
    "background (prediction)": "view",
    "prediction": "prediction",
    "errors": "errors",
    "view titles": "view",
}
# A 1 ms timer, not 0: Qt runs a chain of zero-timers back to back, before its other timers
# and events get their turn, so the steps would still block the window together.
NEXT_TURN_MS = 1


class Predictions:
    """The predicted labels of each sample and the layers showing the shown sample's."""

    changed = Signal()  # predictions were added or removed

    def __init__(self, session: ViewerSession):
        self.session = session
        self.workspace = session.workspace  # holds the predictions themselves
        # computed from the masks as they were; dropped when an edit changes them
        self._errors: dict[tuple[Dataset, int], np.ndarray] = {}
        self._scores: dict[tuple[Dataset, int], Scores] = {}
        self.model_name: str | None = None
        self.classes: list[str] = []
        self.mode = MODES[0]
        self._layers: dict[str, Layer] = {}  # made once by prepare_layers
        self._steps: list = []  # layer updates still to run, one per event-loop turn
        self._adding: list[Layer] = []  # view layers still to add, one per event-loop turn
        session.sample_changed.connect(lambda: self.show_layers(stepwise=True))
        session.edited.connect(self._on_edited)

    # -- data ---------------------------------------------------------------------------------
    def start(self, model_name: str, classes: list[str]) -> None:
        """A new model run: earlier predictions (of another model) are dropped."""
        if model_name != self.model_name or classes != self.classes:
            self.workspace.predictions.clear()
            for cache in (self._errors, self._scores):
                cache.clear()
        self.model_name, self.classes = model_name, list(classes)
        if "prediction" in self._layers:
            self._layers["prediction"].colormap = self._class_colors()
            self._layers["prediction"].features = self._class_names()

    def _class_names(self) -> dict[str, list]:
        """Labels features naming each predicted value (0 is the background)."""
        return named_values(dict(enumerate(self.classes)), "predicted")

    def _class_colors(self):
        """The ground truth's class colours for labels 1..C."""
        return _colormap({c + 1: class_color(c) for c in range(len(self.classes) - 1)})

    @property
    def labels(self) -> dict[tuple[Dataset, int], np.ndarray]:
        """The predicted index labels of each predicted sample."""
        return {key: found.labels for key, found in self.workspace.predictions.items()}

    def add(
        self, dataset, index, labels, errors=None, scores=None, probabilities=None, revision=None
    ) -> None:
        """A sample's prediction (with its error map, scores and probabilities if known),
        made from the sample's edit ``revision``: if the sample was edited since, the error
        map and scores computed by the worker are stale and recomputed here."""
        key = (dataset, index)
        now = self.workspace.revision(index, dataset)
        revision = now if revision is None else revision
        self.workspace.add_prediction(
            dataset,
            index,
            Prediction(labels, probabilities, self.model_name or "", self.classes, revision),
        )
        if revision != now:
            errors = scores = None
        errors = self.workspace.prediction_files.keep(errors)  # on disk, as the labels
        for cache, value in ((self._errors, errors), (self._scores, scores)):
            if value is None:
                cache.pop(key, None)
            else:
                cache[key] = value
        if key == self._shown():
            self.show_layers(stepwise=True)
        self.changed.emit()

    def _on_edited(self, touched: list) -> None:
        for key in [self._shown(), *touched]:
            self.workspace.prediction_files.drop(self._errors.pop(key, None))
            self._scores.pop(key, None)

    def probabilities_of(self, dataset: Dataset, index: int) -> np.ndarray | None:
        return self.workspace.probabilities_of(dataset, index)

    def shown_labels(self) -> np.ndarray | None:
        return self.labels.get((self.session.dataset, self.session.index))

    def scores(self, dataset: Dataset, index: int) -> Scores | None:
        """Scores of a predicted sample against its current (maybe edited) masks."""
        key = (dataset, index)
        if key not in self._scores and key in self.labels:
            sample = self.session.sample if key == self._shown() else dataset.sample(index)
            self._scores[key] = score_sample(sample.masks, self.labels[key], sample.ignore)
        return self._scores.get(key)

    def shown_errors(self) -> np.ndarray | None:
        key, sample = self._shown(), self.session.sample
        if key not in self._errors and key in self.labels:
            self._errors[key] = error_map(sample.masks, self.labels[key], sample.ignore)
        return self._errors.get(key)

    def predicted_indices(self, dataset: Dataset) -> list[int]:
        return sorted(index for owner, index in self.labels if owner is dataset)

    def _shown(self) -> tuple[Dataset | None, int | None]:
        return self.session.dataset, self.session.index

    # -- layers -------------------------------------------------------------------------------
    def update_errors(self) -> None:
        """Recompute the error map after the ground truth was edited."""
        if self._shown() not in self._errors and "errors" in self._layers:
            errors = self.shown_errors()
            if errors is not None:
                self._layers["errors"].data = self._enlarged(errors)

    def set_mode(self, mode: str) -> None:
        self.mode = mode
        self.show_layers()
        self.session.viewer.reset_view()

    def next_mode(self) -> str:
        """Switch to the next view (side by side → overlay → error map → …)."""
        self.set_mode(MODES[(MODES.index(self.mode) + 1) % len(MODES)])
        return self.mode

    def view_layers(self) -> list[Layer]:
        return [layer for layer in self._layers.values() if layer in self.session.viewer.layers]

    def discard_layers(self) -> None:
        """Remove the view layers (a run that failed before any result leaves nothing)."""
        self._adding.clear()
        for layer in self.view_layers():
            self.session.viewer.layers.remove(layer)
        self._layers = {}

    def prepare_layers(self) -> None:
        """Create the view layers once, hidden, one per event-loop turn: napari's add_layer
        costs 70-170 ms each at 2048² (under Xvfb), so the window never waits for all of them
        at once. Results then only replace their data (~15 ms)."""
        sample, viewer = self.session.sample, self.session.viewer
        if sample is None or self._adding or len(self.view_layers()) == len(VIEW_LAYERS):
            return
        empty = np.zeros(sample.spatial_shape, np.uint8)
        self._layers = {
            "image (prediction)": Image(sample.image, name="image (prediction)", rgb=sample.rgb),
            "background (prediction)": Labels(
                empty.copy(),
                name="background (prediction)",
                colormap=_colormap({1: BACKGROUND_COLOR}),
                features=named_values({0: "a class (predicted)", 1: "background (predicted)"}),
            ),
            "prediction": Labels(
                empty,
                name="prediction",
                colormap=self._class_colors(),
                features=self._class_names(),
            ),
            "errors": Labels(
                empty.copy(),
                name="errors",
                colormap=_colormap(ERROR_COLORS),
                features=named_values(ERROR_NAMES, "error"),
            ),
            "view titles": _titles_layer(),
        }
        for name, layer in self._layers.items():
            layer.metadata[META_KEY] = {"role": VIEW_LAYERS[name]}
            layer.visible = False
        self._adding = list(self._layers.values())

        def add_next() -> None:
            if not self._adding:  # discarded meanwhile
                return
            viewer.add_layer(self._adding.pop(0))
            if self._adding:
                QTimer.singleShot(NEXT_TURN_MS, add_next)
            else:
                self.show_layers(stepwise=True)

        add_next()

    def show_layers(self, stepwise: bool = False) -> None:
        """Show the shown sample's prediction, if it has one, in the current mode.

        ``stepwise`` (while a run goes on) updates one layer per event-loop turn, so the
        window never waits for all the napari layer updates at once."""
        steps = self._layer_steps()
        self._steps = steps  # a newer call supersedes the steps of an older one
        if not stepwise:
            while steps:
                steps.pop(0)()
            return

        def run_next() -> None:
            if steps and self._steps is steps:
                steps.pop(0)()
                QTimer.singleShot(NEXT_TURN_MS, run_next)

        run_next()

    @property
    def updating(self) -> bool:
        """True while a stepwise update of the layers is still going on."""
        return bool(self._steps or self._adding)

    def enlargement(self) -> int:
        """Image pixels per screen pixel at the default zoom of the current mode (≥ 1): an
        error of one pixel is drawn this many pixels wide, so it shows."""
        sample = self.session.sample
        if sample is None:
            return 1
        scale = np.asarray(sample.scale or (1.0,) * len(sample.spatial_shape))
        height, width = (np.asarray(sample.spatial_shape) * scale)[-2:]
        if self.mode == "side by side":
            width *= 2 + GAP
            height *= 1 + 2 * TITLE_LIFT
        canvas = np.asarray(_canvas_size(self.session.viewer), float)
        zoom = 0.95 * min(canvas[0] / height, canvas[1] / width)  # as napari's Home fits
        return max(1, math.ceil(1 / (zoom * scale[-1]))) if zoom > 0 else 1

    def _enlarged(self, errors: np.ndarray) -> np.ndarray:
        size = self.enlargement()
        if size == 1:
            return errors
        footprint = (1,) * (errors.ndim - 2) + (size, size)
        return ndimage.maximum_filter(errors, size=footprint)

    def _park_layers(self) -> None:
        """Hide the view layers over the shown sample, at the origin: layers of another
        sample's size, or translated, would still count in napari's Home framing."""
        sample = self.session.sample
        # untouched zeros: the OS maps them to its one zero page, so they cost no memory
        # (napari breaks on a read-only np.broadcast_to array: its extent never updates)
        empty = None if sample is None else np.zeros(sample.spatial_shape, np.uint8)
        for name, layer in self._layers.items():
            if sample is None:
                _update(layer, visible=False)
            elif name == "image (prediction)":
                origin = np.zeros(len(sample.spatial_shape))
                _update(layer, visible=False, data=sample.image, translate=origin)
            elif name == "view titles":
                centre = np.asarray(sample.spatial_shape[-2:], float) / 2
                _update(layer, visible=False, data=np.tile(centre, (len(TITLES), 1)))
            else:
                _update(layer, visible=False, data=empty, translate=np.zeros(empty.ndim))

    def _layer_steps(self) -> list:
        """The updates that show the current prediction, as separate small steps."""
        if len(self.view_layers()) < len(VIEW_LAYERS):
            return []
        layers, viewer = self._layers, self.session.viewer
        labels, sample = self.shown_labels(), self.session.sample
        if labels is None or sample is None:
            return [self._park_layers]
        first_time = not any(layer.visible for layer in layers.values())
        scale = tuple(sample.scale or (1.0,) * labels.ndim)
        side_by_side = self.mode == "side by side"
        shift = np.zeros(labels.ndim)
        if side_by_side:
            shift[-1] = labels.shape[-1] * scale[-1] * (1 + GAP)
        original = self.session.shown_layers()[0]
        background_mode = self.session.display_modes["background"]

        def on_top() -> None:  # above the ground truth, in this order
            if list(viewer.layers)[-len(layers) :] != list(layers.values()):
                for layer in layers.values():
                    viewer.layers.move(viewer.layers.index(layer), len(viewer.layers))

        def image_view() -> None:
            layer = layers["image (prediction)"]
            layer.colormap = original.colormap
            _update(
                layer,
                data=sample.image,
                scale=scale,
                translate=shift,
                contrast_limits=original.contrast_limits,
                visible=side_by_side,
            )

        def background_view() -> None:
            layer = layers["background (prediction)"]
            _update(
                layer,
                data=(labels == 0).view(np.uint8),
                scale=scale,
                translate=shift,
                visible=side_by_side,
            )
            if side_by_side:
                display_modes.apply(layer, "background", background_mode)

        def prediction() -> None:
            _update(
                layers["prediction"],
                data=labels,
                scale=scale,
                translate=shift,
                contour=2 if self.mode == "overlay" else 0,
                opacity=0.6 if side_by_side else 1.0,
                visible=self.mode != "error map",
            )

        def errors() -> None:
            _update(
                layers["errors"],
                data=self._enlarged(self.shown_errors()),
                scale=scale,
                translate=shift,
                contour=1 if side_by_side else 0,
                visible=self.mode != "overlay",
            )

        def titles() -> None:  # 2D points: napari shows them on every slice of a volume
            points = np.tile(np.asarray(labels.shape[-2:], float) / 2 * scale[-2:], (2, 1))
            if side_by_side:
                points[:, 0] = -TITLE_LIFT * labels.shape[-2] * scale[-2]
                points[:, 1] += [0, shift[-1]]
            _update(layers["view titles"], data=points, visible=side_by_side)

        def finish() -> None:
            if first_time:
                viewer.reset_view()  # Home: what is shown, whole
            if self.session.class_layers():
                viewer.layers.selection.active = self.session.class_layers()[0]

        return [on_top, image_view, background_view, prediction, errors, titles, finish]


def _titles_layer() -> Points:
    """A text layer naming each side-by-side view (its points are not drawn). It is 2D
    for every sample: napari shows a 2D layer on every slice of a volume."""
    return Points(
        np.zeros((len(TITLES), 2)),
        name="view titles",
        size=0,
        visible=False,
        text={"string": list(TITLES), "color": "white", "size": 12, "anchor": "center"},
    )


def _canvas_size(viewer) -> tuple[int, int]:
    """The canvas (height, width) in screen pixels."""
    canvas = getattr(viewer, "canvas", None)
    size = getattr(canvas, "size", None)
    return tuple(size) if size is not None else tuple(viewer._canvas_size)


def _update(layer: Layer, **values) -> None:
    """Set only what changed: every napari property change costs events and a redraw."""
    for name, value in values.items():
        current = getattr(layer, name)
        same = (
            current is value
            if name == "data"
            else np.array_equal(np.asarray(current), np.asarray(value))
        )
        if not same:
            setattr(layer, name, value)
            if name == "data" and not layer.visible and hasattr(layer, "_clear_extent"):
                layer._clear_extent()  # napari (0.9) leaves a hidden layer's extent stale
