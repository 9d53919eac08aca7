"""Strokes on class and background layers under segviewer's painting policies.

napari paints one Labels layer at a time and records each stroke as history atoms
(bounding box, changed pixels, old values, new value). Here those atoms are applied to a
sample's masks (``(C, *spatial)`` uint8) under a policy, like 3D Slicer's masking options:

- ``overwrite``: pixels painted into a class leave every other class; otherwise classes
  may overlap;
- ``area``: where a stroke may change anything: ``everywhere``, only ``background``
  pixels (in no class) or only ``conflicts`` (in two or more classes), judged before the
  stroke.

Painting the background layer makes pixels background (they leave every class); erasing
it assigns the pixels to a chosen class. Each function returns the history changes that
undo it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from segviewer.core.editing.atoms import Region, atom_region, local_index, new_values
from segviewer.core.editing.history import Change

Area = Literal["everywhere", "background", "conflicts"]
AREAS: tuple[Area, ...] = ("everywhere", "background", "conflicts")


@dataclass
class PaintPolicy:
    overwrite: bool = False
    area: Area = "everywhere"
    background_fill: int = 0  # class that erased background pixels join


def _changed_mask(atom, region: Region) -> np.ndarray:
    shape = tuple(r.stop - r.start for r in region)
    changed = np.zeros(shape, bool)
    changed[local_index(atom, region)] = True
    return changed


def _allowed(before: np.ndarray, area: Area) -> np.ndarray | None:
    """Pixels of ``before`` (C, *region) a stroke may change, or None for everywhere."""
    if area == "everywhere":
        return None
    claims = before.sum(axis=0, dtype=np.uint16)
    return claims == 0 if area == "background" else claims >= 2


def apply_class_atom(
    masks: np.ndarray, class_index: int, atom, policy: PaintPolicy, ignore: np.ndarray | None = None
) -> tuple[Region, list[Change]]:
    """Apply one atom painted on class ``class_index`` (masks must not hold it yet); pixels
    given to the class stop being ``ignore``."""
    region, changes, target = _start(masks, atom, policy)
    index = (slice(None), *region)
    value = np.uint8(new_values(atom) != 0) if np.ndim(new_values(atom)) == 0 else None
    block = masks[index]
    if value is None:  # per-pixel values (data_setitem with an array)
        values = np.zeros(target.shape, np.uint8)
        values[local_index(atom, region)] = np.asarray(new_values(atom)) != 0
        block[class_index][target] = values[target]
        painted = target & (values == 1)
    else:
        block[class_index][target] = value
        painted = target if value else np.zeros_like(target)
    if policy.overwrite and painted.any():
        for c in range(masks.shape[0]):
            if c != class_index:
                block[c][painted] = 0
    changes += _unignore(ignore, region, painted)
    return region, changes


def apply_background_atom(
    masks: np.ndarray, atom, policy: PaintPolicy, ignore: np.ndarray | None = None
) -> tuple[Region, list[Change]]:
    """Painting background (1) empties the pixels of every class; erasing it (0) gives them
    to ``policy.background_fill``. The area policy applies as for class strokes; pixels
    made background or given to a class stop being ``ignore``."""
    region, changes, target = _start(masks, atom, policy)
    index = (slice(None), *region)
    block = masks[index]
    if new_values(atom):
        block[:, target] = 0
        given = target
    else:
        given = target & (block.sum(axis=0) == 0)
        block[policy.background_fill][given] = 1
    changes += _unignore(ignore, region, given)
    return region, changes


def _start(masks: np.ndarray, atom, policy: PaintPolicy) -> tuple[Region, list[Change], np.ndarray]:
    """The atom's box, the undo change of the masks there, and the pixels the stroke may
    change (those it touched, within the policy's area, judged before the stroke)."""
    region = atom_region(atom, masks.shape[1:])
    changes = [Change.capture(masks, (slice(None), *region))]
    target = _changed_mask(atom, region)
    allowed = _allowed(changes[0].values, policy.area)
    if allowed is not None:
        target &= allowed
    return region, changes, target


def _unignore(ignore: np.ndarray | None, region: Region, given: np.ndarray) -> list[Change]:
    """Clear ``ignore`` where an edit gave pixels to a class or to background."""
    if ignore is None or not ignore[region][given].any():
        return []
    change = Change.capture(ignore, region)
    ignore[region][given] = 0
    return [change]
