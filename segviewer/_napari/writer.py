"""napari writer hook (File > Save Selected Layers…): the shown sample as one ``.npz``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from napari.utils.notifications import show_error

from segviewer._napari.layers import META_KEY, sample_of_ids
from segviewer.core.data.encodings import BACKGROUND, to_onehot
from segviewer.core.errors import SegviewerError
from segviewer.core.io.atomic import new_file


def write_sample_npz(path: str, layer_data: list[tuple]) -> list[str]:
    """Write the sample behind the selected layers as ``image`` + one-hot ``masks`` with the
    background first (exclusive labels), atomically; never over one of its source files."""
    samples = {
        (m["dataset"], m["index"]): sample_of_ids(m["dataset"], m["index"])
        for _, meta, _ in layer_data
        if (m := meta.get("metadata", {}).get(META_KEY)) and "dataset" in m
    }
    samples = {key: sample for key, sample in samples.items() if sample is not None}
    target = Path(path if path.endswith(".npz") else f"{path}.npz")
    try:
        if len(samples) != 1:
            raise SegviewerError(f"{target}: select the layers of one segviewer sample to save")
        (sample,) = samples.values()
        if any(target.resolve() == p.resolve() for p in sample.source.paths):
            raise SegviewerError(f"{target}: is a source file of {sample.name}; choose a new name")
        masks = to_onehot(sample.masks, sample.ignore, str(target))
        with new_file(target, "sample") as partial, partial.open("wb") as file:
            # a full disk or a read-only folder is a SegviewerError from new_file
            np.savez_compressed(
                file,
                image=sample.image,
                masks=masks,
                class_names=np.array([BACKGROUND, *sample.class_names]),
            )
    except SegviewerError as error:
        show_error(str(error))
        return []
    return [str(target)]
