"""Turn a sample into napari layer data that shares the sample's arrays (no copies)."""

from __future__ import annotations

from typing import Any

from napari.utils.colormaps import DirectLabelColormap

from segviewer.core.colors import BACKGROUND_COLOR, class_color, conflict_color
from segviewer.core.data.sample import Dataset, Sample
from segviewer.core.editing.derived import DerivedLayers, possible_conflicts

META_KEY = "segviewer"


def _colormap(colors: dict[int, str]) -> DirectLabelColormap:
    """The given labels in their colours, everything else transparent."""
    return DirectLabelColormap(color_dict={None: "transparent", 0: "transparent", **colors})


def class_colormap(index: int) -> DirectLabelColormap:
    return _colormap({1: class_color(index)})


def conflicts_colormap(n_classes: int) -> DirectLabelColormap:
    """One colour per combination of classes (the conflicts value is their bitmask)."""
    codes = possible_conflicts(n_classes)
    return _colormap({code: conflict_color(i) for i, code in enumerate(codes)})


def sample_layer_data(dataset: Dataset, index: int) -> list[tuple[Any, dict, str]]:
    """Layer data tuples for sample ``index``: the image, ``background``, one Labels layer
    per class, then ``conflicts`` on top.

    Every tuple's metadata records the dataset, the sample and its derived layers, so the
    SegViewer panel can adopt layers that napari's File > Open or Open Sample added.
    """
    sample: Sample = dataset.sample(index)
    derived = DerivedLayers(sample.masks, sample.ignore)
    scale = sample.scale

    def meta(role: str, class_index: int | None = None) -> dict:
        return {
            META_KEY: {
                "dataset": dataset,
                "index": index,
                "sample": sample,
                "derived": derived,
                "role": role,
                "class": class_index,
            }
        }

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
