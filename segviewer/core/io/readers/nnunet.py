"""An nnU-Net v2 raw dataset folder (``dataset.json`` + ``imagesTr`` + ``labelsTr``) as
one-hot masks: plain labels become one mask each, regions become overlapping masks, and the
``ignore`` label becomes the sample's ignore mask. NIfTI volumes are held in the canonical
orientation, as the NIfTI reader holds them (core.io.orientation), by the label file's
affine."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from segviewer.core.data.masks import check_image, is_rgb
from segviewer.core.data.names import check_class_names
from segviewer.core.data.sample import Sample, SampleRef, Source
from segviewer.core.errors import SegviewerError
from segviewer.core.io.label_scheme import LabelScheme
from segviewer.core.io.orientation import hold_canonical
from segviewer.core.io.readers._common import reading

DESCRIPTION = "dataset.json"


def is_nnunet_folder(path: Path) -> bool:
    return (
        os.path.isfile(path / DESCRIPTION)
        and os.path.isdir(path / "imagesTr")
        and os.path.isdir(path / "labelsTr")
    )


ENDINGS = (".nii.gz", ".nii", ".png", ".tif", ".tiff")


def _description(root: Path) -> dict:
    where = root / DESCRIPTION
    with reading(where, "dataset.json"):
        data = json.loads(where.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise SegviewerError(f"{where}: not an nnU-Net dataset.json (not a JSON object)")
    missing = [k for k in ("labels", "channel_names", "file_ending") if k not in data]
    if missing:
        raise SegviewerError(
            f"{where}: not an nnU-Net dataset.json (no {missing[0]!r}); expected labels, "
            "channel_names and file_ending"
        )
    if data["file_ending"] not in ENDINGS or not isinstance(data["channel_names"], dict):
        raise SegviewerError(
            f"{where}: file_ending {data['file_ending']!r} is not one segviewer reads; "
            f"expected one of {', '.join(ENDINGS)} and channel_names an object"
        )
    return data


def _scheme(data: dict, where: Path) -> tuple[LabelScheme, list[int]]:
    """The label scheme, and the class order to show (segviewer's own when it exported)."""
    scheme = LabelScheme.from_labels_json(data["labels"], str(where))
    names = list(scheme.class_names)
    wanted = (
        data.get("segviewer", {}).get("classes")
        if isinstance(data.get("segviewer"), dict)
        else None
    )
    if isinstance(wanted, list) and sorted(map(str, wanted)) == sorted(names):
        return scheme, [names.index(str(n)) for n in wanted]
    return scheme, list(range(len(names)))


def nnunet_refs(root: Path, warn: Callable[[str], None] | None = None) -> list[SampleRef]:
    """One sample per label file that has its image files; the others are named in a
    warning and left out."""
    data = _description(root)
    scheme, order = _scheme(data, root / DESCRIPTION)
    ending = str(data["file_ending"])
    channels = len(data["channel_names"])
    refs, orphans = [], []
    for label_path in sorted((root / "labelsTr").glob(f"*{ending}")):
        case = label_path.name[: -len(ending)]
        images = [root / "imagesTr" / f"{case}_{c:04d}{ending}" for c in range(channels)]
        if channels > 1 and not images[1].is_file():
            images = images[:1]  # nnU-Net's natural images: one RGB(A) file, _0000
        if not all(p.is_file() for p in images):
            orphans.append(label_path.name)
            continue
        source = Source("nifti" if ending.startswith(".nii") else "memory", (*images, label_path))

        def load(case=case, images=images, label_path=label_path, source=source) -> Sample:
            return _read_case(case, images, label_path, scheme, order, source)

        refs.append(SampleRef(case, load, source))
    if orphans and warn is not None:
        warn(
            f"{root / 'labelsTr'}: {len(orphans)} label file(s) without their image "
            f"(imagesTr/CASE_0000{ending}) left out: {', '.join(orphans[:5])}"
        )
    if not refs:
        raise SegviewerError(
            f"{root}: an nnU-Net dataset with no case that has both labels and images"
        )
    return refs


def _read(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    """An image or label file and its NIfTI affine (None for PNG/TIFF)."""
    with reading(path, "image file"):
        if path.name.endswith((".nii.gz", ".nii")):
            import nibabel

            img = nibabel.load(path)
            return np.asanyarray(img.dataobj), np.asarray(img.affine)
        import imageio.v3 as iio

        return np.asarray(iio.imread(path)), None


def _read_case(case, images, label_path, scheme, order, source) -> Sample:
    channels = [_read(p)[0] for p in images]
    labels, affine = _read(label_path)
    image = channels[0] if len(channels) == 1 else np.stack(channels, axis=-1)
    check_image(image, str(images[0]))
    if image.shape != labels.shape and not (is_rgb(image) and image.shape[:-1] == labels.shape):
        raise SegviewerError(
            f"{images[0]}: an image of shape {image.shape} for labels of {labels.shape}; "
            "expected one 2D or 3D image (RGB(A) for 2D) of the labels' shape"
        )
    highest = scheme.ignore_label
    if labels.size and (labels.min() < 0 or labels.max() > highest):
        raise SegviewerError(
            f"{label_path}: label values {labels.min()}..{labels.max()} outside 0..{highest} "
            "that dataset.json defines"
        )
    masks, ignore = scheme.decode(labels)
    # each read its own source: the reorientation sets its affine and extra
    source = dataclasses.replace(source, affine=affine, extra=dict(source.extra))
    if affine is None:
        scale = None
    else:
        scale = tuple(float(z) for z in np.linalg.norm(affine[:3, :3], axis=0)[: labels.ndim])
    names = check_class_names([scheme.class_names[i] for i in order], str(label_path))
    sample = Sample(
        case, image, np.ascontiguousarray(masks[order]), names, source, scale=scale, ignore=ignore
    )
    return hold_canonical(sample, str(label_path))  # as the NIfTI reader holds a volume
