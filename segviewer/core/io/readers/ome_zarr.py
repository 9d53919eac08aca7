"""``NAME.zarr``: an OME-Zarr sample (NGFF 0.4 or 0.5) with a ``labels/`` group, read into
memory (core.io.ome_zarr reads big ones lazily): one binary label image per class, or one
index label image whose ``image-label.properties`` name the class of each value."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from segviewer.core.data.sample import Sample, SampleRef, Source
from segviewer.core.io.ome_zarr import read_sample_arrays
from segviewer.core.io.readers._common import build_sample, build_sample_from_labels


def stem(path: Path) -> str:
    return path.name[: -len(".zarr")] if path.name.endswith(".zarr") else path.name


def read_ome_zarr(path: Path) -> Sample:
    image, arrays, names, values = read_sample_arrays(path)
    source = Source("ome-zarr", (path,))
    if values is not None:
        ordered = [
            values.get(v, f"class {v}") for v in range(max(k for k in values if k < 255) + 1)
        ]
        return build_sample_from_labels(
            stem(path), image, arrays[0], ordered, source, where=str(path)
        )
    return build_sample(
        stem(path), image, np.stack(arrays), names, source, where=str(path), class_axis="first"
    )


def ome_zarr_ref(path: Path) -> SampleRef:
    return SampleRef(stem(path), lambda: read_ome_zarr(path), Source("ome-zarr", (path,)))
