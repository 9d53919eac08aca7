"""One reader for every entry point: napari's File > Open, the panel and the CLI.

``open_dataset(paths)`` turns files and folders into a :class:`Dataset` whose samples are
read on demand; ``is_supported(path)`` says, without reading anything, whether a path is
ours (napari's reader contract: foreign files are left to other readers).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from segviewer.core.data.masks import ClassAxis
from segviewer.core.data.sample import Dataset, SampleRef
from segviewer.core.errors import SegviewerError
from segviewer.core.io.readers._common import NIFTI_SUFFIXES, TIFF_SUFFIXES, full_suffix
from segviewer.core.io.readers.folder import folder_refs, is_dataset_folder
from segviewer.core.io.readers.nifti import nifti_pair, nifti_ref
from segviewer.core.io.readers.npz import npz_ref
from segviewer.core.io.readers.tiff import tiff_pair, tiff_ref

__all__ = ["FORMATS_HELP", "is_supported", "open_dataset", "sample_refs"]

FORMATS_HELP = (
    "a .npz with arrays 'image' and 'masks', a TIFF pair NAME.tif + NAME_masks.tif, a NIfTI pair "
    "NAME.nii.gz + NAME_masks.nii.gz, or a folder with images/NAME.png and masks/CLASS/NAME.png"
)

PathLike = str | os.PathLike


def is_supported(path: PathLike) -> bool:
    """True when ``path`` is a file or folder segviewer reads (looks at names only)."""
    path = Path(path)
    if path.is_dir():
        return is_dataset_folder(path) or any(_file_is_ours(p) for p in _entries(path))
    return _file_is_ours(path)


def _file_is_ours(path: Path) -> bool:
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
        return sorted(p for p in folder.iterdir() if p.is_file())
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


def _refs_for_folder(folder: Path, class_axis: ClassAxis) -> list[SampleRef]:
    if is_dataset_folder(folder):
        return folder_refs(folder)
    ours = [p for p in _entries(folder) if _file_is_ours(p)]
    if not ours:
        content = "is empty" if not any(folder.iterdir()) else "holds no segviewer samples"
        raise SegviewerError(f"{folder}: this folder {content}; expected {FORMATS_HELP}")
    return [_refs_for_file(p, class_axis) for p in ours]


def sample_refs(paths: Sequence[PathLike], class_axis: ClassAxis = "auto") -> list[SampleRef]:
    """References to every sample under ``paths``; a pair named twice counts once."""
    refs: dict[tuple[Path, ...], SampleRef] = {}
    for raw in paths:
        path = Path(raw).expanduser()
        if not path.exists():
            raise SegviewerError(f"{path}: no such file or folder")
        if path.is_dir():
            if not os.access(path, os.R_OK | os.X_OK):
                raise SegviewerError(f"{path}: permission denied, cannot list this folder")
            found = _refs_for_folder(path, class_axis)
        else:
            found = [_refs_for_file(path, class_axis)]
        for ref in found:
            refs.setdefault(tuple(p.resolve() for p in ref.source.paths), ref)
    return list(refs.values())


def open_dataset(paths: PathLike | Sequence[PathLike], class_axis: ClassAxis = "auto") -> Dataset:
    """Open files and folders as one dataset (nothing but listings is read until asked)."""
    paths = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    if not paths:
        raise SegviewerError("no path given; expected " + FORMATS_HELP)
    refs = sample_refs(paths, class_axis)
    first = Path(paths[0])
    name = first.name if len(paths) == 1 else f"{len(refs)} samples"
    if len(paths) == 1 and not first.is_dir():
        name = refs[0].name
    return Dataset(name, refs)
