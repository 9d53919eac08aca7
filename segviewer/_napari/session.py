"""The napari side of a Workspace: which layers show its sample, and napari events → verbs.

The viewer shows one sample at a time: its image and one Labels layer per class, whose data
are the sample's own mask arrays held by the Workspace. Painting goes through the Workspace
(see edits.py); workspace events refresh the layers. Layers carry only ids in metadata.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Sequence

import napari
import numpy as np
from napari.layers import Layer
from napari.utils.notifications import show_error, show_warning
from psygnal import Signal
from qtpy.QtCore import QTimer

from segviewer._napari import display_modes, region_marker, view_3d
from segviewer._napari.edits import EditController
from segviewer._napari.layers import (
    dataset_of,
    forget,
    reuse_layers,
    sample_layer_data,
    sample_offset,
    segviewer_meta,
    update_conflicts_layer,
)
from segviewer._napari.partial_refresh import refresh_region
from segviewer.core.data.sample import Dataset, Sample
from segviewer.core.editing.atoms import Region
from segviewer.core.editing.combinations import CombinationOrder
from segviewer.core.errors import SegviewerError
from segviewer.core.io.readers import open_dataset
from segviewer.core.jobs import EngineSpec
from segviewer.core.workspace import EditScope, Workspace

DEFAULT_AXIS_NAMES = ("t", "z", "y", "x")
VIEW_ROLES = ("prediction", "errors", "view")  # layers that show a model's predictions


class ViewerSession:
    """The layers of one viewer over its Workspace (``session.workspace``)."""

    dataset_added = Signal(object)  # Dataset
    sample_changed = Signal()  # another sample (or dataset) is shown
    # masks changed (stroke, fill, undo, redo, rule); carries the (dataset, index) pairs an
    # edit touched
    edited = Signal(list)

    def __init__(self, viewer: napari.Viewer, workspace: Workspace | None = None):
        self.viewer = viewer
        self.workspace = workspace or Workspace()
        self._switching = False
        # where dataset jobs run: a local Dask cluster (small jobs in napari) or an address
        self.engine_spec = EngineSpec()
        self.edits = EditController(self)
        self._connected: weakref.WeakSet[Layer] = weakref.WeakSet()
        # the shown sample's conflict combinations, in the order they get colours
        self.combinations = CombinationOrder()
        self.display_modes = dict(display_modes.DEFAULTS)  # how background/conflicts are drawn
        self.workspace.opened.connect(self.dataset_added.emit)
        self.workspace.edited.connect(self._on_edited)
        self.workspace.closed.connect(self._on_closed)
        viewer.layers.events.inserted.connect(self._on_layer_inserted)
        # before napari slices for the new view: no outline is computed for 3D
        viewer.dims.events.ndisplay.connect(self._on_ndisplay, position="first")
        for layer in list(viewer.layers):
            self._adopt(layer)

    # -- what is shown (the workspace's state) --------------------------------------------
    @property
    def datasets(self) -> list[Dataset]:
        return self.workspace.datasets

    @property
    def dataset(self) -> Dataset | None:
        return self.workspace.dataset

    @property
    def index(self) -> int | None:
        return self.workspace.index

    @property
    def sample(self) -> Sample | None:
        """The sample whose arrays the shown layers display (and edits change)."""
        return self.workspace.sample

    @property
    def derived(self):
        """The shown sample's derived background and conflicts (core.editing.derived)."""
        return self.workspace.derived

    def tallies(self, dataset: Dataset):
        return self.workspace.tallies(dataset)

    def shown_tally(self):
        return self.workspace.tally()

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
        self.workspace.add(dataset, show=None)
        return self.show(dataset, index)

    def open_tile(self, big, box: tuple[slice, ...]) -> bool:
        """Box ``box`` of big sample ``big`` as an editable dataset, drawn over the big
        sample's own layers at its place; False (and a notification) on bad input."""
        try:
            dataset = self.workspace.open_tile(big, box)
        except SegviewerError as error:
            show_error(str(error))
            return False
        return self.show(dataset, 0)

    def show(self, dataset: Dataset, index: int) -> bool:
        """Show ``dataset[index]`` in the workspace, in the shown layers (their data swapped
        when the sample has the same classes and dimensions: napari's add and remove of a
        layer cost ~0.2 s each) or in new ones."""
        self.edits.flush()  # strokes still queued belong to the sample shown now
        old_shape = self.sample.spatial_shape if self.sample is not None else None
        try:
            self.workspace.show(index, dataset)
            self.combinations = CombinationOrder(self.derived.conflicts)
            data = sample_layer_data(
                dataset, index, self.sample, self.derived, self.combinations, self.display_modes
            )
        except SegviewerError as error:
            show_error(str(error))
            return False
        region_marker.clear(self.viewer)
        if len(self.sample.spatial_shape) < self.viewer.dims.ndisplay:
            self.viewer.dims.ndisplay = 2  # a 2D sample after a volume shown in 3D
        shown = self.shown_layers()
        self._switching = True
        try:
            if not reuse_layers(shown, data):
                self._replace_layers(shown, data)
        finally:
            self._switching = False
        self._draw_for_view()
        self._name_axes()
        if self.sample.spatial_shape != old_shape and sample_offset(self.sample) is None:
            self.viewer.reset_view()  # (a tile stays where the user zoomed in)
        self._select_first_class()
        for warning in self.sample.warnings:
            show_warning(warning)
        self.sample_changed.emit()
        return True

    def _replace_layers(self, shown: list[Layer], data: list) -> None:
        kept = {layer.name: (layer.visible, layer.opacity) for layer in shown}
        for layer in shown:
            self.viewer.layers.remove(layer)
        for layer in (Layer.create(*item) for item in data):
            if segviewer_meta(layer)["role"] == "class" and layer.name in kept:
                layer.visible, layer.opacity = kept[layer.name]
            self.viewer.add_layer(layer)
            self._connect(layer)

    def _name_axes(self) -> None:
        """Name the slider axes: anatomical directions for NIfTI, else z, y, x."""
        names = self.sample.axis_names or DEFAULT_AXIS_NAMES[-len(self.sample.spatial_shape) :]
        if len(names) == self.viewer.dims.ndim and tuple(self.viewer.dims.axis_labels) != names:
            self.viewer.dims.axis_labels = names

    def close(self, dataset: Dataset) -> None:
        """Close ``dataset`` (the caller asks first if it has unsaved edits)."""
        self.edits.flush()
        for layer in self.shown_layers():
            if dataset_of(layer) is dataset:
                self.viewer.layers.remove(layer)
        self.workspace.close(dataset)
        if self.workspace.dataset is not None:
            self.show(self.workspace.dataset, self.workspace.index)
        else:
            self.sample_changed.emit()

    def focus(self, bbox: tuple[slice, ...], centre: tuple[float, ...]) -> None:
        """Centre the view on ``centre`` (pixel coordinates), showing ~8× the box around it."""
        sample = self.sample
        offset = np.asarray(sample_offset(sample) or (0,) * len(centre))
        bbox = tuple(slice(s.start + o, s.stop + o) for s, o in zip(bbox, offset, strict=True))
        scale = np.asarray(sample.scale or (1.0,) * len(centre))
        world = (np.asarray(centre) + offset) * scale
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
        region_marker.outline(self.viewer, bbox, scale, displayed, self.viewer.dims.point)

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
        """Take over a layer that napari's reader or sample-data hook added."""
        meta, dataset = segviewer_meta(layer), dataset_of(layer)
        if meta is None or meta["role"] in VIEW_ROLES or dataset is None:
            return  # predictions manage their own layers
        index = meta["index"]
        if (dataset, index) != (self.dataset, self.index):
            # A new sample arrived: the viewer shows one sample at a time.
            stale = [
                other for other in self.shown_layers() if _sample_key(other) != (dataset, index)
            ]
            for old in stale:
                self.viewer.layers.remove(old)
            self.workspace.add(dataset, show=None)
            self.workspace.show(index, dataset)
        self._rebind(layer, meta)
        self._connect(layer)
        _drop_duplicate_suffix(self.viewer, layer)
        view_3d.apply([(layer, meta["role"])], self.viewer.dims.ndisplay, self.display_modes)
        if meta["role"] == "conflicts":  # a sample's last layer; napari selects it after us
            self.combinations = CombinationOrder(self.derived.conflicts)
            self._name_axes()
            QTimer.singleShot(0, self._select_first_class)
        self.sample_changed.emit()

    def _rebind(self, layer: Layer, meta: dict) -> None:
        """Make an adopted layer display the workspace's own arrays."""
        arrays = {
            "class": lambda: self.sample.masks[meta["class"]],
            "background": lambda: self.derived.background,
            "conflicts": lambda: self.derived.conflicts,
        }
        if meta["role"] in arrays and layer.data is not arrays[meta["role"]]():
            layer.data = arrays[meta["role"]]()

    def _select_first_class(self) -> None:
        """Make the first class layer active, ready to paint."""
        if self.class_layers():
            self.viewer.layers.selection.active = self.class_layers()[0]

    def _connect(self, layer: Layer) -> None:
        if layer not in self._connected:
            self._connected.add(layer)
            self.edits.connect(layer)

    # -- workspace events -------------------------------------------------------------------
    def _on_edited(self, scope: EditScope) -> None:
        """Redraw what an edit changed (undo lives in the Workspace, not in the layers)."""
        shown = [layer for layer in self.shown_layers() if _sample_key(layer) in scope.samples]
        only_shown = shown and len(scope.samples) == 1
        if shown:
            region, conflicts = scope.region if only_shown else None, self.derived.conflicts
            self.colour_combinations(conflicts if region is None else conflicts[tuple(region)])
        self.refresh_layers(scope.region if only_shown else None)
        self.edited.emit(list(scope.samples))

    def colour_combinations(self, values: np.ndarray) -> None:
        """Give the combinations among conflicts ``values`` that have none (an edit made
        them) their own colour and name."""
        if self.combinations.note(values):
            for layer in self._layers_with_role("conflicts"):
                update_conflicts_layer(layer, self.combinations, self.sample.class_names)

    def set_display_mode(self, role: str, mode: str) -> None:
        """Draw the ``background`` or ``conflicts`` layer as a tint, outline, … (display_modes)."""
        self.display_modes[role] = mode
        self._draw_for_view()

    def _on_ndisplay(self, _event=None) -> None:
        self._draw_for_view()
        if self.viewer.dims.ndisplay == 3:  # look at the volume at an angle, in this event
            _camera(self.viewer).angles = view_3d.CAMERA_ANGLES  # (one 3D frame drawn, not two)
            self.viewer.fit_to_view()

    def _draw_for_view(self) -> None:
        """Draw the shown layers for the 2D or 3D view and the display modes."""
        layers = [(layer, segviewer_meta(layer)["role"]) for layer in self.shown_layers()]
        view_3d.apply(layers, self.viewer.dims.ndisplay, self.display_modes)

    def _on_closed(self, dataset: Dataset) -> None:
        forget(dataset)

    def refresh_layers(self, region: Region | None = None) -> None:
        """Redraw the shown sample's mask and derived layers after their arrays changed,
        only inside ``region`` when given (a stroke's box)."""
        for layer in self._layers_with_role("background", "class", "conflicts"):
            if region is None or not refresh_region(layer, region):
                layer.refresh()


def _drop_duplicate_suffix(viewer, layer: Layer) -> None:
    """napari names a layer "sample_000 [1]" when one of that name exists; once the old
    sample's layers are gone, give the name back."""
    name = re.sub(r" \[\d+\]$", "", layer.name)
    if name != layer.name and name not in [other.name for other in viewer.layers]:
        layer.name = name


def _sample_key(layer: Layer) -> tuple[Dataset | None, int]:
    return dataset_of(layer), segviewer_meta(layer)["index"]


def _camera(viewer: napari.Viewer):
    """The viewer's camera (``viewer.scene.camera`` since napari 0.9, ``viewer.camera`` before)."""
    return getattr(viewer, "scene", viewer).camera
