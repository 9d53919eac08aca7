"""Helpers shared by the format readers."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from segviewer.core.data.encodings import BACKGROUND, from_index, split_background
from segviewer.core.data.masks import ClassAxis, check_image, normalize_masks, spatial_shape_of
from segviewer.core.data.names import check_class_names
from segviewer.core.data.sample import Sample, SampleRef, Source
from segviewer.core.errors import SegviewerError

IMAGE_SUFFIXES = (".png", ".tif", ".tiff", ".jpg", ".jpeg")
MASK_SUFFIXES = (".png", ".tif", ".tiff")
TIFF_SUFFIXES = (".tif", ".tiff")
NIFTI_SUFFIXES = (".nii.gz", ".nii")
MASKS_TAG = "_masks"
LABELS_TAG = "_labels"
PARTNER_TAGS = (MASKS_TAG, LABELS_TAG)


def full_suffix(path: Path) -> str:
    """Lower-case suffix, treating ``.nii.gz`` as one suffix."""
    name = path.name.lower()
    return ".nii.gz" if name.endswith(".nii.gz") else path.suffix.lower()


def stem_of(path: Path) -> str:
    return path.name[: len(path.name) - len(full_suffix(path))]


def is_hidden(path: Path) -> bool:
    """Hidden files are never samples: ``.DS_Store``, macOS ``._NAME`` AppleDouble files,
    the ``.NAME.….partial`` folders of an interrupted write."""
    return path.name.startswith(".")


def is_regular_file(path: Path) -> bool:
    """A regular file (following links); False for pipes, devices, broken links, link loops
    and names too long for the file system, instead of raising or blocking."""
    return os.path.isfile(path)


def class_names_from(value: object, where: str) -> list[str] | None:
    """Class names stored in a file's metadata (a list, an array or one name); None if none."""
    if isinstance(value, np.ndarray) and value.ndim <= 1:
        value = [str(v) for v in np.atleast_1d(value)]
    elif isinstance(value, str):
        value = [value]
    elif value is not None and not isinstance(value, list | tuple):
        raise SegviewerError(
            f"{where}: class names stored as {type(value).__name__}; expected a list of names"
        )
    return [v if isinstance(v, str) else str(v) for v in value] if value else None


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
    """Read a PNG/JPEG/TIFF image file into an array (TIFF with tifffile, others with Pillow;
    a palette image becomes its colours, as imageio reads it)."""
    with reading(path, "image file"):
        if path.suffix.lower() in TIFF_SUFFIXES:
            import tifffile

            return tifffile.imread(path)
        from PIL import Image

        with Image.open(path) as image:
            if image.mode == "P":
                image = image.convert(image.palette.mode)
            return np.asarray(image)


def find_pair(path: Path, suffixes: tuple[str, ...]) -> tuple[Path, Path] | None:
    """``(image, partner)`` for a file of a pair NAME + NAME_masks or NAME_labels (either
    named), else None. The image may be missing; readers say so."""
    stem = stem_of(path)
    for tag in PARTNER_TAGS:
        if stem.endswith(tag):
            base = stem[: -len(tag)]
            images = [
                path.with_name(base + s)
                for s in suffixes
                if is_regular_file(path.with_name(base + s))
            ]
            return (images[0] if images else path.with_name(base + full_suffix(path)), path)
    for tag in PARTNER_TAGS:
        for suffix in suffixes:
            if is_regular_file(path.with_name(stem + tag + suffix)):
                return path, path.with_name(stem + tag + suffix)
    return None


def is_labels_file(path: Path) -> bool:
    return stem_of(path).endswith(LABELS_TAG)


def require_image_partner(image_path: Path, masks_path: Path) -> None:
    """Refuse a masks file whose image file is missing."""
    if not is_regular_file(image_path):
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
    image_where: str | None = None,
) -> Sample:
    """Validate image and masks and assemble a Sample (masks normalised to (C, *spatial) uint8);
    errors name ``where`` (``image_where`` for the image's, if it is another file)."""
    image = check_image(np.asarray(image), image_where or where)
    masks = normalize_masks(np.asarray(masks), spatial_shape_of(image), where, class_axis)
    if class_names is None:
        class_names = default_class_names(masks.shape[0])
    class_names = check_class_names(class_names, where)
    if len(class_names) != masks.shape[0]:
        raise SegviewerError(
            f"{where}: {len(class_names)} class names ({', '.join(class_names)}) for "
            f"{masks.shape[0]} masks; expected one name per mask"
        )
    masks, class_names, ignore = split_background(masks, list(class_names))
    if not class_names:
        raise SegviewerError(
            f"{where}: masks of shape {masks.shape} hold no class (only a background, or none); "
            "expected one mask per class, at least one class"
        )
    return Sample(name, image, masks, class_names, source, scale=scale, ignore=ignore)


def build_sample_from_labels(
    name: str,
    image: np.ndarray,
    labels: np.ndarray,
    class_names: list[str] | None,
    source: Source,
    *,
    where: str,
    scale: tuple[float, ...] | None = None,
    image_where: str | None = None,
) -> Sample:
    """A Sample from an index label image (0 background, 1..C classes, 255 ignore)."""
    image = check_image(np.asarray(image), image_where or where)
    labels = np.asarray(labels)
    if labels.shape != spatial_shape_of(image):
        raise SegviewerError(
            f"{where}: labels of shape {labels.shape} do not match the image's spatial shape "
            f"{spatial_shape_of(image)}"
        )
    if class_names is not None:
        class_names = check_class_names(class_names, where)
    if class_names and class_names[0] == BACKGROUND:
        class_names = class_names[1:]
        if not class_names:
            raise SegviewerError(
                f"{where}: the class names list only {BACKGROUND!r}; expected at least one class"
            )
    masks, ignore = from_index(labels, None if class_names is None else len(class_names), where)
    names = list(class_names) if class_names else default_class_names(masks.shape[0])
    return Sample(name, image, masks, names, source, scale=scale, ignore=ignore)


def build_pair_sample(
    image_path: Path,
    partner: Path,
    image: np.ndarray,
    array: np.ndarray,
    class_names: list[str] | None,
    source: Source,
    *,
    class_axis: ClassAxis = "auto",
    scale: tuple[float, ...] | None = None,
) -> Sample:
    """A Sample from a pair: ``NAME_labels`` holds index labels, ``NAME_masks`` masks."""
    name, where, image_where = stem_of(image_path), str(partner), str(image_path)
    if is_labels_file(partner):
        return build_sample_from_labels(
            name,
            image,
            array,
            class_names,
            source,
            where=where,
            scale=scale,
            image_where=image_where,
        )
    return build_sample(
        name,
        image,
        array,
        class_names,
        source,
        where=where,
        class_axis=class_axis,
        scale=scale,
        image_where=image_where,
    )
