"""napari layers of a big sample (OME-Zarr or TIFF): the image and every class's mask as
multiscale layers, plus the implied background and the conflicts, all lazy (Dask) so that
napari reads only the chunks it draws, at the level it draws them."""

from __future__ import annotations

from typing import Any

import numpy as np

from segviewer._napari.layers import _colormap, class_colormap
from segviewer.core.colors import BACKGROUND_COLOR, CONFLICT_COLOR
from segviewer.core.io.ome_zarr import BigSample, as_dask

CONTRAST_PIXELS = 1 << 20  # contrast limits from a level with at most this many pixels


def _claims(sample: BigSample) -> list:
    """Per level, how many classes claim each pixel (lazy); levels every class has."""
    import dask.array as da

    depth = min(len(levels) for levels in sample.mask_levels)
    return [
        da.stack([as_dask(levels[k]) for levels in sample.mask_levels])
        .astype(np.uint8)
        .sum(axis=0, dtype=np.uint8)
        for k in range(depth)
    ]


def big_layer_data(sample: BigSample) -> list[tuple[Any, dict, str]]:
    """Layer data tuples for napari: image, background, one layer per class, conflicts."""
    import dask.array as da

    image = [da.from_zarr(level) for level in sample.levels]
    coarse = next((lvl for lvl in reversed(image) if lvl.size <= CONTRAST_PIXELS), image[-1])
    low, high = np.percentile(np.asarray(coarse), [0.5, 99.8])
    claims = _claims(sample)
    common = {"multiscale": True, "metadata": {"segviewer_big": str(sample.path)}}
    layers: list[tuple[Any, dict, str]] = [
        (
            image,
            {**common, "name": sample.path.name, "contrast_limits": (low, max(high, low + 1))},
            "image",
        ),
        (
            [(c == 0).astype(np.uint8) for c in claims],
            {
                **common,
                "name": "background",
                "colormap": _colormap({1: BACKGROUND_COLOR}),
                "opacity": 0.25,
                "visible": False,
            },
            "labels",
        ),
    ]
    for index, (name, levels) in enumerate(
        zip(sample.class_names, sample.mask_levels, strict=True)
    ):
        layers.append(
            (
                [as_dask(m) for m in levels],
                {**common, "name": name, "colormap": class_colormap(index), "opacity": 0.5},
                "labels",
            )
        )
    layers.append(
        (
            [(c > 1).astype(np.uint8) for c in claims],
            {
                **common,
                "name": "conflicts",
                "colormap": _colormap({1: CONFLICT_COLOR}),
                "opacity": 0.8,
            },
            "labels",
        )
    )
    return layers
