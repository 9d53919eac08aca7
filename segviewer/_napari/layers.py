"""Turn a sample into napari layer data that shares the sample's arrays (no copies).

A layer's metadata carries only ids: which dataset (an id looked up in a weak registry),
which sample, its role and class. The arrays and all state live in the Workspace.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
from napari.utils.colormaps import DirectLabelColormap

from segviewer._napari import display_modes
from segviewer.core.colors import BACKGROUND_COLOR, CONFLICT_COLOR, class_color, combination_color
from segviewer.core.data.sample import Dataset, Sample
from segviewer.core.editing.combinations import CombinationOrder, combination_name
from segviewer.core.editing.derived import DerivedLayers

META_KEY = "segviewer"
# Datasets whose layers exist, by id; a reader's dataset waits here until a panel adopts it.
_DATASETS: dict[int, Dataset] = {}
_next_id = itertools.count(1)


def dataset_id(dataset: Dataset) -> int:
    """A stable id for ``dataset`` to put in layer metadata."""
    for key, known in _DATASETS.items():
        if known is dataset:
            return key
    key = next(_next_id)
    _DATASETS[key] = dataset
    return key


def forget(dataset: Dataset) -> None:
    """Drop a closed dataset from the registry."""
    for key in [k for k, known in _DATASETS.items() if known is dataset]:
        del _DATASETS[key]


def sample_of_ids(dataset: int, index: int) -> Sample | None:
    """The sample (as edited, if it was) that layer metadata ids point to."""
    found = _DATASETS.get(dataset)
    return None if found is None else found.sample(index)


def standalone_layer_data(dataset: Dataset, index: int = 0) -> list[tuple[Any, dict, str]]:
    """Layer data for a reader or sample-data hook, before any panel adopts the dataset."""
    sample = dataset.sample(index)
    return sample_layer_data(dataset, index, sample, DerivedLayers(sample.masks, sample.ignore))


def dataset_of(layer) -> Dataset | None:
    """The dataset a segviewer layer shows (None if it is gone or the layer is not ours)."""
    meta = segviewer_meta(layer)
    return None if meta is None else _DATASETS.get(meta.get("dataset"))


def _colormap(colors: dict[int, str], other: str = "transparent") -> DirectLabelColormap:
    """The given labels in their colours, 0 transparent, any other label in ``other``."""
    return DirectLabelColormap(color_dict={None: other, 0: "transparent", **colors})


def class_colormap(index: int) -> DirectLabelColormap:
    return _colormap({1: class_color(index)})


def conflicts_colormap(order: CombinationOrder) -> DirectLabelColormap:
    """One colour per combination of classes (the conflicts value is their bitmask), in
    ``order``; a value not in it yet (until the next refresh) is drawn in red."""
    colors = {code: combination_color(i) for i, code in enumerate(order.codes)}
    return _colormap(colors, other=CONFLICT_COLOR)


def named_values(names: dict[int, str], column: str = "class") -> dict[str, list]:
    """Labels ``features`` naming each value: napari's status bar shows the hovered one's
    (give 0 a name too, or napari shows "[No Properties]" off the mask)."""
    return {"index": list(names), column: list(names.values())}


def conflicts_features(order: CombinationOrder, class_names: list[str]) -> dict[str, list]:
    names = {0: "no conflict"} | {code: combination_name(code, class_names) for code in order.codes}
    return named_values(names, "classes")


def update_conflicts_layer(layer, order: CombinationOrder, class_names: list[str]) -> None:
    """New combinations appeared: give them their colours and names."""
    layer.colormap = conflicts_colormap(order)
    layer.features = conflicts_features(order, class_names)


def sample_layer_data(
    dataset: Dataset,
    index: int,
    sample: Sample,
    derived: DerivedLayers,
    order: CombinationOrder | None = None,
    modes: dict[str, str] = display_modes.DEFAULTS,
) -> list[tuple[Any, dict, str]]:
    """Layer data tuples for sample ``index`` (``sample``, with its ``derived`` arrays): the
    image, ``background``, one Labels layer per class, then ``conflicts`` on top.

    The metadata says which dataset and sample, so the SegViewer panel can adopt layers that
    napari's File > Open or Open Sample added.
    """
    scale = sample.scale
    offset = sample_offset(sample)
    translate = (
        None
        if offset is None
        else tuple(o * f for o, f in zip(offset, scale or (1.0,) * len(offset), strict=True))
    )
    key = dataset_id(dataset)
    order = order or CombinationOrder(derived.conflicts)

    def meta(role: str, class_index: int | None = None) -> dict:
        return {META_KEY: {"dataset": key, "index": index, "role": role, "class": class_index}}

    layers: list[tuple[Any, dict, str]] = [
        (
            sample.image,
            {
                "name": sample.name,
                "rgb": sample.rgb,
                "scale": scale,
                "translate": translate,
                "metadata": meta("image"),
            },
            "image",
        )
    ]
    layers.append(
        (
            derived.background,
            {
                "name": "background",
                "colormap": _colormap({1: BACKGROUND_COLOR}),
                "features": named_values({0: "in a class", 1: "background (no class)"}),
                **display_modes.layer_options("background", modes["background"]),
                "scale": scale,
                "translate": translate,
                "metadata": meta("background"),
            },
            "labels",
        )
    )
    for c, class_name in enumerate(sample.class_names):
        layers.append(
            (
                sample.masks[c],
                {
                    "name": class_name,
                    "colormap": class_colormap(c),
                    "features": named_values({0: f"not {class_name}", 1: class_name}),
                    "opacity": 0.6,
                    "scale": scale,
                    "translate": translate,
                    "metadata": meta("class", c),
                },
                "labels",
            )
        )
    layers.append(
        (
            derived.conflicts,
            {
                "name": "conflicts",
                "colormap": conflicts_colormap(order),
                "features": conflicts_features(order, sample.class_names),
                **display_modes.layer_options("conflicts", modes["conflicts"]),
                "scale": scale,
                "translate": translate,
                "metadata": meta("conflicts"),
            },
            "labels",
        )
    )
    return layers


def sample_offset(sample: Sample) -> tuple[int, ...] | None:
    """Where a tile of a big sample sits in it (level-0 pixels); None for other samples."""
    box = sample.source.extra.get("box") if sample.source.format == "big-tile" else None
    return None if box is None else tuple(s.start for s in box)


def segviewer_meta(layer) -> dict | None:
    """The segviewer record of a layer, or None for a layer that is not ours."""
    return layer.metadata.get(META_KEY)


# What a reused layer takes from its new layer data (the rest, e.g. opacity, stays the user's)
REUSED = {
    "image": ("name", "scale", "translate", "metadata"),
    "background": ("scale", "translate", "metadata"),
    "class": ("name", "colormap", "features", "scale", "translate", "metadata"),
    "conflicts": ("colormap", "features", "scale", "translate", "metadata"),
}


def _same(name: str, current, value) -> bool:
    if name == "colormap":
        return current.color_dict.keys() == value.color_dict.keys() and all(
            np.allclose(current.color_dict[k], value.color_dict[k]) for k in value.color_dict
        )
    if name == "features":
        return {k: list(v) for k, v in current.items()} == value
    if name in ("scale", "translate"):
        return np.allclose(current, value)
    return current == value


def reuse_layers(layers: list, data: list[tuple[Any, dict, str]]) -> bool:
    """Show new layer ``data`` in the existing ``layers`` if they match one to one (same
    roles and classes, both RGB or not; a 2D and a 3D sample do); False (nothing changed)
    if they do not."""
    roles = [segviewer_meta(layer)["role"] for layer in layers]
    wanted = [options["metadata"][META_KEY]["role"] for _, options, _ in data]
    if roles != wanted or not layers or layers[0].rgb != data[0][1]["rgb"]:
        return False
    for layer, (array, options, _) in zip(layers, data, strict=True):
        role = segviewer_meta(layer)["role"]
        layer.data = array  # first: the scale below has the new number of dimensions
        for name in REUSED[role]:  # only what changed: each change costs napari events
            value = options[name]
            if name in ("scale", "translate") and value is None:
                value = (1.0 if name == "scale" else 0.0,) * layer.ndim
            if not _same(name, getattr(layer, name), value):
                setattr(layer, name, value)
        if role == "image":
            layer.reset_contrast_limits_range()
            layer.reset_contrast_limits()
    return True
