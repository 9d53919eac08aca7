"""Scores of a prediction against one-hot ground truth, and the per-pixel error map.

Classes are K = 1 + C, background first. The ground truth is taken channel by channel as
loaded: background = pixels in no class (and not ignored); a pixel claimed by two classes
is ground truth for each of them (so a single prediction cannot be right for both). The
prediction is an index label image (0 = background, c + 1 = class c).

Per class c: TP = truth_c ∧ pred = c, FP = ¬truth_c ∧ pred = c, FN = truth_c ∧ pred ≠ c;
Dice = 2TP / (2TP + FP + FN), IoU = TP / (TP + FP + FN), precision = TP / (TP + FP),
recall = TP / (TP + FN). Dice, IoU and recall are undefined (None) where the ground truth
of the class is empty (MONAI's ``ignore_empty=True``), precision where nothing was
predicted as the class. Ignored pixels count nowhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CORRECT, MISSED, EXTRA, WRONG_CLASS = 0, 1, 2, 3
ERROR_NAMES = {
    CORRECT: "correct",
    MISSED: "missed (false negative)",
    EXTRA: "extra (false positive)",
    WRONG_CLASS: "wrong class",
}


def format_score(value: float | None) -> str:
    """A score as tables show it: three decimals, or "–" where it is undefined."""
    return "–" if value is None else f"{value:.3f}"


def score_line(classes: list[str], values: list) -> str:
    """``background 0.998, cell 0.975, spot –``."""
    return ", ".join(f"{c} {format_score(v)}" for c, v in zip(classes, values, strict=True))


def truth_channels(masks: np.ndarray, ignore: np.ndarray | None = None) -> np.ndarray:
    """(K, *spatial) bool: background (pixels in no class, not ignored), then the classes."""
    masks = masks.astype(bool)
    background = ~masks.any(axis=0)
    if ignore is not None:
        background &= ~ignore.astype(bool)
    return np.concatenate([background[None], masks])


@dataclass
class Scores:
    """Per-class scores of one sample (or a dataset: means over samples with a score)."""

    dice: list[float | None]
    iou: list[float | None]
    precision: list[float | None]
    recall: list[float | None]
    confusion: np.ndarray  # (K, K): rows truth class, columns predicted class


def _ratio(numerator: np.ndarray, denominator: np.ndarray, defined: np.ndarray) -> list:
    return [
        float(n / d) if ok and d > 0 else None
        for n, d, ok in zip(numerator, denominator, defined, strict=True)
    ]


def score_sample(masks: np.ndarray, predicted: np.ndarray, ignore=None) -> Scores:
    """Scores of index labels ``predicted`` against one-hot ``masks`` (C, *spatial)."""
    truth = truth_channels(masks, ignore)
    classes = truth.shape[0]
    valid = None if ignore is None else ~ignore.astype(bool)
    counted = predicted if valid is None else predicted[valid]
    predicted_count = np.bincount(counted.ravel(), minlength=classes)[:classes]
    confusion = np.zeros((classes, classes), np.int64)
    for t in range(classes):
        inside = truth[t] if valid is None else truth[t] & valid
        confusion[t] = np.bincount(predicted[inside], minlength=classes)[:classes]
    tp = np.diag(confusion).astype(np.float64)
    truth_count = confusion.sum(axis=1).astype(np.float64)
    fp = predicted_count - tp
    fn = truth_count - tp
    has_truth = truth_count > 0
    return Scores(
        dice=_ratio(2 * tp, 2 * tp + fp + fn, has_truth),
        iou=_ratio(tp, tp + fp + fn, has_truth),
        precision=_ratio(tp, tp + fp, np.ones(classes, bool)),
        recall=_ratio(tp, tp + fn, has_truth),
        confusion=confusion,
    )


def mean_scores(per_sample: list[Scores]) -> Scores:
    """Dataset scores: per class, the mean over samples that have a score; confusions add."""

    def mean(name: str) -> list[float | None]:
        columns = zip(*(getattr(s, name) for s in per_sample), strict=True)
        means = []
        for values in columns:
            defined = [v for v in values if v is not None]
            means.append(float(np.mean(defined)) if defined else None)
        return means

    return Scores(
        mean("dice"),
        mean("iou"),
        mean("precision"),
        mean("recall"),
        sum(s.confusion for s in per_sample),
    )


def worst_dice(dice: list) -> float | None:
    """The lowest defined Dice of the classes (background left out), the number by which
    the panel and ``segviewer evaluate`` rank samples worst first; None if none is defined."""
    defined = [d for d in dice[1:] if d is not None]
    return min(defined) if defined else None


def error_map(masks: np.ndarray, predicted: np.ndarray, ignore=None) -> np.ndarray:
    """Per pixel (uint8): correct, missed (a class pixel predicted background), extra
    (a background pixel predicted as a class) or wrong class. Ignored pixels are correct."""
    labelled = masks.any(axis=0)
    predicted_class = np.clip(predicted.astype(np.int64) - 1, 0, None)
    claimed = np.take_along_axis(masks.astype(bool), predicted_class[None], axis=0)[0]
    out = np.full(predicted.shape, CORRECT, np.uint8)
    out[labelled & (predicted == 0)] = MISSED
    out[~labelled & (predicted > 0)] = EXTRA
    out[labelled & (predicted > 0) & ~claimed] = WRONG_CLASS
    if ignore is not None:
        out[ignore.astype(bool)] = CORRECT
    return out
