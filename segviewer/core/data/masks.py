"""Normalise one-hot masks to the layout the rest of segviewer relies on.

Every sample's masks are stored as one C-contiguous ``uint8`` array shaped
``(C, *spatial)`` holding 0 and 1, so that ``masks[c]`` is a contiguous view that a napari
Labels layer can display and edit without a copy.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from segviewer.core.errors import SegviewerError

ClassAxis = Literal["auto", "first", "last"]
RGB_CHANNELS = (3, 4)


def spatial_shape_of(image: np.ndarray) -> tuple[int, ...]:
    """Spatial shape of an image: an RGB(A) image is ``(Y, X, 3|4)``, anything else is spatial."""
    if image.ndim == 3 and image.shape[-1] in RGB_CHANNELS:
        return tuple(image.shape[:-1])
    return tuple(image.shape)


def is_rgb(image: np.ndarray) -> bool:
    return image.ndim == 3 and image.shape[-1] in RGB_CHANNELS


def check_image(image: np.ndarray, where: str) -> np.ndarray:
    """Refuse images that cannot be shown or trained on (wrong rank, NaN or ±inf values)."""
    if image.ndim not in (2, 3) or image.size == 0:
        raise SegviewerError(
            f"{where}: image has shape {image.shape}; expected a 2D (Y, X), RGB (Y, X, 3) "
            "or 3D (Z, Y, X) image"
        )
    if image.dtype.kind == "f":
        bad = image.size - int(np.count_nonzero(np.isfinite(image)))
        if bad:
            nan = int(np.count_nonzero(np.isnan(image)))
            kinds = [f"{n} {what}" for n, what in ((nan, "NaN"), (bad - nan, "infinite")) if n]
            raise SegviewerError(
                f"{where}: image contains {' and '.join(kinds)} values ({bad / image.size:.0%} "
                "of it); expected finite intensities"
            )
    elif image.dtype.kind not in "biu":
        raise SegviewerError(f"{where}: image has unsupported dtype {image.dtype}")
    return image


def _class_axis(masks: np.ndarray, spatial: tuple[int, ...], axis: ClassAxis, where: str) -> int:
    """Find the class axis of ``masks`` (first or last) by matching the image's spatial shape."""
    if masks.ndim == len(spatial):
        if masks.shape != spatial:
            raise _shape_mismatch(masks, spatial, where)
        return -1  # a single class stored without a class axis
    if masks.ndim != len(spatial) + 1:
        raise _shape_mismatch(masks, spatial, where)
    first, last = masks.shape[1:] == spatial, masks.shape[:-1] == spatial
    if axis == "first":
        if not first:
            raise _shape_mismatch(masks, spatial, where, "with the class axis first")
        return 0
    if axis == "last":
        if not last:
            raise _shape_mismatch(masks, spatial, where, "with the class axis last")
        return masks.ndim - 1
    if first and last:
        raise SegviewerError(
            f"{where}: masks of shape {masks.shape} could have their class axis first or last "
            f"for an image of spatial shape {spatial}; set it with class_axis='first' or 'last' "
            "(CLI: --class-axis first|last)"
        )
    if not (first or last):
        raise _shape_mismatch(masks, spatial, where)
    return 0 if first else masks.ndim - 1


def _shape_mismatch(
    masks: np.ndarray, spatial: tuple[int, ...], where: str, detail: str = ""
) -> SegviewerError:
    expected = f"(C, {', '.join(map(str, spatial))}) or ({', '.join(map(str, spatial))}, C)"
    return SegviewerError(
        f"{where}: masks of shape {masks.shape} do not match the image's spatial shape "
        f"{spatial}{' ' + detail if detail else ''}; expected {expected}"
    )


def _on_value(masks: np.ndarray, where: str) -> int:
    """The value that marks a pixel as in the class (1 or 255); refuse any other values.

    Costs one fast pass (``max``) for the usual 0/1 masks and no full-size temporaries.
    """
    kind = masks.dtype.kind
    if kind == "b" or masks.size == 0:
        return 1
    if kind not in "iuf":
        raise SegviewerError(f"{where}: masks have unsupported dtype {masks.dtype}; expected 0/1")
    high = masks.max()
    low = 0 if kind == "u" else masks.min()
    if low >= 0 and high <= 1 and (kind != "f" or _only_values(masks, 1)):
        return 1
    if low >= 0 and high == 255 and _only_values(masks, 255):
        return 255
    found = np.unique(masks)
    shown = ", ".join(f"{v:g}" for v in found[:10]) + (", ..." if found.size > 10 else "")
    raise SegviewerError(
        f"{where}: mask values must be 0/1 or 0/255 (or bool), found {found.size} distinct "
        f"values: {shown}"
    )


def _only_values(masks: np.ndarray, on: int, chunk: int = 1 << 24) -> bool:
    """True if every value is 0 or ``on``; checked in chunks to bound temporary memory."""
    flat = masks.reshape(-1)  # a view for the contiguous arrays that readers return
    return all(
        np.count_nonzero(part) == np.count_nonzero(part == on)
        for part in (flat[i : i + chunk] for i in range(0, flat.size, chunk))
    )


def normalize_masks(
    masks: np.ndarray, spatial: tuple[int, ...], where: str, class_axis: ClassAxis = "auto"
) -> np.ndarray:
    """Return ``masks`` as a C-contiguous ``uint8`` 0/1 array shaped ``(C, *spatial)``.

    Masks already in that form are returned as they are (no copy); otherwise one new array is
    filled class by class, converting values and moving the class axis in the same pass.
    The input is never modified.
    """
    axis = _class_axis(masks, spatial, class_axis, where)
    on = _on_value(masks, where)
    by_class = masks[np.newaxis] if axis == -1 else np.moveaxis(masks, axis, 0)
    if by_class.flags.c_contiguous and (
        by_class.dtype == bool or (by_class.dtype == np.uint8 and on == 1)
    ):
        return by_class.view(np.uint8)
    out = np.empty(by_class.shape, np.uint8)
    for source, target in zip(by_class, out.view(bool), strict=True):
        np.not_equal(source, 0, out=target)
    return out


def coverage(masks: np.ndarray) -> np.ndarray:
    """How many classes claim each pixel: ``masks.sum(axis=0)`` in the smallest dtype that fits."""
    dtype = np.uint8 if masks.shape[0] < 256 else np.uint16
    return masks.sum(axis=0, dtype=dtype)
