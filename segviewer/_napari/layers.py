"""Turn a sample into napari layer data that shares the sample's arrays (no copies)."""

from __future__ import annotations

from typing import Any

from napari.utils.colormaps import DirectLabelColormap

from segviewer.core.colors import class_color
from segviewer.core.sample import Dataset, Sample

META_KEY = "segviewer"


def class_colormap(index: int) -> DirectLabelColormap:
    """Label 1 in the class colour, everything else transparent."""
    return DirectLabelColormap(
        color_dict={None: "transparent", 0: "transparent", 1: class_color(index)}
    )


def sample_layer_data(dataset: Dataset, index: int) -> list[tuple[Any, dict, str]]:
    """Layer data tuples for sample ``index``: the image, then one Labels layer per class.

    Every tuple's metadata records the dataset and sample, so the SegViewer panel can adopt
    layers that napari's File > Open or Open Sample added.
    """
    sample: Sample = dataset.sample(index)
    scale = sample.scale

    def meta(role: str, class_index: int | None = None) -> dict:
        return {
            META_KEY: {
                "dataset": dataset,
                "index": index,
                "sample": sample,
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
    return layers


def segviewer_meta(layer) -> dict | None:
    """The segviewer record of a layer, or None for a layer that is not ours."""
    return layer.metadata.get(META_KEY)
