"""Save samples in the container they came from, as exclusive labels or as they are.

Formats: ``onehot`` (background as channel 0), ``index`` (0 background, 1..C, 255 ignore)
and ``masks`` (the one-hot masks as they are, conflicts and all). Containers and names:

- npz: ``NAME.npz`` with ``image`` and ``masks`` (+ ``class_names``) or ``labels``;
- TIFF: ``NAME.tif`` + ``NAME_masks.tif`` or ``NAME_labels.tif``;
- NIfTI: ``NAME.nii.gz`` + ``NAME_masks.nii.gz`` (class axis last) or ``NAME_labels.nii.gz``,
  with the source's affine (one of the canonical orientation if none); a volume that the
  reader turned to the canonical orientation (core.io.orientation) is written in its
  file's own layout and with the file's affine;
- OME-Zarr: ``NAME.zarr`` with the image pyramid and ``labels/CLASS`` (one binary label
  image per class) or ``labels/labels`` (index labels, each value's class in
  ``image-label.properties``);
- folder: ``images/NAME.ext`` (the source file, copied) + ``masks/CLASS/NAME.png`` (with a
  ``background`` class) or ``labels/NAME.png`` (``.tif`` for 3D), and ``classes.txt``.

Everything is written into a new folder that takes its final name only when all is written
(core.io.atomic.new_folder): a failure leaves nothing behind, and no source is overwritten.
Sample and class names become file and folder names: each must be one plain name
(core.data.names). NIfTI has no 64-bit integer or bool type: such images are written as the
smallest NIfTI type that holds their values.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from segviewer.core.data.encodings import BACKGROUND, IGNORE_LABEL, to_index, to_onehot
from segviewer.core.data.names import check_class_names, check_name
from segviewer.core.data.sample import Sample
from segviewer.core.errors import SegviewerError
from segviewer.core.io.atomic import new_folder, write_image
from segviewer.core.io.orientation import affine_without_source, to_file_layout

FORMATS = ("onehot", "index", "masks")
TAG = {"onehot": "_masks", "masks": "_masks", "index": "_labels"}


def encode(sample: Sample, fmt: str) -> tuple[np.ndarray, list[str]]:
    """The array to save and its channel (or label) names, background first if added."""
    where = sample.name
    if fmt == "index":
        return to_index(sample.masks, sample.ignore, where), [BACKGROUND, *sample.class_names]
    if fmt == "onehot":
        return to_onehot(sample.masks, sample.ignore, where), [BACKGROUND, *sample.class_names]
    return sample.masks, list(sample.class_names)


def _write_npz(sample: Sample, out: Path, fmt: str) -> None:
    array, names = encode(sample, fmt)
    key = "labels" if fmt == "index" else "masks"
    np.savez_compressed(
        out / f"{sample.name}.npz", image=sample.image, **{key: array}, class_names=np.array(names)
    )


def _write_tiff(sample: Sample, out: Path, fmt: str) -> None:
    import tifffile

    array, names = encode(sample, fmt)
    # explicit photometric: tifffile would take any (3, Y, X) stack for an RGB image
    photometric = "rgb" if sample.rgb else "minisblack"
    tifffile.imwrite(out / f"{sample.name}.tif", sample.image, photometric=photometric)
    tifffile.imwrite(
        out / f"{sample.name}{TAG[fmt]}.tif",
        array,
        photometric="minisblack",
        metadata={"class_names": names},
    )


def _write_nifti(sample: Sample, out: Path, fmt: str) -> None:
    import nibabel

    array, names = encode(sample, fmt)
    affine = sample.source.affine
    if affine is None:  # reads back as the same arrays
        affine = affine_without_source(sample.spatial_shape, sample.scale)
    # a volume held in the canonical orientation goes back in its file's layout and affine
    image, file_affine = to_file_layout(_nifti_image(sample), sample.source.extra)
    if file_affine is not None:
        affine = file_affine
        array = to_file_layout(array, sample.source.extra, first=0 if fmt == "index" else 1)[0]
    if fmt != "index":
        array = np.moveaxis(array, 0, -1)  # NIfTI: class axis last
    nibabel.save(nifti_image(image, affine), out / f"{sample.name}.nii.gz")
    labels = nifti_image(array, affine)
    # class names travel in a JSON "comment" header extension (NIfTI has no field for them)
    note = json.dumps({"class_names": names}).encode()
    labels.header.extensions.append(nibabel.nifti1.Nifti1Extension("comment", note))
    nibabel.save(labels, out / f"{sample.name}{TAG[fmt]}.nii.gz")


def nifti_image(array: np.ndarray, affine: np.ndarray):
    """A ``nibabel.Nifti1Image`` of ``array`` with ``affine``; an affine that no qform can
    hold (a zero column, a singular matrix: read from a file all the same) goes in the sform
    alone."""
    import nibabel

    try:
        with np.errstate(invalid="ignore", divide="ignore"):
            return nibabel.Nifti1Image(array, affine)
    except nibabel.spatialimages.HeaderDataError:
        image = nibabel.Nifti1Image(array, None)
        image.header.set_sform(affine, code="aligned")
        image.header.set_qform(None, code="unknown")
        return image


def _nifti_image(sample: Sample) -> np.ndarray:
    return nifti_array(sample.image, sample.name)


def nifti_array(image: np.ndarray, where: str) -> np.ndarray:
    """``image`` in a type NIfTI stores: bool as uint8, float16 as float32, 64-bit integers
    as the smallest 32-bit type that holds the values (refused if none does)."""
    if image.dtype == bool:
        return image.view(np.uint8)
    if image.dtype == np.float16:
        return image.astype(np.float32)
    if image.dtype.kind in "iu" and image.dtype.itemsize == 8:
        low, high = (int(image.min()), int(image.max())) if image.size else (0, 0)
        for kind in (np.int32, np.uint32):
            if np.iinfo(kind).min <= low and high <= np.iinfo(kind).max:
                return image.astype(kind)
        raise SegviewerError(
            f"{where}: image values {low}..{high} do not fit a NIfTI integer type; "
            "expected 64-bit integer images within the 32-bit range"
        )
    return image


def _write_folder(sample: Sample, out: Path, fmt: str) -> None:
    array, names = encode(sample, fmt)
    (out / "images").mkdir(exist_ok=True)
    paths = sample.source.paths if sample.source.format == "folder" else ()
    source_image = paths[0] if paths else None
    if source_image is not None and source_image.is_file():
        shutil.copyfile(source_image, out / "images" / source_image.name)
    else:
        write_image(out / "images" / sample.name, sample.image)
    classes = out / "classes.txt"
    listed = "\n".join(sample.class_names) + "\n"
    if not classes.exists():  # written whole, then renamed: parallel writers never see half
        partial = out / f".classes.txt.{os.getpid()}.{threading.get_ident()}"
        partial.write_text(listed, encoding="utf-8")
        os.replace(partial, classes)
    elif classes.read_text(encoding="utf-8") != listed:
        raise SegviewerError(
            f"{sample.name}: classes {', '.join(sample.class_names)} differ from the first "
            "sample's; a dataset folder holds one set of classes"
        )
    if fmt == "index":
        (out / "labels").mkdir(exist_ok=True)
        write_image(out / "labels" / sample.name, array)
        return
    for name, mask in zip(names, array, strict=True):
        (out / "masks" / name).mkdir(parents=True, exist_ok=True)
        write_image(out / "masks" / name / sample.name, mask * np.uint8(255))


def _write_ome_zarr(sample: Sample, out: Path, fmt: str) -> None:
    from segviewer.core.io.ome_zarr import write_sample_zarr

    array, names = encode(sample, fmt)
    values = None
    if fmt == "index":
        values = dict(enumerate(names))
        if sample.ignore is not None and sample.ignore.any():
            values[IGNORE_LABEL] = "ignore"
        label_images = {"labels": array}
    else:
        label_images = dict(zip(names, array, strict=True))
    write_sample_zarr(out / f"{sample.name}.zarr", sample.image, label_images, sample.rgb, values)


WRITERS: dict[str, Callable[[Sample, Path, str], None]] = {
    "npz": _write_npz,
    "tiff": _write_tiff,
    "nifti": _write_nifti,
    "folder": _write_folder,
    "memory": _write_folder,
    "ome-zarr": _write_ome_zarr,
    "big-tile": _write_ome_zarr,  # a tile of a big sample, saved as a sample of its own
}


def save_samples(
    samples: Iterable[Sample],
    out: Path,
    fmt: str,
    progress: Callable[[Sample], None] | None = None,
    extras: dict[str, str] | None = None,
    container: str | None = None,
) -> Path:
    """Write every sample into the new folder ``out``, each in its own container (or all
    in ``container``, e.g. ``ome-zarr``), and the text files ``extras`` (file name → text,
    e.g. ``precedence.json``) beside them."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    with new_folder(Path(out)) as tmp:
        write_extras(tmp, extras)
        for sample in samples:
            write_sample(sample, tmp, fmt, container)
            if progress is not None:
                progress(sample)
    return Path(out)


def write_extras(folder: Path, extras: dict[str, str] | None) -> None:
    """The text files (file name → text) written beside the samples, e.g. precedence.json."""
    for name, text in (extras or {}).items():
        (folder / name).write_text(text, encoding="utf-8")


CONTAINERS = ("same", "ome-zarr")  # what a user may ask to save in


def write_sample(sample: Sample, folder: Path, fmt: str, container: str | None = None) -> None:
    """Write one sample into ``folder`` (a :func:`new_folder` being filled), in its own
    container or in ``container``; safe to call from several processes on one folder."""
    check_name(sample.name, sample.name, "sample name")
    check_class_names(sample.class_names, sample.name)
    if container not in (None, *CONTAINERS):
        raise SegviewerError(f"container {container!r}: expected one of {', '.join(CONTAINERS)}")
    chosen = sample.source.format if container in (None, "same") else container
    WRITERS[chosen](sample, folder, fmt)
