"""Conflict regions against a hand-made layout."""

import numpy as np

from segviewer.core.editing.derived import DerivedLayers
from segviewer.core.editing.regions import conflict_regions


def test_regions_are_sized_sorted_and_name_their_classes():
    masks = np.zeros((3, 10, 12), np.uint8)
    masks[0, 1:4, 1:4] = masks[1, 1:4, 1:4] = 1  # 9 px of classes 0+1
    masks[1, 6, 8] = masks[2, 6, 8] = 1  # 1 px of classes 1+2
    masks[0, 7, 9] = masks[2, 7, 9] = 1  # touches diagonally: same region, classes 0+2
    masks[:, 8, 0] = 1  # 1 px of all three
    regions = conflict_regions(DerivedLayers(masks).conflicts)
    assert [(r.size, r.classes) for r in regions] == [(9, (0, 1)), (2, (0, 1, 2)), (1, (0, 1, 2))]
    assert regions[0].centre == (2.0, 2.0) and regions[0].bbox == (slice(1, 4), slice(1, 4))
    assert regions[1].bbox == (slice(6, 8), slice(8, 10))


def test_no_conflicts_and_3d():
    assert conflict_regions(np.zeros((4, 5), np.uint8)) == []
    conflicts = np.zeros((3, 4, 5), np.uint8)
    conflicts[1, 2, 3] = conflicts[2, 3, 4] = 3
    (region,) = conflict_regions(conflicts)
    assert region.size == 2 and region.centre == (1.5, 2.5, 3.5)
