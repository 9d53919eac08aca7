"""Resolve overlap conflicts by rule, so that every pixel is in at most one class.

A conflict pixel is claimed by two or more classes. Each rule picks what it becomes:

- ``priority``: the claiming class that comes first in the priority order wins;
- ``smallest`` / ``largest``: the claiming class with the smallest / largest total area in
  the sample (pixels of its mask, conflicts included) wins;
- ``nearest``: the claiming class whose non-conflicting pixels are nearest (Euclidean
  distance in pixel units) wins;
- ``model``: the claiming class with the highest probability predicted by a model wins;
- ``table``: the winner a :class:`~segviewer.core.editing.precedence.Precedence` names for
  the pixel's combination of classes, else the first of them in its order;
- ``learned``: ``table`` with a precedence learned from the user's own fixes;
- ``ignore``: the pixel leaves every class and becomes "ignore" (255 in index labels);
- ``background``: the pixel leaves every class.

Ties go to the priority order (by default the class order). Pixels that are not in
conflict never change. With ``per_region`` every connected region of one combination
goes whole to the winner most of its pixels would get.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

from segviewer.core.data.masks import coverage
from segviewer.core.data.sample import Sample
from segviewer.core.editing.history import Change
from segviewer.core.editing.precedence import (
    WINNER_BACKGROUND,
    WINNER_IGNORE,
    Precedence,
    by_region,
    combinations_of,
    region_ids,
    winner_name,
)
from segviewer.core.errors import SegviewerError
from segviewer.core.progress import Progress, ensure

RULES = (
    "priority",
    "smallest",
    "largest",
    "nearest",
    "model",
    "table",
    "learned",
    "ignore",
    "background",
)
__all__ = ["RULES", "WINNER_BACKGROUND", "WINNER_IGNORE", "plan", "winner_name"]


@dataclass
class Resolution:
    """What a rule does to one sample, computed without changing it."""

    conflicts: tuple[np.ndarray, ...]  # indices of the conflict pixels
    winners: np.ndarray  # per conflict pixel: class index, WINNER_IGNORE or WINNER_BACKGROUND
    gains: dict[int, int]  # pixels each class (or WINNER_…) ends up owning alone
    moved: dict[tuple[int, int], int]  # (class that lost the pixel, winner) -> pixels

    @property
    def n_conflicts(self) -> int:
        return int(self.winners.size)


def priority_order(class_names: Sequence[str], priority: Sequence[str] | None) -> list[int]:
    """Class indices in priority order; names not given keep their order after those given."""
    if not priority:
        return list(range(len(class_names)))
    unknown = [name for name in priority if name not in class_names]
    if unknown:
        raise SegviewerError(
            f"unknown class {', '.join(map(repr, unknown))} in the priority order; the classes "
            f"are: {', '.join(class_names)}"
        )
    first = [class_names.index(name) for name in priority]
    return first + [c for c in range(len(class_names)) if c not in first]


def plan(
    masks: np.ndarray,
    rule: str,
    order: Sequence[int] | None = None,
    probabilities: np.ndarray | None = None,
    precedence: Precedence | None = None,
    per_region: bool = False,
    class_names: Sequence[str] | None = None,
) -> Resolution:
    """Decide every conflict pixel's fate under ``rule`` (masks shaped ``(C, *spatial)``;
    ``probabilities`` ``(1 + C, *spatial)``, background first, for the ``model`` rule;
    ``precedence`` and the ``class_names`` it refers to for ``table`` and ``learned``)."""
    if rule not in RULES:
        raise SegviewerError(f"unknown rule {rule!r}; expected one of: {', '.join(RULES)}")
    if rule == "model" and (
        probabilities is None or probabilities.shape != (masks.shape[0] + 1, *masks.shape[1:])
    ):
        raise SegviewerError(
            "the 'model' rule needs a model's class probabilities for this sample "
            f"(shape {(masks.shape[0] + 1, *masks.shape[1:])}, background first); run a model"
        )
    if rule in ("table", "learned") and (precedence is None or class_names is None):
        raise SegviewerError(f"the {rule!r} rule needs a precedence (winners and class order)")
    order = list(range(masks.shape[0])) if order is None else list(order)
    claims = coverage(masks)
    conflicts = np.nonzero(claims > 1)
    claimed = masks[(slice(None), *conflicts)].astype(bool)  # (C, n_conflicts)
    n = claimed.shape[1]
    if rule in ("ignore", "background"):
        return _done(
            conflicts,
            claimed,
            np.full(n, WINNER_IGNORE if rule == "ignore" else WINNER_BACKGROUND, np.int64),
        )
    combinations, combination = combinations_of(claimed)
    if rule in ("table", "learned"):
        winners = precedence.winner_codes(combinations, class_names, order)[combination]
    else:
        score = _scores(masks, claims, conflicts, rule, probabilities)  # lower wins
        rank = np.empty(masks.shape[0], np.int64)
        rank[order] = np.arange(len(order))
        # lexicographic: the best score first, then the priority rank; unclaimed never win
        key = np.where(claimed, score * (len(order) + 1) + rank[:, None], np.inf)
        winners = np.argmin(key, axis=0).astype(np.int64)
    if per_region:
        rank = np.full(masks.shape[0] + 2, len(order), np.int64)  # ignore, background last
        rank[np.asarray(order, np.int64) + 2] = np.arange(len(order))
        regions = region_ids(conflicts, combination, masks.shape[1:])
        winners = by_region(winners, regions, rank)
    return _done(conflicts, claimed, winners)


def _done(conflicts, claimed, winners) -> Resolution:
    return Resolution(conflicts, winners, *_bookkeeping(claimed, winners))


def _scores(masks, claims, conflicts, rule, probabilities=None) -> np.ndarray:
    """Per class and conflict pixel: a number where lower wins (all equal for priority)."""
    n = conflicts[0].size
    if rule == "priority":
        return np.zeros((masks.shape[0], n))
    if rule == "model":  # dense ranks of −probability keep exact ties equal
        negative = -probabilities[1:][(slice(None), *conflicts)]
        return np.unique(negative, return_inverse=True)[1].reshape(negative.shape).astype(float)
    if rule in ("smallest", "largest"):
        areas = np.array([np.count_nonzero(m) for m in masks], float)
        ranks = np.unique(areas, return_inverse=True)[1].astype(float)  # ties stay ties
        ranks = ranks if rule == "smallest" else ranks.max() - ranks
        return np.repeat(ranks[:, None], n, axis=1)
    alone = claims == 1
    distances = np.empty((masks.shape[0], n))
    for c, mask in enumerate(masks):
        own = alone & (mask == 1)
        if own.any():
            distances[c] = ndi.distance_transform_edt(~own)[conflicts]
        else:
            distances[c] = np.inf
    finite = np.isfinite(distances)
    # dense ranks keep exact ties equal; an unreachable class ranks after every reachable one
    values, ranks = np.unique(distances[finite], return_inverse=True)
    out = np.full(distances.shape, float(values.size))
    out[finite] = ranks
    return out


def _bookkeeping(claimed: np.ndarray, winners: np.ndarray):
    gains: dict[int, int] = {}
    moved: dict[tuple[int, int], int] = {}
    for winner in np.unique(winners).tolist():
        chosen = winners == winner
        gains[winner] = int(chosen.sum())
        for c in range(claimed.shape[0]):
            lost = int((claimed[c] & chosen).sum()) if c != winner else 0
            if lost:
                moved[(c, winner)] = lost
    return gains, moved


def apply(masks: np.ndarray, resolution: Resolution) -> np.ndarray | None:
    """Write a resolution into ``masks`` in place; return the ignore mask if any, else None."""
    index = (slice(None), *resolution.conflicts)
    block = np.zeros((masks.shape[0], resolution.n_conflicts), np.uint8)
    owners = resolution.winners >= 0
    block[resolution.winners[owners], np.flatnonzero(owners)] = 1
    masks[index] = block
    if (resolution.winners == WINNER_IGNORE).any():
        ignore = np.zeros(masks.shape[1:], np.uint8)
        ignore[resolution.conflicts] = resolution.winners == WINNER_IGNORE
        return ignore
    return None


def describe(resolution: Resolution, class_names: Sequence[str]) -> str:
    """One line per class pair: 'cell → spot: 120 px'."""

    def name(code: int) -> str:
        return winner_name(code, class_names)

    if not resolution.n_conflicts:
        return "no conflicts: nothing to do"
    return "; ".join(
        f"{name(a)} → {name(b)}: {n:,} px" for (a, b), n in sorted(resolution.moved.items())
    )


def resolve_sample(
    sample,
    rule: str,
    order: Sequence[int] | None = None,
    probabilities=None,
    precedence: Precedence | None = None,
    per_region: bool = False,
):
    """Apply ``rule`` to a Sample in place; return its Resolution and the history changes
    that undo it (the masks at the conflict pixels and, for ``ignore``, the ignore mask)."""
    resolution = plan(
        sample.masks, rule, order, probabilities, precedence, per_region, sample.class_names
    )
    if resolution.n_conflicts == 0:
        return resolution, []
    changes = [Change.capture(sample.masks, (slice(None), *resolution.conflicts))]
    if (resolution.winners == WINNER_IGNORE).any():
        if sample.ignore is None:
            sample.ignore = np.zeros(sample.masks.shape[1:], np.uint8)
        changes.append(Change.capture(sample.ignore, resolution.conflicts))
    ignore = apply(sample.masks, resolution)
    if ignore is not None:
        sample.ignore |= ignore
    return resolution, changes


def resolved_samples(
    samples: Iterable[tuple[int, Sample]],
    rule: str,
    priority: Sequence[str] | None = None,
    probabilities: Callable[[Sample, int], np.ndarray | None] | None = None,
    progress: Progress | None = None,
    total: int = 0,
    precedence: Precedence | None = None,
    per_region: bool = False,
) -> Iterator[tuple[int, Sample, Resolution, list]]:
    """The one dataset loop of every resolve: apply ``rule`` to each ``(index, sample)`` in
    place and yield ``(index, sample, resolution, undo changes)``, in order.
    ``probabilities(sample, index)`` gives a model's class probabilities (``model`` rule);
    ``precedence`` the winners of the ``table`` and ``learned`` rules."""
    progress = ensure(progress)
    progress.start(total, f"resolving by {rule}")
    for index, sample in samples:
        order = priority_order(sample.class_names, priority)
        found = probabilities(sample, index) if probabilities is not None else None
        resolution, changes = resolve_sample(sample, rule, order, found, precedence, per_region)
        yield index, sample, resolution, changes
        progress.step(sample.name)
