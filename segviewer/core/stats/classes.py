"""Class statistics of a sample or a dataset: counts, fractions, presence and class weights.

Classes are K = 1 + C in loss order: ``background`` (pixels in no class) first, then the C
given classes. A pixel in two classes counts in both; "ignore" pixels count nowhere. The
panel and ``segviewer stats --json`` both report :meth:`ClassStats.to_json`.

A *tally* is one sample's counts as an int64 vector ``[background, class 1..C, conflicts]``:
tallies of regions add up, so an edit updates the statistics by the tally of the region it
changed (after minus before) instead of a recount.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from segviewer.core.data.encodings import BACKGROUND
from segviewer.core.errors import SegviewerError
from segviewer.core.stats.counts import count_pixels
from segviewer.core.stats.sampler import sampler_weights
from segviewer.core.stats.weights import SCHEMES, class_weights, default_beta, normalized


def tally(masks: np.ndarray, ignore: np.ndarray | None = None, region=None) -> np.ndarray:
    """``[background, *class pixels, conflicts]`` of ``masks`` (C, *spatial), optionally only
    inside ``region`` (a tuple of slices over the spatial axes)."""
    if region is not None:
        masks = masks[(slice(None), *region)]
        ignore = None if ignore is None else ignore[tuple(region)]
    counts = count_pixels(masks, ignore)
    return np.array([counts.background, *counts.classes, counts.conflicts], dtype=np.int64)


@dataclass(frozen=True)
class SampleSummary:
    """What a dataset listing shows of a sample, and its tally for the statistics."""

    shape: tuple[int, ...]  # spatial shape
    class_names: tuple[str, ...]
    tally: np.ndarray

    @property
    def present(self) -> tuple[str, ...]:
        return present_classes(self.class_names, self.tally)

    @property
    def conflicts(self) -> int:
        return int(self.tally[-1])


def present_classes(class_names: Sequence[str], row: np.ndarray) -> tuple[str, ...]:
    """The classes (not background) with at least one pixel in tally ``row``."""
    return tuple(name for name, n in zip(class_names, row[1:-1], strict=True) if n)


@dataclass
class ClassStats:
    """Statistics of one or more samples that share their classes."""

    class_names: list[str]  # the C given classes (without background)
    sample_names: list[str]
    tallies: np.ndarray  # (S, C + 2) int64: background, classes, conflicts
    beta: float | None = None  # effective-number β; None = 1 − 1/N
    _weights: dict | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def classes(self) -> list[str]:
        return [BACKGROUND, *self.class_names]

    @property
    def per_sample(self) -> np.ndarray:
        """(S, K) class counts, background first."""
        return self.tallies[:, :-1]

    @cached_property
    def counts(self) -> np.ndarray:
        return self.per_sample.sum(axis=0)

    @property
    def conflicts(self) -> int:
        return int(self.tallies[:, -1].sum())

    @property
    def total(self) -> int:
        return int(self.counts.sum())

    @property
    def frequencies(self) -> np.ndarray:
        return self.counts / self.total if self.total else np.zeros(len(self.counts))

    @property
    def present(self) -> np.ndarray:
        return self.counts > 0

    @property
    def present_in(self) -> np.ndarray:
        """Per class, the number of samples with at least one of its pixels."""
        return (self.per_sample > 0).sum(axis=0)

    @property
    def effective_beta(self) -> float:
        return default_beta(self.total) if self.beta is None else self.beta

    def weights(self) -> dict[str, np.ndarray]:
        """Raw weights of every scheme (computed once; the tallies are not changed)."""
        if self._weights is None:
            self._weights = class_weights(self.per_sample, self.beta)
        return self._weights

    def normalized_weights(self) -> dict[str, np.ndarray]:
        present = self.present
        return {name: normalized(w, present) for name, w in self.weights().items()}

    def sampler_weights(self, scheme: str = "rarest_class") -> np.ndarray:
        """Per-sample weights for a WeightedRandomSampler (core.stats.sampler), sum 1."""
        return sampler_weights(self.per_sample, scheme)

    def to_json(self) -> dict:
        """The object ``segviewer stats --json`` prints; every list in class order."""
        weights, present = self.weights(), self.present
        return {
            "classes": self.classes,
            "counts": self.counts.tolist(),
            "frequencies": self.frequencies.tolist(),
            "conflicts": self.conflicts,
            "samples": len(self.sample_names),
            "present_in": self.present_in.tolist(),
            "beta": self.effective_beta,
            "weights": {name: weights[name].tolist() for name in SCHEMES},
            "normalized_weights": {
                name: normalized(weights[name], present).tolist() for name in SCHEMES
            },
            "sampler": "rarest_class",
            "per_sample": [
                {
                    "name": name,
                    "counts": row[:-1].tolist(),
                    "conflicts": int(row[-1]),
                    "sampler_weight": float(weight),
                }
                for name, row, weight in zip(
                    self.sample_names, self.tallies, self.sampler_weights(), strict=True
                )
            ],
        }


def check_same_classes(first: tuple[str, Sequence[str]], other: tuple[str, Sequence[str]]):
    """Dataset statistics need every sample to have the same classes in the same order."""
    (name_a, classes_a), (name_b, classes_b) = first, other
    if list(classes_a) != list(classes_b):
        raise SegviewerError(
            f"{name_b}: classes {list(classes_b)} differ from {name_a}'s {list(classes_a)}; "
            "dataset statistics need the same classes in the same order in every sample"
        )


class TallyTable:
    """The tallies of a dataset's samples, filled as samples are counted and kept exact by
    edits (an edit adds the tally of the region it changed)."""

    def __init__(self, sample_names: Sequence[str]):
        self.sample_names = list(sample_names)
        self.class_names: list[str] | None = None
        self.rows = np.zeros((len(self.sample_names), 0), np.int64)
        self.known = np.zeros(len(self.sample_names), bool)
        self.mismatch: str | None = None  # why dataset statistics cannot be computed

    def set(self, index: int, class_names: Sequence[str], row: np.ndarray) -> None:
        """Record sample ``index``'s full tally."""
        if self.class_names is None:
            self.class_names = list(class_names)
            self.rows = np.zeros((len(self.sample_names), len(class_names) + 2), np.int64)
            self._first = self.sample_names[index]
        try:
            check_same_classes(
                (self._first, self.class_names), (self.sample_names[index], class_names)
            )
        except SegviewerError as error:
            self.mismatch = str(error)
            return
        self.rows[index] = row
        self.known[index] = True

    def add(self, index: int, delta: np.ndarray) -> None:
        """Add an edit's tally delta to a counted sample."""
        if self.known[index]:
            self.rows[index] += delta

    @property
    def complete(self) -> bool:
        return bool(self.known.all())

    def stats(self, indices: Sequence[int] | None = None, beta: float | None = None) -> ClassStats:
        """Statistics of the counted samples among ``indices`` (default: all)."""
        if self.mismatch:
            raise SegviewerError(self.mismatch)
        chosen = np.arange(len(self.sample_names)) if indices is None else np.asarray(indices)
        chosen = chosen[self.known[chosen]]
        return ClassStats(
            self.class_names or [],
            [self.sample_names[i] for i in chosen],
            self.rows[chosen],
            beta,
        )
