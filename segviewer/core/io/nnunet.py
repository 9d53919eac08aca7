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

from segviewer.core.data.sample import Dataset, Sample
from segviewer.core.errors import SegviewerError
from segviewer.core.io.atomic import new_folder
from segviewer.core.io.label_scheme import LabelScheme
from segviewer.core.io.training_files import (
    DatasetSurvey,
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


def new_dataset_folder(out: Path, dataset_id: int, name: str) -> Path:
    """``out/DatasetNNN_NAME``, refused if it exists."""
    folder = Path(out) / dataset_folder_name(dataset_id, name)
    if folder.exists():
        raise SegviewerError(f"{folder}: already exists; choose another --id, --name or --out")
    return folder


def export_nnunet(
    dataset: Dataset,
    out: Path,
    dataset_id: int,
    name: str,
    progress: Callable[[str], None] | None = None,
    dims: int | None = None,
) -> Path:
    """Write ``out/DatasetNNN_NAME`` (a new folder, complete or not at all) in this process;
    return it. ``progress(phase)`` follows each sample read ("survey") and written
    ("write"); ``dims`` exports only the 2D or 3D samples. core.jobs runs it on Dask."""
    folder = new_dataset_folder(out, dataset_id, name)
    tick = (lambda phase: None) if progress is None else progress
    found = survey(samples_of(dataset, dims), lambda: tick("survey"))
    scheme = found.scheme()
    with new_folder(folder) as tmp:
        make_layout(tmp)
        for sample in samples_of(dataset, dims):
            write_case(sample, tmp, scheme, found.file_ending)
            tick("write")
        write_description(tmp, found, scheme, name)
    return folder


def make_layout(folder: Path) -> None:
    (folder / "imagesTr").mkdir()
    (folder / "labelsTr").mkdir()


def write_case(sample: Sample, folder: Path, scheme: LabelScheme, ending: str) -> None:
    """One case: its image channels and its label image (safe from several processes)."""
    for c, channel in enumerate(image_channels(sample)):
        write_array(folder / "imagesTr" / f"{sample.name}_{c:04d}{ending}", channel, sample)
    labels = scheme.encode(sample.masks, sample.ignore)
    write_array(folder / "labelsTr" / f"{sample.name}{ending}", labels, sample)


def write_description(folder: Path, found: DatasetSurvey, scheme: LabelScheme, name: str):
    """dataset.json for the cases of ``found``."""
    channel_names = ["R", "G", "B", "A"] if found.channels > 1 else ["image"]
    description = {
        "channel_names": {str(c): channel_names[c] for c in range(found.channels)},
        "labels": scheme.labels_json(found.ignore),
        "numTraining": len(found.names),
        "file_ending": found.file_ending,
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
    (folder / "dataset.json").write_text(json.dumps(description, indent=2), encoding="utf-8")
