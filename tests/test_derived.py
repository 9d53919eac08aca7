"""Derived background and conflicts: exact, and kept exact by region updates from real strokes."""

import numpy as np
import pytest

from segviewer.core.editing.atoms import atom_region
from segviewer.core.editing.derived import (
    DerivedLayers,
    classes_of,
    code_dtype,
    conflict_code,
    possible_conflicts,
)


def reference(masks):
    """Independent: each pixel's set of claiming classes, with Python sets."""
    spatial = masks.shape[1:]
    background = np.zeros(spatial, np.uint8)
    conflicts = np.zeros(spatial, np.uint64)
    for index in np.ndindex(*spatial):
        claimed = {c for c in range(masks.shape[0]) if masks[(c, *index)]}
        background[index] = not claimed
        if len(claimed) >= 2:
            conflicts[index] = sum(2**c for c in claimed)
    return background, conflicts


@pytest.mark.parametrize("shape", [(1, 6, 7), (3, 9, 8), (10, 5, 6), (4, 3, 5, 6)])
def test_derivation_equals_the_pixel_by_pixel_reference(shape):
    masks = (np.random.default_rng(len(shape)).random(shape) > 0.55).astype(np.uint8)
    derived = DerivedLayers(masks)
    background, conflicts = reference(masks)
    np.testing.assert_array_equal(derived.background, background)
    np.testing.assert_array_equal(derived.conflicts, conflicts)
    assert derived.conflicts.dtype == (np.uint8 if shape[0] <= 8 else np.uint16)
    assert derived.background.dtype == np.uint8


def test_edge_cases_empty_single_pixel_and_full_overlap():
    masks = np.zeros((2, 4, 4), np.uint8)
    derived = DerivedLayers(masks)
    assert derived.background.all() and not derived.conflicts.any()
    masks[:, 1, 2] = 1
    derived.update((slice(1, 2), slice(2, 3)))
    assert derived.conflicts[1, 2] == 0b11 and derived.background.sum() == 15
    masks[:] = 1
    derived.update()
    assert not derived.background.any() and (derived.conflicts == 3).all()


def test_codes_name_the_overlapping_classes():
    assert conflict_code([0, 2]) == 5 and classes_of(5) == (0, 2)
    assert possible_conflicts(3) == [3, 5, 6, 7]
    assert code_dtype(8) == np.uint8 and code_dtype(9) == np.uint16 and code_dtype(33) == np.uint64


def test_atom_region_for_legacy_and_masked_atoms():
    indices = (np.array([3, 5]), np.array([7, 2]))
    assert atom_region((indices, None, 1), (10, 10)) == (slice(3, 6), slice(2, 8))
    assert atom_region(((slice(1, 2), slice(0, 3)), None, 1), (10, 10)) == (
        slice(1, 2),
        slice(0, 3),
    )
