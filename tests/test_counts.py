"""Pixel counts against a direct, independent computation."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from segviewer.core.stats.counts import count_pixels


def reference(masks: np.ndarray):
    """Independent: loop over pixels' class sets with plain Python sets."""
    flat = masks.reshape(masks.shape[0], -1).astype(bool)
    claims = [set(np.flatnonzero(flat[:, p])) for p in range(flat.shape[1])]
    return (
        tuple(int(flat[c].sum()) for c in range(flat.shape[0])),
        sum(1 for s in claims if not s),
        sum(1 for s in claims if len(s) >= 2),
    )


@settings(max_examples=60, deadline=None)
@given(
    arrays(
        np.uint8,
        st.tuples(st.integers(1, 4), st.integers(1, 9), st.integers(1, 9)),
        elements=st.integers(0, 1),
    )
)
def test_counts_equal_a_pixel_by_pixel_reference(masks):
    counts = count_pixels(masks)
    assert (counts.classes, counts.background, counts.conflicts) == reference(masks)
    assert counts.total == masks[0].size


def test_edge_cases_empty_single_pixel_absent_class_and_3d():
    empty = np.zeros((2, 5, 5), np.uint8)
    assert count_pixels(empty).background == 25 and count_pixels(empty).conflicts == 0
    single = empty.copy()
    single[1, 2, 3] = 1
    c = count_pixels(single)
    assert c.classes == (0, 1) and c.background == 24 and c.conflicts == 0
    single[0, 2, 3] = 1
    assert count_pixels(single).conflicts == 1 and count_pixels(single).background == 24
    volume = np.zeros((3, 4, 5, 6), np.uint8)
    volume[:, 1, 2, 3] = 1
    volume[0, 0] = 1
    c = count_pixels(volume)
    assert c.classes == (31, 1, 1) and c.conflicts == 1 and c.background == 120 - 31
    assert c.total == 120
