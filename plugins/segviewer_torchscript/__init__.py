"""Run any TorchScript file of the user's.

Contract: the network receives the image as float32, unnormalised, shaped
``(1, channels, *spatial)`` (a window of it when the image is tiled) and returns logits
``(1, K, *spatial)`` with K = 1 + C, background first. The user gives the class names, or
they are the dataset's.
"""

from __future__ import annotations

from pathlib import Path

from segviewer.core.errors import SegviewerError
from segviewer.core.model.files import LoadedModel, ModelInfo


def load(path, classes=None, window=(256, 256)) -> LoadedModel:
    """Load ``path`` with ``torch.jit.load`` (TorchScript only: no pickled Python runs)."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise SegviewerError(f"{path}: no such model file")
    try:
        network = torch.jit.load(str(path), map_location="cpu")
    except (RuntimeError, ValueError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise SegviewerError(
            f"{path}: not a TorchScript file ({first}); save your model with "
            "torch.jit.script(model).save(path) or torch.jit.trace"
        ) from None
    if not classes:
        raise SegviewerError(f"{path}: give the class names of a TorchScript model")
    info = ModelInfo(
        name=path.stem,
        classes=list(classes),
        in_channels=None,
        spatial_dims=len(window),
        normalization=None,
        architecture={"name": "TorchScript", "file": str(path)},
        window=list(window),
    )
    return LoadedModel(info, network.eval())
