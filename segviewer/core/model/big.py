"""A model over a big OME-Zarr sample: labels streamed into a new OME-Zarr label image."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from segviewer.core.io.atomic import new_folder
from segviewer.core.io.ome_zarr import BigSample, multiscales, ngff_metadata
from segviewer.core.model.inference import predict_into


def predict_big(
    sample: BigSample, model, out: Path, device: str = "cpu", precision: str = "auto", progress=None
) -> None:
    """The model's index labels of ``sample`` as a new OME-Zarr label image at ``out``
    (NGFF 0.5, the image's chunks), streamed band by band: never the whole probabilities,
    never the whole labels in memory."""
    import zarr

    classes = list(model.info.classes)
    with new_folder(Path(out)) as folder:
        root = zarr.open_group(str(folder), mode="w", zarr_format=3)
        properties = [{"label-value": i, "class": name} for i, name in enumerate(classes)]
        meta = {
            "multiscales": [multiscales("prediction", 1, len(sample.shape))],
            "image-label": {"version": "0.5", "properties": properties},
        }
        root.attrs.update(ngff_metadata("0.5", meta))
        labels = root.create_array(
            "0",
            shape=sample.shape,
            chunks=tuple(sample.image.chunks),
            dtype=np.uint8,
            fill_value=0,
        )
        predict_into(
            model,
            sample.image,
            None,
            labels,
            None,
            device,
            precision,
            progress=progress,
            where=str(sample.path),
        )
