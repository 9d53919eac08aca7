"""One reader for every entry point: napari's File > Open, the panel and the CLI.

``open_dataset(paths)`` turns files and folders into a :class:`Dataset` whose samples are
read on demand; ``is_supported(path)`` says, without reading anything, whether a path is
ours (napari's reader contract: foreign files are left to other readers). Only regular files
are read (a pipe named ``x.npz`` would block); hidden files are skipped; two samples of one
name in a dataset are refused (one would overwrite the other when saved).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

from segviewer.core.data.masks import ClassAxis
from segviewer.core.data.sample import Dataset, SampleRef
from segviewer.core.errors import SegviewerError
from segviewer.core.io.ome_zarr import is_ome_zarr
from segviewer.core.io.readers._common import (
    NIFTI_SUFFIXES,
    TIFF_SUFFIXES,
    full_suffix,
    is_hidden,
    is_regular_file,
)
from segviewer.core.io.readers.folder import folder_refs, is_dataset_folder
from segviewer.core.io.readers.nifti import nifti_pair, nifti_ref
from segviewer.core.io.readers.nnunet import is_nnunet_folder, nnunet_refs
from segviewer.core.io.readers.npz import npz_ref
from segviewer.core.io.readers.ome_zarr import ome_zarr_ref
from segviewer.core.io.readers.tiff import tiff_pair, tiff_ref

__all__ = ["FORMATS_HELP", "is_supported", "open_dataset", "sample_refs"]

FORMATS_HELP = (
    "a .npz with arrays 'image' and 'masks', a TIFF pair NAME.tif + NAME_masks.tif, a NIfTI pair "
    "NAME.nii.gz + NAME_masks.nii.gz, a folder with images/NAME.png and masks/CLASS/NAME.png, "
    "an OME-Zarr NAME.zarr with a labels/ group, or an nnU-Net raw dataset (dataset.json, "
    "imagesTr, labelsTr)"
)

PathLike = str | os.PathLike
Warn = Callable[[str], None]


def is_supported(path: PathLike) -> bool:
    """True when ``path`` is a file or folder segviewer reads (looks at names only)."""
    path = Path(path)
    if os.path.isdir(path):
        return (
            is_ome_zarr(path)
            or is_dataset_folder(path)
            or is_nnunet_folder(path)
            or any(_file_is_ours(p) for p in _entries(path))
            or bool(_zarr_entries(path))
        )
    return _file_is_ours(path)


def _file_is_ours(path: Path) -> bool:
    if is_hidden(path) or not is_regular_file(path):
        return False
    suffix = full_suffix(path)
    if suffix == ".npz":
        return True
    if suffix in TIFF_SUFFIXES:
        return tiff_pair(path) is not None
    if suffix in NIFTI_SUFFIXES:
        return nifti_pair(path) is not None
    return False


def _entries(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if not is_hidden(p) and is_regular_file(p))
    except OSError:
        return []


def _zarr_entries(folder: Path) -> list[Path]:
    """The OME-Zarr samples of a folder (each a folder itself)."""
    try:
        return sorted(
            p for p in folder.iterdir() if not is_hidden(p) and p.is_dir() and is_ome_zarr(p)
        )
    except OSError:
        return []


def _refs_for_file(path: Path, class_axis: ClassAxis) -> SampleRef:
    suffix = full_suffix(path)
    if suffix == ".npz":
        return npz_ref(path, class_axis)
    if suffix in TIFF_SUFFIXES:
        return tiff_ref(path, class_axis)
    if suffix in NIFTI_SUFFIXES:
        return nifti_ref(path, class_axis)
    raise SegviewerError(f"{path}: not a segviewer file; expected {FORMATS_HELP}")


def _refs_for_folder(folder: Path, class_axis: ClassAxis, warn: Warn | None) -> list[SampleRef]:
    if not os.access(folder, os.R_OK | os.X_OK):
        raise SegviewerError(f"{folder}: permission denied, cannot list this folder")
    if is_dataset_folder(folder):
        return folder_refs(folder, warn)
    if is_nnunet_folder(folder):
        return nnunet_refs(folder, warn)
    ours = [p for p in _entries(folder) if _file_is_ours(p)]
    zarrs = _zarr_entries(folder)
    if zarrs:
        return [*(_refs_for_file(p, class_axis) for p in ours), *map(ome_zarr_ref, zarrs)]
    if not ours:
        content = "is empty" if not any(folder.iterdir()) else "holds no segviewer samples"
        raise SegviewerError(f"{folder}: this folder {content}; expected {FORMATS_HELP}")
    return [_refs_for_file(p, class_axis) for p in ours]


def _refs_for_path(path: Path, class_axis: ClassAxis, warn: Warn | None) -> list[SampleRef]:
    """The samples of one argument: a folder, or a regular file."""
    if os.path.isdir(path) and is_ome_zarr(path):
        return [ome_zarr_ref(path)]
    if os.path.isdir(path):
        return _refs_for_folder(path, class_axis, warn)
    if is_regular_file(path):
        return [_refs_for_file(path, class_axis)]
    if os.path.islink(path):
        raise SegviewerError(
            f"{path}: a symbolic link that leads nowhere (broken, or a loop); expected a file "
            "or folder"
        )
    if not os.path.lexists(path):
        raise SegviewerError(f"{path}: no such file or folder")
    raise SegviewerError(
        f"{path}: not a regular file or folder (a pipe, socket or device); expected {FORMATS_HELP}"
    )


def _unique_names(refs: list[SampleRef]) -> list[SampleRef]:
    """Refuse two samples of one name: saved together, one would overwrite the other."""
    seen: dict[str, SampleRef] = {}
    for ref in refs:
        other = seen.setdefault(ref.name, ref)
        if other is not ref:
            raise SegviewerError(
                f"{ref.source.paths[0]}: sample name '{ref.name}' is also the name of "
                f"{other.source.paths[0]}; expected unique sample names in one dataset "
                "(rename one)"
            )
    return refs


def sample_refs(
    paths: Sequence[PathLike], class_axis: ClassAxis = "auto", warn: Warn | None = None
) -> list[SampleRef]:
    """References to every sample under ``paths``; a pair named twice counts once."""
    # one path lists each file under one spelling; only several paths need links resolved
    same = os.path.realpath if len(paths) > 1 else str
    refs: dict[tuple[str, ...], SampleRef] = {}
    for raw in paths:
        for ref in _refs_for_path(Path(raw).expanduser(), class_axis, warn):
            refs.setdefault(tuple(same(p) for p in ref.source.paths), ref)
    return _unique_names(list(refs.values()))


def open_dataset(
    paths: PathLike | Sequence[PathLike],
    class_axis: ClassAxis = "auto",
    warn: Warn | None = None,
) -> Dataset:
    """Open files and folders as one dataset (nothing but listings is read until asked).

    ``warn`` receives warnings about the dataset as a whole (files that are not read);
    by default they are Python warnings.
    """
    paths = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    if not paths:
        raise SegviewerError("no path given; expected " + FORMATS_HELP)
    refs = sample_refs(paths, class_axis, warn or _python_warning)
    first = Path(paths[0])
    name = first.name if len(paths) == 1 else f"{len(refs)} samples"
    if len(paths) == 1 and not os.path.isdir(first):
        name = refs[0].name
    return Dataset(name, refs)


def _python_warning(message: str) -> None:
    warnings.warn(message, UserWarning, stacklevel=4)
