"""Export a dataset for MONAI: files, a Decathlon-style datalist and a training snippet.

``OUT/imagesTr/{case}{ending}`` (channels stacked by MONAI from one file each),
``OUT/labelsTr/{case}{ending}`` and ``OUT/dataset.json`` with ``training`` and
``validation`` lists of ``{"image", "label"}`` paths relative to it, which
``monai.data.load_decathlon_datalist`` loads. Labels are exclusive index labels (0
background, c + 1 class c) when no pixel is in two classes; otherwise one 0/1 file per class
(``labelsTr/{case}_{class}{ending}``, a multi-label target for sigmoid losses), so nothing is
lost. ``train_monai.py`` sets up transforms, a WeightedRandomSampler with the sampler weights
and DiceCELoss with the class weights given.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

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

SNIPPET = "train_monai.py"


def validation_cases(names: Sequence[str], fraction: float, seed: int) -> set[str]:
    """A seeded ``fraction`` of the cases (at least one when there are two or more)."""
    if not 0 <= fraction < 1:
        raise SegviewerError(f"--validation {fraction}: expected a share from 0 to below 1")
    count = min(len(names) - 1, max(1, round(fraction * len(names)))) if fraction else 0
    order = np.random.default_rng(seed).permutation(len(names))
    return {names[i] for i in order[:count]}


def export_monai(
    dataset: Dataset,
    out: Path,
    class_weights: Sequence[float],
    sampler_weights: Sequence[float],
    scheme: str,
    validation: float = 0.2,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
    dims: int | None = None,
) -> Path:
    """Write the new folder ``out`` (complete or not at all) in this process; return it.
    ``class_weights`` (background first) and ``sampler_weights`` (one per sample of the
    dataset) go into the snippet; ``dims`` exports only the 2D or 3D samples. core.jobs
    runs it on Dask."""
    out = new_export_folder(out)
    tick = (lambda phase: None) if progress is None else progress
    found = survey(samples_of(dataset, dims), lambda: tick("survey"))
    layout = MonaiLayout.of(found)
    held_out = validation_cases(found.names, validation, seed)  # refuses a bad share first
    with new_folder(out) as tmp:
        make_layout(tmp)
        index_of = {name: i for i, name in enumerate(dataset.names)}
        cases = []
        for sample in samples_of(dataset, dims):
            entry = write_case(sample, tmp, layout)
            cases.append(Case(index_of[sample.name], sample.name, entry))
            tick("write")
        write_description(
            tmp, dataset.name, found, cases, held_out, class_weights, sampler_weights, scheme
        )
    return out


def new_export_folder(out: Path) -> Path:
    """``out``, refused if it exists."""
    out = Path(out)
    if out.exists():
        raise SegviewerError(f"{out}: already exists; choose a new --out folder")
    return out


@dataclass(frozen=True)
class MonaiLayout:
    """How every case is written: what a task needs to know of the whole dataset."""

    ending: str
    scheme: LabelScheme  # plain labels (c + 1 for class c) when no pixel is in two classes
    per_class: tuple[str, ...] | None  # overlaps: one 0/1 file per class of these names
    ignore: bool  # some pixels are to be left out: every case gets an ignore file

    @classmethod
    def of(cls, found: DatasetSurvey) -> MonaiLayout:
        per_class = tuple(found.class_names) if found.conflicts > 0 else None
        return cls(found.file_ending, found.scheme(), per_class, found.ignore)


def make_layout(folder: Path) -> None:
    (folder / "imagesTr").mkdir()
    (folder / "labelsTr").mkdir()


def write_case(sample: Sample, folder: Path, layout: MonaiLayout) -> dict:
    """Write one case's files into ``folder`` (safe from several processes); return its
    datalist entry ``{"image", "label"[, "ignore"]}``, paths relative to ``folder``."""
    ending = layout.ending
    images = []
    for c, channel in enumerate(image_channels(sample)):
        images.append(f"imagesTr/{sample.name}_{c:04d}{ending}")
        write_array(folder / images[-1], channel, sample)
    if layout.per_class is not None:
        label = [f"labelsTr/{sample.name}_{n}{ending}" for n in layout.per_class]
        for path, mask in zip(label, sample.masks, strict=True):
            write_array(folder / path, mask, sample)
    else:
        label = f"labelsTr/{sample.name}{ending}"
        write_array(folder / label, layout.scheme.encode(sample.masks), sample)
    entry = {"image": images if len(images) > 1 else images[0], "label": label}
    if layout.ignore:  # every case gets one (a batch needs the same keys)
        entry["ignore"] = f"labelsTr/{sample.name}_ignore{ending}"
        ignore = np.zeros(sample.spatial_shape, bool)
        if sample.ignore is not None:
            ignore = sample.ignore > 0
        write_array(folder / entry["ignore"], ignore, sample)
    return entry


@dataclass(frozen=True)
class Case:
    """A case written: the sample's index in the dataset, its name and its datalist entry."""

    index: int
    name: str
    entry: dict


def write_description(
    folder: Path,
    name: str,
    found: DatasetSurvey,
    cases: Sequence[Case],
    held_out: set[str],
    class_weights: Sequence[float],
    sampler_weights: Sequence[float],
    scheme: str,
) -> None:
    """dataset.json (the cases in order, as training and validation lists) and the snippet
    (with the sampler weights of the training cases, from one weight per dataset sample)."""
    one_hot = found.conflicts > 0
    lists: dict[str, list] = {"training": [], "validation": []}
    sampler: list[float] = []
    for case in cases:
        part = "validation" if case.name in held_out else "training"
        lists[part].append(case.entry)
        if part == "training":
            sampler.append(float(sampler_weights[case.index]))
    first = 0 if one_hot else 1  # per-class files: channel c is class c, no background
    datalist = {
        "name": name,
        "labels": ({} if one_hot else {"0": "background"})
        | {str(c + first): n for c, n in enumerate(found.class_names)},
        "label_format": "one file per class (multi-label)" if one_hot else "index labels",
        **lists,
    }
    (folder / "dataset.json").write_text(json.dumps(datalist, indent=2), encoding="utf-8")
    snippet = training_snippet(
        found.class_names, class_weights, sampler, scheme, one_hot, found.dims
    )
    (folder / SNIPPET).write_text(snippet, encoding="utf-8")


def training_snippet(
    classes: Sequence[str],
    class_weights: Sequence[float],
    sampler_weights: Sequence[float],
    scheme: str,
    one_hot: bool,
    dims: int,
) -> str:
    """A runnable MONAI set-up: datalists, transforms, sampler and weighted DiceCELoss."""
    weights = ", ".join(f"{w:.6g}" for w in class_weights)
    sampler = ", ".join(f"{w:.6g}" for w in sampler_weights)
    patch = (128, 128) if dims == 2 else (64, 64, 64)
    if one_hot:
        spatial = ", 1" * dims
        loss = (
            "# one 0/1 channel per class (overlaps kept): sigmoid outputs, no background channel;\n"
            "# weighted Dice + binary cross-entropy (MONAI's DiceCELoss would use softmax CE)\n"
            "dice_loss = DiceLoss(sigmoid=True, weight=CLASS_WEIGHTS[1:])\n"
            "bce_loss = torch.nn.BCEWithLogitsLoss(\n"
            f"    pos_weight=CLASS_WEIGHTS[1:].view(-1{spatial})\n"
            ")\n"
            "\n\n"
            "def loss_function(logits, target):\n"
            "    return dice_loss(logits, target) + bce_loss(logits, target)\n"
            "\n\n"
            "OUT_CHANNELS = len(CLASS_NAMES) - 1"
        )
    else:
        loss = (
            "# index labels (0 = background): softmax outputs, one channel per class\n"
            "loss_function = DiceCELoss(to_onehot_y=True, softmax=True, weight=CLASS_WEIGHTS)\n"
            "OUT_CHANNELS = len(CLASS_NAMES)"
        )
    return f'''"""MONAI training set-up for this export, written by segviewer.

Class weights: scheme '{scheme}' (normalized: mean over present classes = 1), background
first. Sampler weights: segviewer's rarest_class scheme over the whole dataset, one per
training case, for torch.utils.data.WeightedRandomSampler. When some pixels are to be left
out of training, every case lists an "ignore" file (1 = leave out): mask them out of your
loss. Run it to load one batch and compute the loss.
"""

from pathlib import Path

import torch
from monai.data import DataLoader, Dataset, load_decathlon_datalist
from monai.losses import DiceCELoss, DiceLoss
from monai.transforms import (
    Compose,
    EnsureChannelFirstd,
    EnsureTyped,
    LoadImaged,
    RandSpatialCropd,
    ScaleIntensityRangePercentilesd,
    SpatialPadd,
)

DATALIST = Path(__file__).with_name("dataset.json")
CLASS_NAMES = {["background", *classes]!r}
CLASS_WEIGHTS = torch.tensor([{weights}], dtype=torch.float32)
SAMPLER_WEIGHTS = [{sampler}]
PATCH = {patch!r}

{loss}

train_files = load_decathlon_datalist(DATALIST, True, "training")
validation_files = load_decathlon_datalist(DATALIST, True, "validation")
keys = ["image", "label"] + (["ignore"] if "ignore" in train_files[0] else [])
train_transforms = Compose([
    LoadImaged(keys, image_only=True),
    EnsureChannelFirstd(keys),
    ScaleIntensityRangePercentilesd("image", 1, 99.8, 0.0, 1.0),
    SpatialPadd(keys, PATCH),
    RandSpatialCropd(keys, PATCH, random_size=False),
    EnsureTyped(keys),
])
sampler = torch.utils.data.WeightedRandomSampler(SAMPLER_WEIGHTS, len(train_files))
train_loader = DataLoader(Dataset(train_files, train_transforms), batch_size=2, sampler=sampler)

if __name__ == "__main__":
    batch = next(iter(train_loader))
    logits = torch.zeros((batch["label"].shape[0], OUT_CHANNELS, *PATCH))
    target = batch["label"].float()
    print("image", tuple(batch["image"].shape), "label", tuple(batch["label"].shape),
          "loss", float(loss_function(logits, target)))
'''
