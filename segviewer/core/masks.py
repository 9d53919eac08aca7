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
    """Refuse images that cannot be shown or trained on (wrong rank, NaN values)."""
    if image.ndim not in (2, 3) or image.size == 0:
        raise SegviewerError(
            f"{where}: image has shape {image.shape}; expected a 2D (Y, X), RGB (Y, X, 3) "
            "or 3D (Z, Y, X) image"
        )
    if image.dtype.kind == "f":
        nan = int(np.count_nonzero(np.isnan(image)))
        if nan:
            raise SegviewerError(
                f"{where}: image contains {nan} NaN values ({nan / image.size:.0%} of it); "
                "expected finite intensities"
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


def _to_binary_uint8(masks: np.ndarray, where: str) -> np.ndarray:
    """Return masks as uint8 0/1; accept bool, {0, 1} and {0, 255}, refuse anything else.

    Works in place on ``masks`` where it can (the reader owns that array), so the common
    cases cost one or two fast passes and no copy.
    """
    if masks.dtype == bool:
        return masks.view(np.uint8)
    if masks.dtype.kind not in "biuf":
        raise SegviewerError(f"{where}: masks have unsupported dtype {masks.dtype}")
    if masks.size == 0:
        return masks.astype(np.uint8)
    low, high = masks.min(), masks.max()
    if low >= 0 and high <= 1 and (masks.dtype.kind != "f" or _all_integral(masks)):
        return masks if masks.dtype == np.uint8 else masks.astype(np.uint8)
    if low >= 0 and high == 255 and _only_values(masks, (0, 255)):
        if masks.dtype == np.uint8:
            return np.bitwise_and(masks, 1, out=masks)
        return (masks == 255).view(np.uint8)
    found = np.unique(masks)
    shown = ", ".join(f"{v:g}" for v in found[:10]) + (", ..." if found.size > 10 else "")
    raise SegviewerError(
        f"{where}: mask values must be 0/1 or 0/255 (or bool), found {found.size} distinct "
        f"values: {shown}"
    )


def _all_integral(masks: np.ndarray) -> bool:
    return bool(np.all((masks == 0) | (masks == 1)))


def _only_values(masks: np.ndarray, values: tuple[int, int]) -> bool:
    zero, one = values
    return int(np.count_nonzero(masks == one)) == int(np.count_nonzero(masks != zero))


def normalize_masks(
    masks: np.ndarray, spatial: tuple[int, ...], where: str, class_axis: ClassAxis = "auto"
) -> np.ndarray:
    """Return ``masks`` as a C-contiguous ``uint8`` 0/1 array shaped ``(C, *spatial)``."""
    axis = _class_axis(masks, spatial, class_axis, where)
    masks = _to_binary_uint8(masks, where)
    masks = masks[np.newaxis] if axis == -1 else np.moveaxis(masks, axis, 0)
    return np.ascontiguousarray(masks)
