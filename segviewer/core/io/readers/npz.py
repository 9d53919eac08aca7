"""``NAME.npz`` with arrays ``image`` and ``masks`` and an optional ``class_names``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from segviewer.core.data.masks import ClassAxis
from segviewer.core.data.sample import Sample, SampleRef, Source
from segviewer.core.errors import SegviewerError
from segviewer.core.io.readers._common import (
    build_sample,
    build_sample_from_labels,
    class_names_from,
    reading,
    stem_of,
)


def read_npz(path: Path, class_axis: ClassAxis = "auto") -> Sample:
    with reading(path, "npz file"), np.load(path, allow_pickle=False) as archive:
        if "labels" in archive.files and "masks" not in archive.files and "image" in archive.files:
            image, labels = archive["image"], archive["labels"]
            names = _names(archive, path)
            return build_sample_from_labels(
                stem_of(path), image, labels, names, Source("npz", (path,)), where=str(path)
            )
        missing = [key for key in ("image", "masks") if key not in archive.files]
        if missing:
            raise SegviewerError(
                f"{path}: missing array {' and '.join(repr(m) for m in missing)}; expected arrays "
                f"'image' and 'masks' (or 'labels'; optional 'class_names'), found: "
                f"{', '.join(archive.files)}"
            )
        image, masks = archive["image"], archive["masks"]
        class_names = _names(archive, path)
    return build_sample(
        stem_of(path),
        image,
        masks,
        class_names,
        Source("npz", (path,)),
        where=str(path),
        class_axis=class_axis,
    )


def _names(archive, path: Path) -> list[str] | None:
    if "class_names" not in archive.files:
        return None
    return class_names_from(archive["class_names"], str(path))


def npz_ref(path: Path, class_axis: ClassAxis = "auto") -> SampleRef:
    return SampleRef(stem_of(path), lambda: read_npz(path, class_axis), Source("npz", (path,)))
