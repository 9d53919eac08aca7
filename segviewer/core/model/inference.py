"""Run a model on an image of any size: MONAI's sliding windows with Gaussian blending,
streamed band by band (:mod:`.sliding`), 2D models slice by slice on 3D images, with
progress and cancel between window batches. A 2D model with a ``volume_model`` (the bundled
pair) hands 3D images to that model.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from segviewer.core.errors import SegviewerError
from segviewer.core.model import sliding
from segviewer.core.model.files import LoadedModel
from segviewer.core.model.sliding import OVERLAP, window_count  # noqa: F401  (re-exported)
from segviewer.core.progress import Cancelled  # noqa: F401  (re-exported)


def choose_device(device: str) -> str:
    import torch

    if device not in ("cpu", "cuda"):
        raise SegviewerError(f"--device must be cpu or cuda, not {device!r}")
    if device == "cuda" and not torch.cuda.is_available():
        raise SegviewerError("CUDA was requested but no GPU is available here; use --device cpu")
    return device


def predict(
    model: LoadedModel,
    image: np.ndarray,
    channel_axis: int | None,
    device: str = "cpu",
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    where: str | None = None,
    precision: str = "auto",
) -> np.ndarray:
    """Class probabilities ``(K, *spatial)`` float32 (softmax of the logits) for ``image``;
    ``where`` (the sample's name) starts any error message."""
    classes = len(_runs_with(model, image, channel_axis).info.classes)
    out = np.empty((classes, *_spatial(image, channel_axis)), np.float32)
    labels = np.empty(out.shape[1:], np.uint8)
    predict_into(
        model, image, channel_axis, labels, out, device, precision, progress, should_stop, where
    )
    return out


def predict_into(
    model: LoadedModel,
    image,
    channel_axis: int | None,
    labels,
    probabilities=None,
    device: str = "cpu",
    precision: str = "auto",
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    where: str | None = None,
) -> None:
    """Write index labels (and, if given, probabilities ``(K, *spatial)``, float16 or
    float32) of ``image`` band by band into ``labels`` / ``probabilities``: any arrays that
    take slice assignment (numpy, memory-mapped, zarr). Never holds more than a band."""
    dtype = None if probabilities is None else np.dtype(probabilities.dtype).name

    def write(region, band_labels, band_probabilities):
        labels[region] = band_labels
        if probabilities is not None:
            probabilities[(slice(None), *region)] = band_probabilities

    try:
        sliding.stream(
            model,
            image,
            channel_axis,
            write,
            choose_device(device),
            precision,
            dtype,
            progress=progress,
            should_stop=should_stop,
        )
    except SegviewerError as error:
        if where is None:
            raise
        raise SegviewerError(f"{where}: {error}") from None


def predict_labels(
    model: LoadedModel,
    image,
    channel_axis: int | None,
    device: str = "cpu",
    precision: str = "auto",
    should_stop: Callable[[], bool] | None = None,
    where: str | None = None,
) -> np.ndarray:
    """Index labels (0 = background) uint8, without keeping the probabilities."""
    labels = np.empty(_spatial(image, channel_axis), np.uint8)
    predict_into(
        model,
        image,
        channel_axis,
        labels,
        None,
        device,
        precision,
        should_stop=should_stop,
        where=where,
    )
    return labels


def predict_both(
    model: LoadedModel,
    image,
    channel_axis: int | None,
    device: str = "cpu",
    precision: str = "auto",
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    where: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``(index labels uint8, probabilities float16 (K, *spatial))``: what the model rule
    and the panel keep, at 2K + 1 bytes per pixel."""
    classes = len(_runs_with(model, image, channel_axis).info.classes)
    labels = np.empty(_spatial(image, channel_axis), np.uint8)
    probabilities = np.empty((classes, *labels.shape), np.float16)
    predict_into(
        model,
        image,
        channel_axis,
        labels,
        probabilities,
        device,
        precision,
        progress,
        should_stop,
        where,
    )
    return labels, probabilities


def _runs_with(model: LoadedModel, image, channel_axis) -> LoadedModel:
    """The model that runs ``image``: a bundled pair's 3D model for volumes."""
    three_d = len(_spatial(image, channel_axis)) == 3 and model.info.spatial_dims == 2
    return model.volume_model if three_d and model.volume_model is not None else model


def _spatial(image, channel_axis: int | None) -> tuple[int, ...]:
    axis = None if channel_axis is None else channel_axis % image.ndim
    return tuple(s for a, s in enumerate(image.shape) if a != axis)


def labels_of(probabilities: np.ndarray) -> np.ndarray:
    """Index labels (0 = background) from class probabilities, uint8."""
    return probabilities.argmax(axis=0).astype(np.uint8)
