"""NIfTI pair ``NAME.nii.gz`` (image) + ``NAME_masks.nii.gz`` (4D, class axis last).

A 3D volume is held in the canonical orientation of core.io.orientation (axial slices
along axis 0, anterior up, the patient's right on the left), its masks (spatial axes) and
voxel sizes with it, and the image file's orientation decides for both files. The sample's
affine is that of the arrays as held; the file's affine and layout are kept in the source
for writing back. 2D images stay in file order, and so does a volume whose affine decides
no orientation (with a warning). The voxel sizes become the layer scale.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from segviewer.core.data.masks import ClassAxis
from segviewer.core.data.sample import Sample, SampleRef, Source
from segviewer.core.io.orientation import hold_canonical
from segviewer.core.io.readers._common import (
    NIFTI_SUFFIXES,
    build_pair_sample,
    find_pair,
    pair_ref,
    reading,
    require_image_partner,
)


def nifti_pair(path: Path) -> tuple[Path, Path] | None:
    """``(image, masks or labels)`` for a NIfTI file of a pair, else None (not ours)."""
    return find_pair(path, NIFTI_SUFFIXES)


def _class_names(img) -> list[str] | None:
    """Class names that segviewer stored in a JSON "comment" header extension, if any."""
    for extension in img.header.extensions:
        try:
            names = json.loads(extension.get_content()).get("class_names")
        except (ValueError, AttributeError, TypeError):
            continue
        if isinstance(names, list):
            return [str(n) for n in names]
    return None


def _load(path: Path, what: str):
    import nibabel

    with reading(path, what):
        img = nibabel.load(path)
        return img, np.asanyarray(img.dataobj)


def read_nifti_pair(image_path: Path, masks_path: Path, class_axis: ClassAxis = "auto") -> Sample:
    require_image_partner(image_path, masks_path)
    img, image = _load(image_path, "NIfTI image")
    masks_img, masks = _load(masks_path, "NIfTI masks file")
    names = _class_names(masks_img)
    zooms = tuple(float(z) for z in img.header.get_zooms()[: image.ndim])
    source = Source("nifti", (image_path, masks_path), affine=np.asarray(img.affine))
    sample = build_pair_sample(
        image_path, masks_path, image, masks, names, source, class_axis=class_axis, scale=zooms
    )
    return hold_canonical(sample, str(image_path))


def nifti_ref(path: Path, class_axis: ClassAxis = "auto") -> SampleRef:
    return pair_ref(
        path,
        nifti_pair(path),
        lambda i, m: read_nifti_pair(i, m, class_axis),
        "NIfTI",
        "NAME.nii.gz + NAME_masks.nii.gz (4D, class axis last)",
    )
