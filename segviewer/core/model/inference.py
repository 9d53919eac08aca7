"""Run a model on an image of any size: tiled with overlap and Gaussian blending (MONAI's
``sliding_window_inference``), 2D models slice by slice on 3D images, with progress and
cancel between windows. A 2D model with a ``volume_model`` (the bundled pair) hands 3D
images to that model.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from segviewer.core.errors import SegviewerError
from segviewer.core.model.files import LoadedModel
from segviewer.core.progress import Cancelled

OVERLAP = 0.25
MIN_WINDOW = 32  # smaller images are padded up to this: a U-Net needs room to downsample


def choose_device(device: str) -> str:
    import torch

    if device not in ("cpu", "cuda"):
        raise SegviewerError(f"--device must be cpu or cuda, not {device!r}")
    if device == "cuda" and not torch.cuda.is_available():
        raise SegviewerError("CUDA was requested but no GPU is available here; use --device cpu")
    return device


def window_count(spatial: tuple[int, ...], window: tuple[int, ...], overlap: float) -> int:
    """How many windows MONAI's sliding window visits (its scan interval and rounding)."""
    count = 1
    for size, roi in zip(spatial, window, strict=True):
        interval = max(int(roi * (1 - overlap)), 1)
        count *= 1 if size <= roi else math.ceil((size - roi) / interval) + 1
    return count


def predict(
    model: LoadedModel,
    image: np.ndarray,
    channel_axis: int | None,
    device: str = "cpu",
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    where: str | None = None,
) -> np.ndarray:
    """Class probabilities ``(K, *spatial)`` float32 (softmax of the logits) for ``image``;
    ``where`` (the sample's name) starts any error message."""
    try:
        return _predict(model, image, channel_axis, device, progress, should_stop)
    except SegviewerError as error:
        if where is None:
            raise
        raise SegviewerError(f"{where}: {error}") from None


def _predict(model, image, channel_axis, device, progress, should_stop) -> np.ndarray:
    import torch
    from monai.inferers import sliding_window_inference

    device = choose_device(device)
    data = model.prepare(image, channel_axis)  # (channels, *spatial)
    spatial = data.shape[1:]
    if len(spatial) == 3 and model.info.spatial_dims == 2 and model.volume_model is not None:
        model = model.volume_model
        data = model.prepare(image, channel_axis)
    info, network = model.info, model.network
    dims = info.spatial_dims
    if len(spatial) < dims:
        raise SegviewerError(f"model '{info.name}' is {dims}D; the image is {len(spatial)}D")
    planes = data.reshape(data.shape[0], -1, *spatial[-dims:]).swapaxes(0, 1)
    # MONAI pads an image smaller than the window; tiny images get a window big enough
    window = tuple(
        min(w, max(s, MIN_WINDOW)) for w, s in zip(info.window, spatial[-dims:], strict=True)
    )
    total = len(planes) * window_count(spatial[-dims:], window, OVERLAP)
    done = 0
    classes = len(info.classes)

    def run(batch: torch.Tensor) -> torch.Tensor:
        nonlocal done
        if should_stop is not None and should_stop():
            raise Cancelled
        try:
            logits = network(batch)
        except Exception as error:  # a user's model may raise anything
            raise SegviewerError(f"model '{info.name}' failed ({_last_line(error)})") from None
        _check_logits(logits, batch, info)
        done += batch.shape[0]
        if progress is not None:
            progress(done, total)
        return logits

    network.to(device)
    out = np.empty((classes, len(planes), *spatial[-dims:]), np.float32)
    with torch.inference_mode():
        for index, plane in enumerate(planes):
            tensor = torch.from_numpy(np.ascontiguousarray(plane))[None].to(device)
            logits = sliding_window_inference(
                tensor, window, 4, run, overlap=OVERLAP, mode="gaussian", progress=False
            )
            out[:, index] = torch.softmax(logits, dim=1)[0].cpu().numpy()
    return out.reshape(classes, *spatial)


def _check_logits(logits, batch, info) -> None:
    """Refuse logits of the wrong shape, or NaN/infinite ones (they would silently turn into
    an all-background prediction)."""
    import torch

    classes = len(info.classes)
    if not isinstance(logits, torch.Tensor) or tuple(logits.shape) != (
        batch.shape[0],
        classes,
        *batch.shape[2:],
    ):
        shape = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
        raise SegviewerError(
            f"model '{info.name}' returned logits of shape {shape} for an "
            f"input of {tuple(batch.shape)}; expected {(batch.shape[0], classes)} + "
            f"{tuple(batch.shape[2:])} ({classes} classes: {', '.join(info.classes)})"
        )
    if not bool(torch.isfinite(logits).all()):
        raise SegviewerError(
            f"model '{info.name}' returned NaN or infinite logits; expected finite numbers "
            "(a damaged model file, or an image far outside what it was trained on)"
        )


def _last_line(error: Exception) -> str:
    """The telling line of an error: TorchScript puts its traceback before the message."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__


def labels_of(probabilities: np.ndarray) -> np.ndarray:
    """Index labels (0 = background) from class probabilities, uint8."""
    return probabilities.argmax(axis=0).astype(np.uint8)
