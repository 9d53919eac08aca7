"""Helpers shared by the format readers."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from segviewer.core.errors import SegviewerError
from segviewer.core.masks import ClassAxis, check_image, normalize_masks, spatial_shape_of
from segviewer.core.sample import Sample, SampleRef, Source

IMAGE_SUFFIXES = (".png", ".tif", ".tiff", ".jpg", ".jpeg")
MASK_SUFFIXES = (".png", ".tif", ".tiff")
TIFF_SUFFIXES = (".tif", ".tiff")
NIFTI_SUFFIXES = (".nii.gz", ".nii")
MASKS_TAG = "_masks"


def full_suffix(path: Path) -> str:
    """Lower-case suffix, treating ``.nii.gz`` as one suffix."""
    name = path.name.lower()
    return ".nii.gz" if name.endswith(".nii.gz") else path.suffix.lower()


def stem_of(path: Path) -> str:
    return path.name[: len(path.name) - len(full_suffix(path))]


@contextlib.contextmanager
def reading(path: Path, what: str) -> Iterator[None]:
    """Turn any failure of a file library into a SegviewerError that names the file."""
    try:
        yield
    except SegviewerError:
        raise
    except FileNotFoundError:
        raise SegviewerError(f"{path}: no such file") from None
    except PermissionError:
        raise SegviewerError(f"{path}: permission denied, cannot read this {what}") from None
    except IsADirectoryError:
        raise SegviewerError(f"{path}: is a folder, expected a {what}") from None
    except Exception as exc:  # libraries raise anything on a corrupt file
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SegviewerError(
            f"{path}: cannot read this {what}, it may be truncated or corrupt ({reason})"
        ) from None


def read_plain_image(path: Path) -> np.ndarray:
    """Read a PNG/JPEG/TIFF image file into an array (TIFF with tifffile, others with imageio)."""
    with reading(path, "image file"):
        if path.suffix.lower() in TIFF_SUFFIXES:
            import tifffile

            return tifffile.imread(path)
        import imageio.v3 as iio

        return np.asarray(iio.imread(path, plugin="pillow"))


def require_image_partner(image_path: Path, masks_path: Path) -> None:
    """Refuse a masks file whose image file is missing."""
    if not image_path.is_file():
        raise SegviewerError(
            f"{masks_path}: the image file {image_path.name} that goes with these masks is "
            f"missing; expected it next to {masks_path.name}"
        )


def pair_ref(
    path: Path,
    pair: tuple[Path, Path] | None,
    read: Callable[[Path, Path], Sample],
    format: str,
    layout: str,
) -> SampleRef:
    """A reference to the (image, masks) pair that ``path`` belongs to; refuse a lone file."""
    if pair is None:
        raise SegviewerError(
            f"{path}: no masks file {stem_of(path)}{MASKS_TAG}{full_suffix(path)} next to it; "
            f"a {format} sample is a pair {layout}"
        )
    image, masks = pair
    return SampleRef(stem_of(image), lambda: read(image, masks), Source(format.lower(), pair))


def default_class_names(count: int) -> list[str]:
    return [f"class_{i + 1}" for i in range(count)]


def build_sample(
    name: str,
    image: np.ndarray,
    masks: np.ndarray,
    class_names: list[str] | None,
    source: Source,
    *,
    where: str,
    class_axis: ClassAxis = "auto",
    scale: tuple[float, ...] | None = None,
) -> Sample:
    """Validate image and masks and assemble a Sample (masks normalised to (C, *spatial) uint8)."""
    image = check_image(np.asarray(image), where)
    masks = normalize_masks(np.asarray(masks), spatial_shape_of(image), where, class_axis)
    if class_names is None:
        class_names = default_class_names(masks.shape[0])
    if len(class_names) != masks.shape[0]:
        raise SegviewerError(
            f"{where}: {len(class_names)} class names ({', '.join(class_names)}) for "
            f"{masks.shape[0]} masks; expected one name per mask"
        )
    return Sample(name, image, masks, list(class_names), source, scale=scale)
