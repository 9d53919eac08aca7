"""napari reader hook: the same core reader as the CLI and the panel."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from napari.utils.notifications import show_error, show_warning

from segviewer._napari.big_layers import big_layer_data
from segviewer._napari.layers import standalone_layer_data
from segviewer.core.errors import SegviewerError
from segviewer.core.io.big import is_big, open_big
from segviewer.core.io.readers import is_supported, open_dataset

NULL_LAYER = [(None,)]  # napari's sentinel for "read, but nothing to show"


def napari_get_reader(path: str | Sequence[str]) -> Callable | None:
    """Return a reader for our files and folders, ``None`` for anything else (never raises)."""
    paths = [path] if isinstance(path, str) else list(path)
    if len(paths) == 1 and is_big(Path(paths[0])):
        return read_big
    try:
        ours = bool(paths) and all(is_supported(p) for p in paths)
    except OSError:
        ours = False
    return read_dataset if ours else None


def read_big(path: str | Sequence[str]) -> list:
    """A big sample (OME-Zarr, or a TIFF pair too big for memory) as lazy multiscale layers
    (the panel's Edit page opens the area in view as an editable tile)."""
    path = path if isinstance(path, str) else path[0]
    try:
        return big_layer_data(open_big(Path(path)))
    except SegviewerError as error:
        show_error(str(error))
        return NULL_LAYER


def read_dataset(path: str | Sequence[str]) -> list:
    """Open ``path`` as a dataset and return the layers of its first sample."""
    try:
        dataset = open_dataset(path, warn=show_warning)
        layers = standalone_layer_data(dataset)
    except SegviewerError as error:
        show_error(str(error))
        return NULL_LAYER
    for warning in dataset.sample(0).warnings:
        show_warning(warning)
    return layers
