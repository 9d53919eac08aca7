"""A sample (image + one-hot masks) and a dataset (an ordered list of lazily loaded samples)."""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from segviewer.core.data.masks import is_rgb, spatial_shape_of


@dataclass
class Source:
    """Where a sample came from, kept so that it can be written back in the same container."""

    format: str  # "npz" | "tiff" | "folder" | "nifti" | "memory"
    paths: tuple[Path, ...] = ()
    affine: np.ndarray | None = None  # NIfTI only: the affine of the arrays as held
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Sample:
    """One image with its one-hot masks, shaped ``(C, *spatial)``, uint8 0/1, C-contiguous."""

    name: str
    image: np.ndarray
    masks: np.ndarray
    class_names: list[str]
    source: Source = field(default_factory=lambda: Source("memory"))
    scale: tuple[float, ...] | None = None  # physical voxel size per spatial axis, if known
    warnings: list[str] = field(default_factory=list)
    ignore: np.ndarray | None = None  # uint8 1 where training should skip the pixel
    # names of the spatial axes for display, e.g. ("I→S", "A→P", "R→L") for a NIfTI volume
    # held in the canonical orientation (core.io.orientation); None if not known
    axis_names: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.masks.shape[0] != len(self.class_names):
            raise ValueError(
                f"{self.name}: {self.masks.shape[0]} masks but {len(self.class_names)} class names"
            )

    @property
    def spatial_shape(self) -> tuple[int, ...]:
        return spatial_shape_of(self.image)

    @property
    def rgb(self) -> bool:
        return is_rgb(self.image)


@dataclass
class SampleRef:
    """A sample that has not necessarily been read yet: its name and how to read it."""

    name: str
    load: Callable[[], Sample]
    source: Source


class Dataset:
    """An ordered collection of samples, read on demand.

    Samples the user has edited are pinned in memory, so switching samples never loses an
    edit (after a save too: the source files still hold the unedited data); unedited samples
    are kept in a small cache and re-read when evicted. Edited samples not saved since their
    last edit are *modified* (the ● mark).
    """

    def __init__(self, name: str, refs: Sequence[SampleRef], cache_size: int = 3):
        if not refs:
            raise ValueError("a dataset needs at least one sample")
        self.name = name
        self.refs = list(refs)
        self.cache_size = cache_size
        self._cache: OrderedDict[int, Sample] = OrderedDict()
        self._edited: dict[int, Sample] = {}
        self._unsaved: set[int] = set()

    @classmethod
    def from_samples(cls, name: str, samples: Sequence[Sample]) -> Dataset:
        """A dataset of samples already in memory (e.g. the synthetic sample data)."""
        refs = [SampleRef(s.name, (lambda s=s: s), s.source) for s in samples]
        dataset = cls(name, refs, cache_size=len(refs))
        for index, sample in enumerate(samples):
            dataset._cache[index] = sample
        return dataset

    def __len__(self) -> int:
        return len(self.refs)

    @functools.cached_property
    def names(self) -> list[str]:
        """Every sample's name, in order (a dataset's samples never change)."""
        return [ref.name for ref in self.refs]

    def sample(self, index: int) -> Sample:
        """Return sample ``index``: the edited copy if there is one, else read (or cached)."""
        if index in self._edited:
            return self._edited[index]
        if index in self._cache:
            self._cache.move_to_end(index)
            return self._cache[index]
        sample = self.refs[index].load()
        self._cache[index] = sample
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return sample

    def mark_modified(self, index: int, sample: Sample | None = None) -> None:
        """Pin sample ``index`` (the given object, else the current one) in memory: it holds
        edits that are not saved yet."""
        self._edited[index] = sample if sample is not None else self.sample(index)
        self._unsaved.add(index)

    def mark_saved(self, index: int) -> None:
        """Sample ``index`` was written as it is now (it stays in memory, edited)."""
        self._unsaved.discard(index)

    def is_modified(self, index: int) -> bool:
        """Whether sample ``index`` has edits that are not saved."""
        return index in self._unsaved

    def is_edited(self, index: int) -> bool:
        """Whether sample ``index`` was ever edited (its edited copy is kept in memory)."""
        return index in self._edited

    @property
    def modified(self) -> list[int]:
        return sorted(self._unsaved)

    def __iter__(self):
        """Yield every sample in order (each read as needed; edited samples as edited)."""
        for index in range(len(self)):
            yield self.sample(index)
