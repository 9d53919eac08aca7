"""Sliding-window inference that streams.

The windows are those of MONAI's ``sliding_window_inference`` (the same grid, overlap and
Gaussian blending), but they are run band by band along the first spatial axis: only one
band of the image and of the blended logits is held at a time, and each band that no later
window touches is handed to the caller as uint8 labels (plus probabilities when asked for).
Windows are cut out of the band and blended back with one gather and one ``index_add_``
per batch, on the device: on CUDA nothing but the image's own pixels goes in and nothing
but the labels come out. The window batch follows free GPU memory, and fp16 autocast is
the CUDA default.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from segviewer.core.errors import SegviewerError
from segviewer.core.progress import Cancelled

OVERLAP = 0.25
MIN_WINDOW = 32  # smaller images are padded up to this: a U-Net needs room to downsample
PRECISIONS = ("auto", "fp32", "fp16", "bf16")
PERCENTILE_PIXELS = 1 << 20  # normalisation percentiles from at most this many pixels
CPU_BATCH = 4
MAX_BATCH = 512
# CUDA: fp16 and bf16 run under autocast (a copy of the network cast to fp16 was ~15 % slower
# on an H200). cuDNN's algorithm search (trying each algorithm on the first windows) is off:
# on an H100 it gave nothing measurable and costs seconds in a fresh process.
CUDNN_BENCHMARK = False
_batches: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # network → fitting batch

# receives (region of the spatial array, labels uint8, probabilities (K, …) or None)
Emit = Callable[[tuple[slice, ...], np.ndarray, "np.ndarray | None"], None]


def window_starts(size: int, window: int, overlap: float = OVERLAP) -> list[int]:
    """Where MONAI's windows start along one axis of ``size`` (``dense_patch_slices``)."""
    interval = window if window == size else max(int(window * (1 - overlap)), 1)
    count = next(
        (d + 1 for d in range(math.ceil(size / interval)) if d * interval + window >= size), 1
    )
    return [i * interval - max(i * interval + window - size, 0) for i in range(count)]


def window_count(spatial: tuple[int, ...], window: tuple[int, ...], overlap: float) -> int:
    """How many windows the sliding window visits over ``spatial``."""
    return math.prod(
        len(window_starts(max(s, w), w, overlap)) for s, w in zip(spatial, window, strict=True)
    )


def autocast_dtype(precision: str, device: str):
    """The torch dtype the network runs in (None: float32); ``auto`` is fp16 on CUDA."""
    import torch

    if precision not in PRECISIONS:
        raise SegviewerError(f"--precision {precision!r}: expected one of {', '.join(PRECISIONS)}")
    if precision == "auto":
        precision = "fp16" if device == "cuda" else "fp32"
    return {"fp32": None, "fp16": torch.float16, "bf16": torch.bfloat16}[precision]


@dataclass
class Normalizer:
    """Per-channel ``(x − low) / (high − low)``, or nothing when ``low`` is None."""

    low: np.ndarray | None = None
    high: np.ndarray | None = None

    @classmethod
    def of(cls, image, channel_axis: int | None, normalization: dict | None) -> Normalizer:
        """Percentiles of each channel, exact up to :data:`PERCENTILE_PIXELS` pixels, else
        from an evenly strided subsample (a lazy image is then read once, sparsely)."""
        if normalization is None:
            return cls()
        axis = _axis(channel_axis, image.ndim)
        spatial = [s for a, s in enumerate(image.shape) if a != axis]
        step = math.ceil((math.prod(spatial) / PERCENTILE_PIXELS) ** (1 / len(spatial)))
        every = tuple(slice(None, None, 1 if a == axis else step) for a in range(image.ndim))
        view = np.asarray(image[every])
        data = view[None] if channel_axis is None else np.moveaxis(view, channel_axis, 0)
        bounds = [
            np.percentile(
                np.asarray(c, dtype=np.float32), [normalization["low"], normalization["high"]]
            )
            for c in data
        ]
        return cls(np.array([b[0] for b in bounds]), np.array([b[1] for b in bounds]))

    def apply(self, band):
        """``band`` (a float32 torch tensor ``(C, …)``) normalised in place."""
        if self.low is None:
            return band
        for c, (low, high) in enumerate(zip(self.low, self.high, strict=True)):
            band[c].sub_(float(low)).div_(max(float(high - low), 1e-6))
        return band


def _axis(channel_axis: int | None, ndim: int) -> int | None:
    return None if channel_axis is None else channel_axis % ndim


def stream(
    model,
    image,
    channel_axis: int | None,
    emit: Emit,
    device: str = "cpu",
    precision: str = "auto",
    probabilities: str | None = None,
    batch: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> None:
    """Run ``model`` (a LoadedModel) over ``image`` (numpy, zarr or any sliceable array),
    handing every finished band to ``emit``; ``probabilities`` ("float16" or "float32")
    adds the softmax. 2D models run 3D images plane by plane."""
    import torch

    spatial = tuple(s for a, s in enumerate(image.shape) if a != _axis(channel_axis, image.ndim))
    channels = 1 if channel_axis is None else image.shape[channel_axis]
    if len(spatial) == 3 and model.info.spatial_dims == 2 and model.volume_model is not None:
        model = model.volume_model
    info, network = model.info, model.network
    dims = info.spatial_dims
    if len(spatial) < dims:
        raise SegviewerError(f"model '{info.name}' is {dims}D; the image is {len(spatial)}D")
    if info.in_channels is not None and channels != info.in_channels:
        raise SegviewerError(
            f"the image has {channels} channel(s); model '{info.name}' expects {info.in_channels}"
        )
    plane_shape = spatial[-dims:]
    window = tuple(
        min(w, max(s, MIN_WINDOW)) for w, s in zip(info.window, plane_shape, strict=True)
    )
    leads = list(np.ndindex(*spatial[:-dims]))
    run = _Runner(
        model, device, autocast_dtype(precision, device), window, channels, progress, should_stop
    )
    run.total = len(leads) * window_count(plane_shape, window, OVERLAP)
    network.to(device)
    run.batch = batch or run.fitting_batch()
    normalizer = Normalizer.of(image, channel_axis, info.normalization)
    benchmark = torch.backends.cudnn.benchmark
    torch.backends.cudnn.benchmark = CUDNN_BENCHMARK if device == "cuda" else benchmark
    try:
        with torch.inference_mode():
            for lead in leads:
                plane = _PlaneReader(image, channel_axis, lead, window, normalizer, device)
                finish = None
                for rows, logits in run.bands(plane):
                    # the labels of band g come back while the GPU runs band g + 1
                    ready = _band_result(emit, lead, plane, rows, logits, probabilities)
                    if finish is not None:
                        finish()
                    finish = ready
                if finish is not None:
                    finish()
    finally:
        torch.backends.cudnn.benchmark = benchmark


class _PlaneReader:
    """Bands of one plane (all of a 3D image for a 3D model), normalised, on the device,
    padded symmetrically with zeros up to the window where the plane is smaller."""

    def __init__(self, image, channel_axis, lead, window, normalizer, device):
        self.image, self.channel_axis, self.lead = image, _axis(channel_axis, image.ndim), lead
        self.normalizer, self.device = normalizer, device
        shape = [s for a, s in enumerate(image.shape) if a != self.channel_axis][len(lead) :]
        self.shape = tuple(shape)
        self.pad = tuple(
            (max(w - s, 0) // 2, max(w - s, 0) - max(w - s, 0) // 2)
            for s, w in zip(shape, window, strict=True)
        )
        self.padded = tuple(s + a + b for s, (a, b) in zip(shape, self.pad, strict=True))
        self.unsigned = np.dtype(image.dtype) == np.uint16
        self.stream = None  # CUDA: the copies to the GPU run beside the computation

    def read(self, low: int, high: int):
        """Rows ``low:high`` (padded coordinates) as read from the image, on their way to
        the device: runs in the reader thread; :meth:`band` finishes them."""
        import torch

        before = self.pad[0][0]
        first, last = max(low - before, 0), min(high - before, self.shape[0])
        index = [*self.lead, slice(first, last)]
        if self.channel_axis is not None:
            index.insert(self.channel_axis, slice(None))
        raw = np.asarray(self.image[tuple(index)])
        raw = (
            raw[None]
            if self.channel_axis is None
            else np.moveaxis(raw, self.channel_axis - len(self.lead), 0)
        )
        if raw.dtype == np.uint16:  # sent as it is (2 bytes a pixel), unsigned again there
            raw = raw.view(np.int16)
        elif raw.dtype not in (np.uint8, np.int8, np.int16, np.int32, np.float32):
            raw = raw.astype(np.float32)
        raw = np.ascontiguousarray(raw)
        tensor = torch.from_numpy(raw if raw.flags.writeable else raw.copy())
        event = None
        if self.device == "cuda":
            if self.stream is None:
                self.stream = torch.cuda.Stream()
            with torch.cuda.stream(self.stream):
                tensor = tensor.pin_memory().to("cuda", non_blocking=True)
                event = torch.cuda.Event()
                event.record(self.stream)
        return (low, high, first, last), tensor, event, raw.dtype == np.int16 and self.unsigned

    def band(self, item):
        """Float32 ``(C, high-low, …)``: normalised, padded with zeros where outside."""
        import torch

        (low, high, first, last), tensor, event, unsigned = item
        if event is not None:
            torch.cuda.current_stream().wait_event(event)
            tensor.record_stream(torch.cuda.current_stream())
        band = tensor.to(torch.float32)
        if unsigned:
            band = torch.where(band < 0, band + 65536, band)
        band = self.normalizer.apply(band)
        before = self.pad[0][0]
        pads = [(first + before - low, high - before - last), *self.pad[1:]]
        if any(any(p) for p in pads):
            flat = [n for pair in reversed(pads) for n in pair]
            band = torch.nn.functional.pad(band, flat)
        return band


class _Runner:
    """The network, its windows and the blending weights on one device."""

    def __init__(self, model, device, dtype, window, channels, progress, should_stop):
        import torch
        from monai.data.utils import compute_importance_map

        self.model, self.device, self.dtype, self.window = model, device, dtype, window
        self.channels, self.classes = channels, len(model.info.classes)
        self.progress, self.should_stop = progress, should_stop
        self.importance = compute_importance_map(window, "gaussian", 0.125, device=device)
        self.done, self.total, self.batch = 0, 0, CPU_BATCH
        self.checked = False
        self.finite = torch.ones((), dtype=torch.bool, device=device)

    def fitting_batch(self) -> int:
        """CPU: a few windows. CUDA: as many as half the free memory holds, measured on a
        probe batch."""
        import torch

        if self.device != "cuda":
            return CPU_BATCH
        key = (self.window, self.channels, self.dtype)
        known = _batches.setdefault(self.model.network, {})
        if key not in known:
            probe = 4
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            before = torch.cuda.memory_allocated()
            x = torch.zeros((probe, self.channels, *self.window), device="cuda")
            with torch.inference_mode():
                self._network(x)
            torch.cuda.synchronize()
            per_window = max((torch.cuda.max_memory_allocated() - before) / probe, 1)
            free, _ = torch.cuda.mem_get_info()
            known[key] = int(min(max(free * 0.5 // per_window, 1), MAX_BATCH))
        return known[key]

    def _autocast(self):
        import torch

        return torch.autocast(
            self.device,
            self.dtype or torch.float32,
            enabled=self.dtype is not None,
        )

    def bands(self, plane: _PlaneReader) -> Iterator[tuple[tuple[int, int], object]]:
        """``((first, last), blended logits)`` for consecutive finished row ranges."""
        import torch

        starts = [window_starts(s, w) for s, w in zip(plane.padded, self.window, strict=True)]
        rest = np.array(list(np.ndindex(*[len(s) for s in starts[1:]])), dtype=np.int64)
        rest = np.stack([np.array(s)[rest[:, i]] for i, s in enumerate(starts[1:])], 1)
        per_group = max(1, math.ceil(self.batch / max(len(rest), 1)))
        groups = [starts[0][i : i + per_group] for i in range(0, len(starts[0]), per_group)]
        carry = None
        with ThreadPoolExecutor(1) as reader:
            pending = reader.submit(plane.read, groups[0][0], groups[0][-1] + self.window[0])
            for g, rows in enumerate(groups):
                low, high = rows[0], rows[-1] + self.window[0]
                band = plane.band(pending.result())
                if g + 1 < len(groups):
                    nxt = groups[g + 1]
                    pending = reader.submit(plane.read, nxt[0], nxt[-1] + self.window[0])
                acc = torch.zeros(
                    (self.classes + 1, high - low, *plane.padded[1:]), device=self.device
                )
                if carry is not None:
                    acc[:, : carry.shape[1]] = carry
                self._blend(band, acc, [r - low for r in rows], rest)
                done = groups[g + 1][0] - low if g + 1 < len(groups) else high - low
                yield (low, low + done), acc[:, :done]
                carry = acc[:, done:]
        if not bool(self.finite):
            raise SegviewerError(
                f"model '{self.model.info.name}' returned NaN or infinite logits; expected "
                "finite numbers (a damaged model file, or an image far outside what it was "
                "trained on)"
            )

    def _blend(self, band, acc, rows: list[int], rest: np.ndarray) -> None:
        """Run the windows starting at ``rows`` × ``rest`` of ``band`` and add their
        weighted logits (channels 0…K-1) and weights (channel K) into ``acc``."""
        import torch

        corners = np.array([(r, *c) for r in rows for c in rest], dtype=np.int64)
        strides = _strides(band.shape[1:])
        offsets = _offsets(self.window, strides, self.device)
        strides = torch.tensor(strides).to(self.device, non_blocking=True)
        flat_band, flat_acc = band.reshape(band.shape[0], -1), acc.reshape(acc.shape[0], -1)
        for first in range(0, len(corners), self.batch):
            if self.should_stop is not None and self.should_stop():
                raise Cancelled
            chunk = torch.from_numpy(corners[first : first + self.batch])
            chunk = chunk.to(self.device, non_blocking=True)
            index = (chunk * strides).sum(1)[:, None] + offsets[None]
            x = flat_band[:, index.reshape(-1)].reshape(self.channels, len(chunk), *self.window)
            logits = self._network(x.transpose(0, 1))
            weighted = (logits.float() * self.importance).transpose(0, 1)
            flat_acc[: self.classes].index_add_(
                1, index.reshape(-1), weighted.reshape(self.classes, -1)
            )
            flat_acc[self.classes].index_add_(
                0, index.reshape(-1), self.importance.reshape(-1).repeat(len(chunk))
            )
            self.done += len(chunk)
            if self.progress is not None:
                self.progress(self.done, self.total)

    def _network(self, x):
        import torch

        try:
            with self._autocast():
                logits = self.model.network(x.contiguous())
        except Exception as error:  # a user's model may raise anything
            raise SegviewerError(
                f"model '{self.model.info.name}' failed ({_last_line(error)})"
            ) from None
        if not self.checked:
            _check_shape(logits, x, self.model.info)
            self.checked = True
        self.finite &= torch.isfinite(logits).all()
        return logits


def _band_result(emit, lead, plane: _PlaneReader, rows, acc, probabilities) -> Callable:
    """Average, crop the padding, and start copying labels (and probabilities) back; the
    returned call waits for the copy and hands them to ``emit``."""
    import torch

    logits = acc[:-1] / acc[-1:]
    (before0, _), first = plane.pad[0], rows[0]
    low, high = max(first, before0), min(rows[1], before0 + plane.shape[0])
    if low >= high:
        return lambda: None
    crop = (
        slice(None),
        slice(low - first, high - first),
        *(slice(a, a + s) for (a, _), s in zip(plane.pad[1:], plane.shape[1:], strict=True)),
    )
    logits = logits[crop]
    results = [_argmax(logits)]
    if probabilities is not None:
        dtype = torch.float16 if probabilities == "float16" else torch.float32
        results.append(torch.softmax(logits, 0).to(dtype))
    region = (*lead, slice(low - before0, high - before0))
    if logits.device.type != "cuda":
        arrays = [r.numpy() for r in results]
        return lambda: emit(region, arrays[0], arrays[1] if len(arrays) > 1 else None)
    host = [torch.empty(r.shape, dtype=r.dtype, pin_memory=True) for r in results]
    for target, result in zip(host, results, strict=True):
        target.copy_(result, non_blocking=True)
    copied = torch.cuda.Event()
    copied.record()

    def finish() -> None:
        copied.synchronize()
        arrays = [h.numpy() for h in host]
        emit(region, arrays[0], arrays[1] if len(arrays) > 1 else None)

    return finish


def _argmax(logits):
    """The first index of the largest value along axis 0, uint8: K elementwise passes,
    several times faster than ``argmax(0)`` on a CPU (which reduces across strides)."""
    import torch

    best, labels = (
        logits[0].clone(),
        torch.zeros(logits.shape[1:], dtype=torch.uint8, device=logits.device),
    )
    for k in range(1, logits.shape[0]):
        larger = logits[k] > best
        labels[larger] = k
        torch.maximum(best, logits[k], out=best)
    return labels


def _offsets(window: tuple[int, ...], strides: list[int], device):
    """Flat offsets of a window's elements in a row-major band of those ``strides``."""
    import torch

    offsets = torch.zeros((), dtype=torch.int64, device=device)
    for size, stride in zip(window, strides, strict=True):
        offsets = offsets[..., None] + torch.arange(size, device=device) * stride
    return offsets.reshape(-1)


def _strides(shape) -> list[int]:
    return [int(np.prod(shape[i + 1 :])) for i in range(len(shape))]


def _check_shape(logits, batch, info) -> None:
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


def _last_line(error: Exception) -> str:
    """The telling line of an error: TorchScript puts its traceback before the message."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__
