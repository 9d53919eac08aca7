"""Overlapping one-hot masks as one integer label image, without loss, as nnU-Net reads them.

Every combination of classes found in a dataset gets an integer label; each class is the
*region* made of the labels that contain it (nnU-Net's region-based training). Three cases:

- **plain**: no pixel is in two classes: label c + 1 is class c (0 is background);
- **nested**: every pixel's classes are the first k of one class order (each class inside the
  one before, as in BraTS): label k is "the first k classes", class i is the region
  [i + 1 … C] in that order, and ``regions_class_order`` is [1 … C];
- **combinations**: labels 1 … C are the single classes, then one label per combination of
  two or more classes present, fewest classes first; class c is the region of every label
  whose combination holds c; ``regions_class_order`` gives each class its own label c + 1.

An ``ignore`` label (nnU-Net's: the highest integer) marks pixels to be left out of training.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from segviewer.core.data.encodings import BACKGROUND
from segviewer.core.errors import SegviewerError

IGNORE = "ignore"


def pixel_combinations(masks: np.ndarray) -> tuple[np.ndarray, list[tuple[int, ...]]]:
    """Per pixel (flattened), the number of its combination of classes in the list returned
    (class indices; entry 0 is "no class"). Pixels of one class are found by an argmax; only
    the few pixels of two or more classes are sorted (as packed class bits)."""
    count = len(masks)
    flat = masks.reshape(count, -1)
    claims = flat.sum(axis=0, dtype=np.int32)
    index = np.where(claims == 1, flat.argmax(axis=0) + 1, 0)
    combinations: list[tuple[int, ...]] = [(), *((c,) for c in range(count))]
    multi = np.flatnonzero(claims > 1)
    if len(multi):
        packed = np.packbits(flat[:, multi].astype(bool), axis=0, bitorder="little").T
        unique, inverse = np.unique(packed, axis=0, return_inverse=True)
        for row in unique:
            bits = np.unpackbits(row, bitorder="little")[:count]
            combinations.append(tuple(np.flatnonzero(bits).tolist()))
        index[multi] = len(combinations) - len(unique) + inverse.reshape(-1)
    return index, combinations


def combinations_in(masks: np.ndarray) -> set[tuple[int, ...]]:
    """The combinations of classes (class indices) of the pixels of ``masks`` in any class."""
    index, combinations = pixel_combinations(masks)
    used = np.bincount(index, minlength=len(combinations)) > 0
    return {combo for combo, seen in zip(combinations, used, strict=True) if seen and combo}


@dataclass(frozen=True)
class LabelScheme:
    """Label k (k ≥ 1) is the combination ``combinations[k - 1]`` of class indices."""

    class_names: tuple[str, ...]
    combinations: tuple[tuple[int, ...], ...]

    @classmethod
    def for_dataset(
        cls, class_names: Sequence[str], found: Iterable[tuple[int, ...]], sizes: Sequence[int]
    ) -> LabelScheme:
        """The scheme for the ``found`` combinations; ``sizes`` (pixels per class) order a
        nested chain, largest (outermost) first."""
        count = len(class_names)
        singles = tuple((c,) for c in range(count))
        multi = sorted({c for c in found if len(c) > 1}, key=lambda c: (len(c), c))
        if not multi:
            return cls(tuple(class_names), singles)
        order = sorted(range(count), key=lambda c: (-int(sizes[c]), c))
        prefixes = [tuple(sorted(order[:k])) for k in range(1, count + 1)]
        if set(found) <= set(prefixes):
            return cls(tuple(class_names), tuple(prefixes))
        return cls(tuple(class_names), singles + tuple(multi))

    @property
    def kind(self) -> str:
        if all(len(c) == 1 for c in self.combinations):
            return "plain"
        return (
            "nested"
            if len(self.combinations[-1]) == len(self.class_names)
            and all(len(c) == k for k, c in enumerate(self.combinations, 1))
            else "combinations"
        )

    @property
    def ignore_label(self) -> int:
        return len(self.combinations) + 1

    def regions(self) -> list[list[int]]:
        """Per class, the labels whose combination holds it."""
        return [
            [k for k, combo in enumerate(self.combinations, 1) if c in combo]
            for c in range(len(self.class_names))
        ]

    def regions_class_order(self) -> list[int]:
        """The label nnU-Net writes where each region (class, in order) is predicted."""
        if self.kind == "nested":
            return list(range(1, len(self.class_names) + 1))
        return [self.combinations.index((c,)) + 1 for c in range(len(self.class_names))]

    def labels_json(self, ignore: bool) -> dict:
        """dataset.json's ``labels``: background 0, each class its label or region, then
        ``ignore`` (the highest label) when asked."""
        labels: dict[str, int | list[int]] = {BACKGROUND: 0}
        if self.kind == "plain":
            labels.update({name: c + 1 for c, name in enumerate(self.class_names)})
        elif self.kind == "nested":  # outermost first: nnU-Net writes regions in this order
            order = self.chain_order()
            for position, c in enumerate(order):
                labels[self.class_names[c]] = list(range(position + 1, len(order) + 1))
        else:
            labels.update(dict(zip(self.class_names, self.regions(), strict=True)))
        if ignore:
            labels[IGNORE] = self.ignore_label
        return labels

    def chain_order(self) -> list[int]:
        """For a nested scheme, the classes from the outermost in: the class each label adds."""
        order: list[int] = []
        for combo in self.combinations:
            order.extend(c for c in combo if c not in order)
        return order

    def dtype(self) -> np.dtype:
        return np.dtype(np.uint8 if self.ignore_label < 256 else np.uint16)

    def encode(self, masks: np.ndarray, ignore: np.ndarray | None = None) -> np.ndarray:
        """The label image of one sample's masks ``(C, *spatial)``; refuses a combination the
        scheme has no label for."""
        pixels, combinations = pixel_combinations(masks)
        used = np.bincount(pixels, minlength=len(combinations)) > 0
        lookup = np.zeros(len(combinations), self.dtype())
        label_of = {combo: k for k, combo in enumerate(self.combinations, 1)}
        for row, combo in enumerate(combinations):
            if combo and used[row] and combo not in label_of:
                names = " + ".join(self.class_names[c] for c in combo)
                raise SegviewerError(f"the combination {names} has no label in this export")
            lookup[row] = label_of.get(combo, 0)
        labels = lookup[pixels].reshape(masks.shape[1:])
        if ignore is not None:
            labels[ignore > 0] = self.ignore_label
        return labels

    def decode(self, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """``(masks, ignore)`` of a label image: each class the pixels of its region."""
        masks = np.stack([np.isin(labels, region) for region in self.regions()]).astype(np.uint8)
        ignore = labels == self.ignore_label
        return masks, (ignore.astype(np.uint8) if ignore.any() else None)

    @classmethod
    def from_labels_json(cls, labels: dict, where: str) -> LabelScheme:
        """The scheme of a dataset.json's ``labels``: plain integers or regions; the labels
        must be 0 (background), 1, 2, … without gaps (nnU-Net's rule)."""
        if not isinstance(labels, dict) or labels.get(BACKGROUND) != 0:
            raise SegviewerError(
                f"{where}: 'labels' must map names to labels with background: 0; got {labels!r:.80}"
            )
        classes = {k: v for k, v in labels.items() if k not in (BACKGROUND, IGNORE)}
        values = [v if isinstance(v, list) else [v] for v in classes.values()]
        if not all(isinstance(x, int) and x > 0 for v in values for x in v):
            raise SegviewerError(f"{where}: labels must be positive integers or lists of them")
        used = sorted({x for v in values for x in v})
        ignore = labels.get(IGNORE)
        if used != list(range(1, len(used) + 1)) or (
            ignore is not None and ignore != len(used) + 1
        ):
            shown = used + ([ignore] if ignore is not None else [])
            raise SegviewerError(
                f"{where}: labels {shown} are not consecutive; expected 1, 2, … "
                f"{len(shown)} after background 0 (ignore, if any, the highest)"
            )
        names = list(classes)
        combos = tuple(tuple(c for c, v in enumerate(values) if label in v) for label in used)
        return cls(tuple(names), combos)
