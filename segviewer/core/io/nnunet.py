"""Export a dataset as an nnU-Net v2 raw dataset, without losing an overlap.

``DatasetNNN_NAME/imagesTr/{case}_{XXXX}{ending}`` (one file per channel),
``labelsTr/{case}{ending}`` and ``dataset.json`` (``channel_names``, ``labels``,
``numTraining``, ``file_ending`` and, for overlapping classes, ``regions_class_order``). The
labels follow core.io.label_scheme: plain labels when no pixel is in two classes, nested
regions when the classes nest, else one label per combination with a region per class.
``segviewer`` in dataset.json keeps the class order and the combinations for the way back.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from segviewer.core.data.sample import Dataset
from segviewer.core.errors import SegviewerError
from segviewer.core.io.atomic import new_folder
from segviewer.core.io.training_files import (
    image_channels,
    samples_of,
    survey,
    write_array,
)

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


def dataset_folder_name(dataset_id: int, name: str) -> str:
    """``DatasetNNN_NAME``; refuses ids outside 1-999 and names nnU-Net cannot use."""
    if not 1 <= dataset_id <= 999:
        raise SegviewerError(f"--id {dataset_id}: expected a dataset number from 1 to 999")
    if not NAME_PATTERN.fullmatch(name):
        raise SegviewerError(
            f"--name {name!r}: expected letters, digits, '-' and '_' (no spaces or dots)"
        )
    return f"Dataset{dataset_id:03d}_{name}"


def export_nnunet(
    dataset: Dataset,
    out: Path,
    dataset_id: int,
    name: str,
    progress: Callable[[str], None] | None = None,
    dims: int | None = None,
) -> Path:
    """Write ``out/DatasetNNN_NAME`` (a new folder, complete or not at all); return it.
    ``progress(phase)`` follows each sample read ("survey") and written ("write");
    ``dims`` exports only the 2D or 3D samples."""
    folder = Path(out) / dataset_folder_name(dataset_id, name)
    if folder.exists():
        raise SegviewerError(f"{folder}: already exists; choose another --id, --name or --out")
    tick = (lambda phase: None) if progress is None else progress
    found = survey(samples_of(dataset, dims), lambda: tick("survey"))
    scheme = found.scheme()
    ending = found.file_ending
    with new_folder(folder) as tmp:
        (tmp / "imagesTr").mkdir()
        (tmp / "labelsTr").mkdir()
        cases = 0
        for sample in samples_of(dataset, dims):
            cases += 1
            for c, channel in enumerate(image_channels(sample)):
                write_array(tmp / "imagesTr" / f"{sample.name}_{c:04d}{ending}", channel, sample)
            labels = scheme.encode(sample.masks, sample.ignore)
            write_array(tmp / "labelsTr" / f"{sample.name}{ending}", labels, sample)
            tick("write")
        channel_names = ["R", "G", "B", "A"] if found.channels > 1 else ["image"]
        description = {
            "channel_names": {str(c): channel_names[c] for c in range(found.channels)},
            "labels": scheme.labels_json(found.ignore),
            "numTraining": cases,
            "file_ending": ending,
            "name": name,
            "description": "exported by segviewer from one-hot masks",
            "segviewer": {
                "classes": found.class_names,
                "labels": scheme.kind,
                "combinations": {
                    str(k): [found.class_names[c] for c in combo]
                    for k, combo in enumerate(scheme.combinations, 1)
                },
            },
        }
        if scheme.kind != "plain":
            description["regions_class_order"] = scheme.regions_class_order()
        (tmp / "dataset.json").write_text(json.dumps(description, indent=2), encoding="utf-8")
    return folder
