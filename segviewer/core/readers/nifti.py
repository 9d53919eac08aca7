"""NIfTI pair ``NAME.nii.gz`` (image) + ``NAME_masks.nii.gz`` (4D, class axis last).

The image's affine is kept in the sample's source for writing back; the voxel sizes
become the layer scale.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from segviewer.core.masks import ClassAxis
from segviewer.core.readers._common import (
    MASKS_TAG,
    NIFTI_SUFFIXES,
    build_sample,
    pair_ref,
    reading,
    require_image_partner,
    stem_of,
)
from segviewer.core.sample import Sample, SampleRef, Source


def nifti_pair(path: Path) -> tuple[Path, Path] | None:
    """``(image, masks)`` for a NIfTI file that belongs to a pair, else None (not ours)."""
    stem = stem_of(path)
    if stem.endswith(MASKS_TAG):
        base = stem[: -len(MASKS_TAG)]
        found = [
            path.with_name(base + s) for s in NIFTI_SUFFIXES if path.with_name(base + s).is_file()
        ]
        return (found[0] if found else path.with_name(base + NIFTI_SUFFIXES[0]), path)
    for suffix in NIFTI_SUFFIXES:
        if path.with_name(stem + MASKS_TAG + suffix).is_file():
            return path, path.with_name(stem + MASKS_TAG + suffix)
    return None


def _load(path: Path, what: str):
    import nibabel

    with reading(path, what):
        img = nibabel.load(path)
        return img, np.asanyarray(img.dataobj)


def read_nifti_pair(image_path: Path, masks_path: Path, class_axis: ClassAxis = "auto") -> Sample:
    require_image_partner(image_path, masks_path)
    img, image = _load(image_path, "NIfTI image")
    _, masks = _load(masks_path, "NIfTI masks file")
    zooms = tuple(float(z) for z in img.header.get_zooms()[: image.ndim])
    source = Source("nifti", (image_path, masks_path), affine=np.asarray(img.affine))
    return build_sample(
        stem_of(image_path),
        image,
        masks,
        None,
        source,
        where=str(masks_path),
        class_axis=class_axis,
        scale=zooms,
    )


def nifti_ref(path: Path, class_axis: ClassAxis = "auto") -> SampleRef:
    return pair_ref(
        path,
        nifti_pair(path),
        lambda i, m: read_nifti_pair(i, m, class_axis),
        "NIfTI",
        "NAME.nii.gz + NAME_masks.nii.gz (4D, class axis last)",
    )
