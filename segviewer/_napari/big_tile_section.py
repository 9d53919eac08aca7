"""The Edit page's section for a big sample (OME-Zarr) shown by napari's reader: edit the
area in view at full resolution as a tile (an ordinary sample over the big layers), then
save it back into the store, only the chunks that changed (core.io.big_edits). A big
volume shown slice by slice opens as a slab: the area in view on TILE_DEPTH slices around
the one shown (fewer where the area is wide)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from napari.layers import Image
from napari.utils.notifications import show_error, show_info
from qtpy.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget
from superqt import QFlowLayout

from segviewer._napari.background_work import run_in_thread
from segviewer._napari.session import ViewerSession
from segviewer.core.errors import SegviewerError
from segviewer.core.io import big_edits
from segviewer.core.io.big import open_big
from segviewer.core.io.big_edits import check_box, check_editable

WHOLE = " (whole sample)"
TILE_DEPTH = 16  # slices of a big volume opened around the one shown
BIG_KEY = "segviewer_big"  # the metadata key of the reader's big layers (their store)
HELP = (
    "Zoom in on a big sample, then <b>Edit the area in view</b>: it opens at full "
    "resolution as a sample of its own, drawn in place. Paint, apply rules and undo as on "
    "any sample; <b>Save into the store</b> writes back only the chunks that changed."
)


def big_image_layer(viewer):
    """The image layer of a big sample the reader added, or None."""
    return next(
        (
            layer
            for layer in viewer.layers
            if BIG_KEY in layer.metadata and isinstance(layer, Image) and layer.multiscale
        ),
        None,
    )


def visible_box(viewer, layer) -> tuple[slice, ...]:
    """The level-0 box of ``layer`` that the canvas shows (from the camera and the canvas
    size, so it holds before the canvas draws), clipped to the sample; for a volume, a slab
    around the slice shown (see the module's docstring)."""
    camera = getattr(viewer, "scene", viewer).camera
    half = np.asarray(viewer.canvas.size, float) / (2 * camera.zoom)  # (height, width)
    centre = np.asarray(camera.center, float)[-2:]
    scale, translate = np.asarray(layer.scale), np.asarray(layer.translate)
    shape = np.asarray(layer.data[0].shape)
    low = np.floor((centre - half - translate[-2:]) / scale[-2:]).astype(int)
    high = np.ceil((centre + half - translate[-2:]) / scale[-2:]).astype(int)
    low, high = np.clip(low, 0, shape[-2:]), np.clip(high, 0, shape[-2:])
    plane = tuple(slice(int(a), int(b)) for a, b in zip(low, high, strict=True))
    area = max(1, int(np.prod(high - low)))
    depth = max(1, min(TILE_DEPTH, big_edits.MAX_TILE_PIXELS // area))
    first_world_axis = viewer.dims.ndim - layer.ndim
    slab = []
    for axis in range(layer.ndim - 2):  # the slice shown, and a slab on the last such axis
        point = viewer.dims.point[first_world_axis + axis]
        at = int(np.round((point - translate[axis]) / scale[axis]))  # as napari slices
        size = min(depth, int(shape[axis])) if axis == layer.ndim - 3 else 1
        start = min(max(at - size // 2, 0), int(shape[axis]) - size)
        slab.append(slice(start, start + size))
    return (*slab, *plane)


def shows_plane_of(viewer, layer) -> bool:
    """Whether napari shows ``layer`` as 2D slices of its last two axes (not transposed)."""
    order = tuple(viewer.dims.order)
    last = (viewer.dims.ndim - 2, viewer.dims.ndim - 1)
    return viewer.dims.ndisplay == 2 and order[-2:] == last and layer.ndim >= 2


class BigTileSection(QWidget):
    def __init__(self, session: ViewerSession):
        super().__init__()
        self.session = session
        self.saving = False  # a save into the store is running
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.title = QLabel()
        layout.addWidget(self.title)
        buttons = QFlowLayout()
        self.edit_button = QPushButton(
            "Edit the area in view", toolTip="Open the visible area at full resolution to edit"
        )
        self.save_button = QPushButton(
            "Save into the store", toolTip="Write the tile's edits into the big sample's store"
        )
        self.edit_button.clicked.connect(self.edit_view)
        self.save_button.clicked.connect(self.save)
        buttons.addWidget(self.edit_button)
        buttons.addWidget(self.save_button)
        layout.addLayout(buttons)
        layout.addWidget(QLabel(HELP, wordWrap=True, styleSheet="color: gray"))
        events = session.viewer.layers.events
        events.inserted.connect(self.refresh)
        events.removed.connect(self.refresh)
        session.sample_changed.connect(self.refresh)
        session.edited.connect(self.refresh)
        self.refresh()

    def refresh(self, _event=None) -> None:
        layer = big_image_layer(self.session.viewer)
        self.setVisible(layer is not None)
        if layer is None:
            return
        store = layer.metadata[BIG_KEY]
        self.title.setText(f"<b>Big sample</b>: {Path(store).name}")
        self.edit_button.setEnabled(not self.saving)
        self.save_button.setEnabled(
            not self.saving and self.session.workspace.tile_of() is not None
        )
        self._step_aside(store, self._has_tile(store))

    def _has_tile(self, store: str) -> bool:
        """Whether a tile of ``store`` is open (its whole-sample layers then step aside)."""
        return any(str(big.path) == store for big, _ in self.session.workspace.tiles.values())

    def edit_view(self) -> None:
        """Open the area in view as a tile (refused on one line when it is too big)."""
        layer = big_image_layer(self.session.viewer)
        if layer is None or self.saving:
            return
        try:
            big = open_big(Path(layer.metadata[BIG_KEY]))
            viewer = self.session.viewer
            if not shows_plane_of(viewer, layer) or layer.ndim != len(big.shape):
                raise SegviewerError(
                    f"{big.path}: show the big sample in 2D, axes not transposed, to edit an "
                    "area of it"
                )
            box = visible_box(self.session.viewer, layer)
            check_editable(big)
            check_box(big, box)
        except SegviewerError as error:
            show_error(str(error))
            return
        store = str(big.path)
        self._step_aside(store, True)  # first, so that the tile's layers get the class names
        self.session.open_tile(big, box)
        self._step_aside(store, self._has_tile(store))

    def _step_aside(self, store: str, aside: bool) -> None:
        """Hide the whole sample's mask layers (the tile's own are drawn in their place and
        are the ones edited) and rename them, so the tile's layers keep the class names;
        or (``aside`` False) bring them back. Only where the state changes."""
        for layer in self.session.viewer.layers:
            if layer.metadata.get(BIG_KEY) != store or isinstance(layer, Image):
                continue
            if aside != layer.name.endswith(WHOLE):
                base = layer.name.removesuffix(WHOLE)
                layer.visible = not aside and base != "background"
                layer.name = base + WHOLE if aside else base

    def save(self) -> None:
        """Write the shown tile into its store, in a thread (Edit and Save wait for it);
        refresh the big layers."""
        workspace = self.session.workspace
        if workspace.tile_of() is None or self.saving:
            return
        self.session.edits.flush()
        try:
            job = workspace.prepare_tile_save()
        except SegviewerError as error:
            show_error(str(error))
            return

        def write():
            try:
                return job.run()
            except Exception as error:  # reported on one line, never lost
                return error

        self.saving = True
        self.refresh()
        run_in_thread(
            ("save tile", id(job.dataset)), write, lambda r: self._saved(job, r), job.masks.size
        )

    def _saved(self, job, result) -> None:
        self.saving = False
        self.refresh()
        if isinstance(result, Exception):
            reason = str(result) if isinstance(result, SegviewerError) else repr(result)
            show_error(f"{reason} (the edits are still here, unsaved)")
            return
        self.session.workspace.finish_tile_save(job)
        _forget_cached_chunks()
        for layer in self.session.viewer.layers:
            if layer.metadata.get(BIG_KEY) == str(job.big.path):
                layer.refresh()
        show_info(f"{job.big.path.name}: {result} chunk files written")
        self.refresh()


def _forget_cached_chunks() -> None:
    """Drop napari's cache of computed chunks, so the big layers read the saved ones."""
    try:
        from napari.utils._dask_utils import _DASK_CACHE

        _DASK_CACHE.cache.clear()
    except (ImportError, AttributeError):  # a napari without the cache
        pass
