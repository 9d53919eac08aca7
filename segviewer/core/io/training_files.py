"""Image and label files as training frameworks read them (nnU-Net, MONAI).

3D samples are NIfTI (``.nii.gz``, with the sample's affine, else one of the canonical
orientation, core.io.orientation, with its voxel size); 2D samples are PNG when every image
is 8- or 16-bit integer, else NIfTI. One file per channel (nnU-Net's ``{case}_{XXXX}``);
labels are one integer image per sample.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from segviewer.core.data.sample import Dataset, Sample
from segviewer.core.errors import SegviewerError
from segviewer.core.io.label_scheme import IGNORE, LabelScheme, combinations_in
from segviewer.core.io.orientation import affine_without_source
from segviewer.core.io.writers import nifti_array, nifti_image

PNG_TYPES = (np.uint8, np.uint16, np.bool_)


@dataclass
class DatasetSurvey:
    """What an export must know before writing a file: read once over every sample."""

    class_names: list[str]
    dims: int
    channels: int
    png: bool  # every image fits PNG (2D, 8/16-bit)
    names: list[str] = field(default_factory=list)  # the samples surveyed, in order
    combinations: set = field(default_factory=set)
    sizes: np.ndarray | None = None  # pixels per class
    conflicts: int = 0
    ignore: bool = False

    @property
    def file_ending(self) -> str:
        return ".png" if self.png else ".nii.gz"

    def scheme(self) -> LabelScheme:
        return LabelScheme.for_dataset(self.class_names, self.combinations, list(self.sizes))


def channels_of(sample: Sample) -> int:
    return sample.image.shape[-1] if sample.rgb else 1


@dataclass
class SampleFacts:
    """What an export needs to know of one sample (small: a dataset job sends it back)."""

    name: str
    class_names: list[str]
    dims: int
    channels: int
    png: bool
    combinations: set
    sizes: np.ndarray
    conflicts: int
    ignore: bool


def sample_facts(sample: Sample) -> SampleFacts:
    masks = sample.masks
    return SampleFacts(
        sample.name,
        list(sample.class_names),
        len(sample.spatial_shape),
        channels_of(sample),
        sample.image.dtype.type in PNG_TYPES,
        combinations_in(masks),
        masks.reshape(len(masks), -1).sum(axis=1, dtype=np.int64),
        int(np.count_nonzero(masks.sum(axis=0) > 1)),
        sample.ignore is not None and bool(sample.ignore.any()),
    )


def survey(samples: Iterable[Sample], progress: Callable[[], None] | None = None) -> DatasetSurvey:
    """Classes, dimensions, channels, file type and class combinations of a dataset;
    refuses samples that differ from the first in classes, dimensions or channels."""

    def facts():
        for sample in samples:
            yield sample_facts(sample)
            if progress is not None:
                progress()

    return combine(facts())


def combine(facts: Iterable[SampleFacts]) -> DatasetSurvey:
    """The survey of a dataset from its samples' facts, in sample order."""
    result = None
    first = None
    for fact in facts:
        if result is None:
            first = fact
            _check_names(fact)
            result = DatasetSurvey(fact.class_names, fact.dims, fact.channels, fact.dims == 2)
            result.sizes = np.zeros(len(fact.class_names), np.int64)
        _check_like(first, fact, result)
        result.names.append(fact.name)
        result.png &= fact.png
        result.combinations |= fact.combinations
        result.sizes += fact.sizes
        result.conflicts += fact.conflicts
        result.ignore |= fact.ignore
    if result is None:
        raise SegviewerError("nothing to export: no sample of the dimensions asked for")
    return result


def _check_names(sample: SampleFacts) -> None:
    """nnU-Net reserves the label names ``background`` and ``ignore``."""
    if IGNORE in sample.class_names:
        raise SegviewerError(
            f"{sample.name}: a class named {IGNORE!r}; training frameworks reserve that name "
            "for pixels left out of training: rename the class"
        )


def _check_like(first: SampleFacts, sample: SampleFacts, survey: DatasetSurvey) -> None:
    dims, channels = sample.dims, sample.channels
    if list(sample.class_names) != survey.class_names:
        raise SegviewerError(
            f"{sample.name}: classes {sample.class_names} differ from {first.name}'s "
            f"{survey.class_names}; an export needs the same classes in every sample"
        )
    if dims != survey.dims:
        raise SegviewerError(
            f"{sample.name}: a {dims}D sample among {survey.dims}D ones ({first.name}); "
            "export 2D and 3D samples as separate datasets (--dims 2 or --dims 3)"
        )
    if channels != survey.channels:
        raise SegviewerError(
            f"{sample.name}: {channels} image channel(s), but {first.name} has "
            f"{survey.channels}; every sample of an export needs the same channel count"
        )


def affine_of(sample: Sample) -> np.ndarray:
    """The sample's NIfTI affine (that of its arrays as held), else one from its voxel size
    (1 if unknown): a 3D volume's declares the canonical orientation that the readers hold
    NIfTI volumes in (core.io.orientation), so that the files read back as the same arrays;
    a 2D image's has the voxel sizes on the diagonal."""
    if sample.source.affine is not None:
        return np.asarray(sample.source.affine, float)
    return affine_without_source(sample.spatial_shape, sample.scale)


def write_array(path: Path, array: np.ndarray, sample: Sample) -> None:
    """One image or label file: PNG (imageio) for a ``.png`` path, else NIfTI (nibabel)."""
    if path.name.endswith(".png"):
        import imageio.v3 as iio

        iio.imwrite(path, array.astype(np.uint8) if array.dtype == bool else array)
        return
    import nibabel

    nibabel.save(nifti_image(nifti_array(array, sample.name), affine_of(sample)), path)


def image_channels(sample: Sample) -> list[np.ndarray]:
    """The image as one array per channel."""
    if sample.rgb:
        return [np.ascontiguousarray(sample.image[..., c]) for c in range(channels_of(sample))]
    return [sample.image]


def samples_of(dataset: Dataset, dims: int | None = None) -> Iterable[Sample]:
    """The dataset's samples, only those with ``dims`` spatial axes if given."""
    for index in range(len(dataset)):
        sample = dataset.sample(index)
        if dims is None or len(sample.spatial_shape) == dims:
            yield sample
