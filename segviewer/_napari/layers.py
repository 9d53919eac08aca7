"""Turn a sample into napari layer data that shares the sample's arrays (no copies).

A layer's metadata carries only ids: which dataset (an id looked up in a weak registry),
which sample, its role and class. The arrays and all state live in the Workspace.
"""

from __future__ import annotations

import itertools
from typing import Any

from napari.utils.colormaps import DirectLabelColormap

from segviewer.core.colors import BACKGROUND_COLOR, class_color, conflict_color
from segviewer.core.data.sample import Dataset, Sample
from segviewer.core.editing.derived import DerivedLayers, possible_conflicts

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


def _colormap(colors: dict[int, str]) -> DirectLabelColormap:
    """The given labels in their colours, everything else transparent."""
    return DirectLabelColormap(color_dict={None: "transparent", 0: "transparent", **colors})


def class_colormap(index: int) -> DirectLabelColormap:
    return _colormap({1: class_color(index)})


def conflicts_colormap(n_classes: int) -> DirectLabelColormap:
    """One colour per combination of classes (the conflicts value is their bitmask)."""
    codes = possible_conflicts(n_classes)
    return _colormap({code: conflict_color(i) for i, code in enumerate(codes)})


def sample_layer_data(
    dataset: Dataset, index: int, sample: Sample, derived: DerivedLayers
) -> list[tuple[Any, dict, str]]:
    """Layer data tuples for sample ``index`` (``sample``, with its ``derived`` arrays): the
    image, ``background``, one Labels layer per class, then ``conflicts`` on top.

    The metadata says which dataset and sample, so the SegViewer panel can adopt layers that
    napari's File > Open or Open Sample added.
    """
    scale = sample.scale
    key = dataset_id(dataset)

    def meta(role: str, class_index: int | None = None) -> dict:
        return {META_KEY: {"dataset": key, "index": index, "role": role, "class": class_index}}

    layers: list[tuple[Any, dict, str]] = [
        (
            sample.image,
            {"name": sample.name, "rgb": sample.rgb, "scale": scale, "metadata": meta("image")},
            "image",
        )
    ]
    layers.append(
        (
            derived.background,
            {
                "name": "background",
                "colormap": _colormap({1: BACKGROUND_COLOR}),
                "opacity": 0.35,
                "scale": scale,
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
                    "opacity": 0.6,
                    "scale": scale,
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
                "colormap": conflicts_colormap(len(sample.class_names)),
                "opacity": 1.0,
                "scale": scale,
                "metadata": meta("conflicts"),
            },
            "labels",
        )
    )
    return layers


def segviewer_meta(layer) -> dict | None:
    """The segviewer record of a layer, or None for a layer that is not ours."""
    return layer.metadata.get(META_KEY)
