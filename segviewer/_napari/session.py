"""Which datasets are open in a viewer and which sample it shows; no Qt widgets here.

The viewer shows one sample at a time: its image and one Labels layer per class, whose
data are the sample's own mask arrays. Painting edits the sample in place; the session
marks it modified so the dataset keeps it in memory until it is saved.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence

import napari
import numpy as np
from napari.layers import Layer
from napari.utils.notifications import show_error, show_warning
from psygnal import Signal
from qtpy.QtCore import QTimer

from segviewer._napari.edits import EditController
from segviewer._napari.layers import sample_layer_data, segviewer_meta
from segviewer.core.data.sample import Dataset, Sample
from segviewer.core.errors import SegviewerError
from segviewer.core.io.readers import open_dataset
from segviewer.core.stats.classes import TallyTable, tally

VIEW_ROLES = ("prediction", "errors", "view")  # layers that show a model's predictions


class ViewerSession:
    """The open datasets of one viewer and the sample it shows."""

    dataset_added = Signal(object)  # Dataset
    sample_changed = Signal()  # another sample (or dataset) is shown
    # masks changed (stroke, fill, undo, redo, rule); carries the (dataset, index) pairs an
    # edit touched besides the shown sample
    edited = Signal(list)

    def __init__(self, viewer: napari.Viewer):
        self.viewer = viewer
        self.datasets: list[Dataset] = []
        # Per dataset, the tally of every counted sample; edits keep them exact.
        self.tallies: dict[Dataset, TallyTable] = {}
        self.dataset: Dataset | None = None
        self.index: int | None = None
        self._switching = False
        self.edits = EditController(self)
        # Layers of edited samples are kept and re-shown, so napari's undo history survives
        # switching samples.
        self._kept_layers: dict[tuple[Dataset, int], list[Layer]] = {}
        self._connected: weakref.WeakSet[Layer] = weakref.WeakSet()
        viewer.layers.events.inserted.connect(self._on_layer_inserted)
        for layer in list(viewer.layers):
            self._adopt(layer)

    # -- what is shown ----------------------------------------------------------------------
    @property
    def sample(self) -> Sample | None:
        """The sample whose arrays the shown layers display (and edits change)."""
        shown = self.shown_layers()
        return segviewer_meta(shown[0])["sample"] if shown else None

    @property
    def derived(self):
        """The shown sample's derived background and conflicts (core.derived.DerivedLayers)."""
        shown = self.shown_layers()
        return segviewer_meta(shown[0])["derived"] if shown else None

    def shown_layers(self) -> list[Layer]:
        """The shown sample's image, background, class and conflicts layers."""
        return [
            layer
            for layer in self.viewer.layers
            if segviewer_meta(layer) is not None and segviewer_meta(layer)["role"] not in VIEW_ROLES
        ]

    def class_layers(self) -> list[Layer]:
        return self._layers_with_role("class")

    def _layers_with_role(self, *roles: str) -> list[Layer]:
        return [layer for layer in self.shown_layers() if segviewer_meta(layer)["role"] in roles]

    # -- opening ------------------------------------------------------------------------------
    def open(self, paths: str | Sequence[str]) -> bool:
        """Open files or folders as one dataset and show its first sample; False on bad input."""
        try:
            dataset = open_dataset(paths)
        except SegviewerError as error:
            show_error(str(error))
            return False
        return self.add_dataset(dataset)

    def add_dataset(self, dataset: Dataset, index: int = 0) -> bool:
        self._add(dataset)
        return self.show(dataset, index)

    def _add(self, dataset: Dataset) -> None:
        if dataset not in self.datasets:
            self.datasets.append(dataset)
            self.tallies[dataset] = TallyTable(dataset.names)
            self.dataset_added.emit(dataset)

    def show(self, dataset: Dataset, index: int) -> bool:
        """Replace the shown sample's layers with those of ``dataset[index]``."""
        self.edits.flush()  # strokes still queued belong to the sample shown now
        layers = self._kept_layers.get((dataset, index))
        if layers is None:
            try:
                layers = [Layer.create(*data) for data in sample_layer_data(dataset, index)]
            except SegviewerError as error:
                show_error(str(error))
                return False
        kept = {layer.name: (layer.visible, layer.opacity) for layer in self.shown_layers()}
        old_shape = self.sample.spatial_shape if self.sample is not None else None
        self._switching = True
        try:
            for layer in self.shown_layers():
                self.viewer.layers.remove(layer)
            for layer in layers:
                if layer.name in kept and segviewer_meta(layer)["role"] != "image":
                    layer.visible, layer.opacity = kept[layer.name]
                self.viewer.add_layer(layer)
                self._connect(layer)
        finally:
            self._switching = False
        self.dataset, self.index = dataset, index
        self._count_shown()
        if self.sample.spatial_shape != old_shape:
            self.viewer.reset_view()
        self._select_first_class()
        for warning in self.sample.warnings:
            show_warning(warning)
        self.sample_changed.emit()
        return True

    def focus(self, bbox: tuple[slice, ...], centre: tuple[float, ...]) -> None:
        """Centre the view on ``centre`` (pixel coordinates), showing ~8× the box around it."""
        sample = self.sample
        scale = np.asarray(sample.scale or (1.0,) * len(centre))
        world = np.asarray(centre) * scale
        displayed = list(self.viewer.dims.displayed)
        for axis in range(len(centre)):
            if axis not in displayed:
                self.viewer.dims.set_point(axis, world[axis])
        camera = _camera(self.viewer)
        self.viewer.reset_view()
        fit = camera.zoom
        extent = max(max((s.stop - s.start) * 8, 96) for s in (bbox[a] for a in displayed))
        field = max(sample.spatial_shape[a] for a in displayed)
        camera.center = tuple(world[a] for a in displayed)
        camera.zoom = fit * max(1.0, field / extent)

    def step(self, offset: int) -> bool:
        """Show the sample ``offset`` places away (wrapping around); False if none is shown."""
        if self.dataset is None or self.index is None:
            return False
        return self.show(self.dataset, (self.index + offset) % len(self.dataset))

    # -- layers that napari added (File > Open, Open Sample) ---------------------------------
    def _on_layer_inserted(self, event) -> None:
        if not self._switching:
            self._adopt(event.value)

    def _adopt(self, layer: Layer) -> None:
        meta = segviewer_meta(layer)
        if meta is None or meta["role"] in VIEW_ROLES:  # predictions manage their own layers
            return
        dataset, index = meta["dataset"], meta["index"]
        if (dataset, index) != (self.dataset, self.index):
            # A new sample arrived: the viewer shows one sample at a time.
            stale = [
                other for other in self.shown_layers() if _sample_key(other) != (dataset, index)
            ]
            for old in stale:
                self.viewer.layers.remove(old)
            self._add(dataset)
            self.dataset, self.index = dataset, index
        self._connect(layer)
        self._count_shown()
        if meta["role"] == "conflicts":  # a sample's last layer; napari selects it after us
            QTimer.singleShot(0, self._select_first_class)
        self.sample_changed.emit()

    def _select_first_class(self) -> None:
        """Make the first class layer active, ready to paint."""
        if self.class_layers():
            self.viewer.layers.selection.active = self.class_layers()[0]

    def _connect(self, layer: Layer) -> None:
        if layer not in self._connected:
            self._connected.add(layer)
            self.edits.connect(layer)

    # -- what edits need --------------------------------------------------------------------
    def mark_modified(self, dataset: Dataset, index: int, sample: Sample | None = None) -> None:
        """Keep an edited sample (and its layers, with their history) until it is saved."""
        shown = [layer for layer in self.shown_layers() if _sample_key(layer) == (dataset, index)]
        if shown:
            dataset.mark_modified(index, segviewer_meta(shown[0])["sample"])
            self._kept_layers[dataset, index] = shown
        else:
            dataset.mark_modified(index, sample)

    def recount(self, dataset: Dataset, index: int, sample: Sample | None = None) -> None:
        """Count a sample again from its masks (after a rule changed it)."""
        sample = sample or dataset.sample(index)
        self.tallies[dataset].set(index, sample.class_names, tally(sample.masks, sample.ignore))

    def shown_tally(self):
        """The shown sample's tally: kept exact by edits, or counted now if the dataset table
        cannot hold it (its classes differ from the dataset's first sample)."""
        table, sample = self.tallies[self.dataset], self.sample
        if table.known[self.index]:
            return table.rows[self.index]
        return tally(sample.masks, sample.ignore)

    def _count_shown(self) -> None:
        """The shown sample's tally, counted once; edits keep it exact from then on."""
        if self.sample is not None and not self.tallies[self.dataset].known[self.index]:
            self.recount(self.dataset, self.index, self.sample)

    def derived_of(self, dataset: Dataset, index: int):
        """The derived layers' arrays of a sample that has layers, else None."""
        layers = self._kept_layers.get((dataset, index)) or [
            layer for layer in self.shown_layers() if _sample_key(layer) == (dataset, index)
        ]
        return segviewer_meta(layers[0])["derived"] if layers else None

    def refresh_layers(self) -> None:
        """Redraw the shown sample's mask and derived layers after their arrays changed."""
        for layer in self._layers_with_role("background", "class", "conflicts"):
            layer.refresh()


def _sample_key(layer: Layer) -> tuple[Dataset, int]:
    meta = segviewer_meta(layer)
    return meta["dataset"], meta["index"]


def _camera(viewer: napari.Viewer):
    """The viewer's camera (``viewer.scene.camera`` since napari 0.9, ``viewer.camera`` before)."""
    return getattr(viewer, "scene", viewer).camera
