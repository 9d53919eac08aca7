"""Training patches: random 2D or 3D windows of the training samples, how big they are,
and whether a network can take them.

A share ``foreground`` of the patches (nnU-Net's oversampling) is centred on a voxel of a
class drawn among those the sample holds; the rest are uniform. Augmentation: a random 90°
rotation in the last two axes and random flips of every axis.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Sequence

import numpy as np

from segviewer.core.data.sample import Sample
from segviewer.core.errors import SegviewerError
from segviewer.core.model.files import LoadedModel


def patches(
    images,
    labels,
    patch,
    batch: int,
    rng: np.random.Generator,
    foreground: float = 0.0,
    sample_weights=None,
) -> Iterator:
    """Endless ``(x, y)`` batches of random patches (2D or 3D) with flips and 90° rotations in
    the last two axes; a share ``foreground`` of them centred on a foreground voxel of a class
    drawn among those the sample holds; samples drawn with ``sample_weights`` (or uniformly)."""
    import torch

    patch = tuple(patch)
    voxels = [_class_voxels(label) for label in labels] if foreground > 0 else None
    while True:
        xs, ys = [], []
        for index in rng.choice(len(images), batch, p=sample_weights):
            image, label = images[index], labels[index]
            centre = None
            if voxels is not None and voxels[index] and rng.random() < foreground:
                flat = voxels[index][int(rng.integers(len(voxels[index])))]
                centre = np.unravel_index(flat[rng.integers(len(flat))], label.shape)
            box = _patch_box(label.shape, patch, rng, centre)
            x, y = image[(slice(None), *box)], label[(None, *box)]
            x, y = _augment(x, y, patch, rng)
            xs.append(np.ascontiguousarray(x))
            ys.append(np.ascontiguousarray(y))
        yield torch.from_numpy(np.stack(xs)), torch.from_numpy(np.stack(ys))


class Prefetched:
    """Batches made ahead by a thread, pinned for an asynchronous copy to the GPU, so the
    GPU never waits for the next patch (the rng is drawn in the same order as without)."""

    def __init__(self, batches: Iterator, depth: int = 4, pin: bool = True):
        self._queue: queue.Queue = queue.Queue(depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._fill, args=(batches, pin), daemon=True)
        self._thread.start()

    def _fill(self, batches: Iterator, pin: bool) -> None:
        try:
            for x, y in batches:
                item = (x.pin_memory(), y.pin_memory()) if pin else (x, y)
                while not self._stop.is_set():
                    try:
                        self._queue.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if self._stop.is_set():
                    return
        except Exception as error:  # handed to the training loop, which raises it
            self._queue.put(error)

    def __iter__(self) -> Prefetched:
        return self

    def __next__(self):
        item = self._queue.get()
        if isinstance(item, Exception):
            raise item
        return item

    def close(self) -> None:
        self._stop.set()


MAX_CLASS_VOXELS = 10_000  # per class and sample, as nnU-Net keeps


def _class_voxels(label: np.ndarray) -> list[np.ndarray]:
    """Flat indices of each foreground class present in ``label`` (one array per class),
    at most :data:`MAX_CLASS_VOXELS` evenly spread ones each."""
    flat = label.ravel()
    voxels = [np.flatnonzero(flat == c) for c in np.unique(flat) if c > 0]
    return [v[:: -(-len(v) // MAX_CLASS_VOXELS)] for v in voxels]


def _patch_box(shape, patch, rng: np.random.Generator, centre=None) -> tuple[slice, ...]:
    """A random window of size ``patch`` inside ``shape``, around ``centre`` if given."""
    box = []
    for size, side, axis in zip(shape, patch, range(len(shape)), strict=True):
        if centre is None:
            start = int(rng.integers(0, size - side + 1))
        else:
            start = min(max(int(centre[axis]) - side // 2, 0), size - side)
        box.append(slice(start, start + side))
    return tuple(box)


def _augment(x: np.ndarray, y: np.ndarray, patch, rng: np.random.Generator):
    """A random 90° rotation in the last two axes (180° if not square) and random flips."""
    h, w = patch[-2:]
    k = int(rng.integers(4)) if h == w else 2 * int(rng.integers(2))
    x, y = np.rot90(x, k, (-2, -1)), np.rot90(y, k, (-2, -1))
    for axis in range(1, x.ndim):
        if rng.integers(2):
            x, y = np.flip(x, axis), np.flip(y, axis)
    return x, y


PATCH_MULTIPLE = {"UNet": 8, "SegResNet": 8}  # the networks that need sides divisible by it
DOWNSAMPLING = {"BasicUNet": 16, "UNet": 8}  # instance norm needs > 1 element at the bottom


def check_patch_fits(model: LoadedModel, patch: Sequence[int]) -> None:
    """Refuse a patch the network cannot train on: sides UNet and SegResNet cannot halve
    three times, or a patch so small that instance norm sees one element at the bottom."""
    name = model.info.architecture.get("name")
    multiple = PATCH_MULTIPLE.get(name, 1)
    shown = "×".join(map(str, patch))
    if any(side % multiple for side in patch):
        raise SegviewerError(
            f"the patch {shown} does not suit {name}: every side must be a multiple of {multiple}"
        )
    factor = DOWNSAMPLING.get(name)
    if factor and np.prod([side // factor for side in patch]) < 2:
        raise SegviewerError(
            f"the patch {shown} is too small for {name}, which shrinks it {factor}× before "
            f"its middle layer; make one side at least {2 * factor}"
        )


def default_patch(samples: Sequence[Sample], dims: int, spacing=None) -> tuple[int, ...]:
    """The patch a fine-tune uses unless told: 128² in 2D; in 3D about 64 voxels of the
    finest spacing along each axis (fewer voxels along coarser axes, as nnU-Net does), a
    multiple of 16, and no larger than the smallest training volume."""
    if dims == 2:
        return (128, 128)
    spacing = np.ones(dims) if spacing is None else np.asarray(spacing, float)
    smallest = np.min([s.spatial_shape for s in samples], axis=0) if samples else [64] * dims
    patch = []
    for axis in range(dims):
        side = 16 * max(1, round(64 * spacing.min() / spacing[axis] / 16))
        patch.append(int(min(side, 16 * max(1, smallest[axis] // 16))))
    return tuple(patch)


def check_patch(samples: Sequence[Sample], patch: Sequence[int]) -> None:
    """Refuse training samples of other dimensions than the patch, or smaller than it."""
    for sample in samples:
        if len(sample.spatial_shape) != len(patch):
            raise SegviewerError(
                f"{sample.name}: a {len(sample.spatial_shape)}D sample; this fine-tune trains "
                f"on {len(patch)}D patches"
            )
        if any(s < p for s, p in zip(sample.spatial_shape, patch, strict=False)):
            kind = "volume" if len(patch) == 3 else "image"
            raise SegviewerError(
                f"{sample.name}: the patch {'×'.join(map(str, patch))} is larger than the "
                f"{kind} ({'×'.join(map(str, sample.spatial_shape))}); choose a smaller patch"
            )
