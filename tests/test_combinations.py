"""Colours and order of conflict combinations, checked against independent computations."""

import itertools

import numpy as np
from skimage.color import deltaE_ciede2000, rgb2lab

from segviewer.core.colors import (
    BACKGROUND_COLOR,
    CLASS_COLORS,
    COMBINATION_PALETTE_SIZE,
    combination_palette,
)
from segviewer.core.editing.combinations import (
    CombinationOrder,
    combination_name,
    combination_sizes,
)


def lab(colors):
    rgb = np.array([[int(c[i : i + 2], 16) / 255 for i in (1, 3, 5)] for c in colors])
    return rgb2lab(rgb[None])[0]


def test_the_palette_is_generated_distinct_and_unlike_the_class_colours():
    palette = combination_palette()
    assert len(palette) == COMBINATION_PALETTE_SIZE == len(set(palette)) == 64
    assert combination_palette() == palette  # deterministic (and cached)
    colours = lab(palette)
    pairs = np.array(list(itertools.combinations(range(64), 2)))
    first, second = colours[pairs[:, 0]], colours[pairs[:, 1]]
    fixed = np.tile(lab([*CLASS_COLORS, BACKGROUND_COLOR]), (64, 1))
    ours = np.repeat(colours, len(CLASS_COLORS) + 1, 0)
    # ΔE ≈ 2.3 is a just noticeable difference: 64 colours stay far apart in CIELAB (the
    # distance Glasbey's method maximises) and by CIEDE2000 (closer to perception)
    assert np.linalg.norm(first - second, axis=1).min() > 18
    assert np.linalg.norm(ours - fixed, axis=1).min() > 18
    assert deltaE_ciede2000(first, second).min() > 5
    assert deltaE_ciede2000(ours, fixed).min() > 5
    assert np.all((colours[:, 0] >= 39.5) & (colours[:, 0] <= 92.5))  # readable lightness


def test_sizes_match_numpy_unique_largest_first_for_every_code_width():
    rng = np.random.default_rng(3)
    for dtype in (np.uint8, np.uint16, np.uint32, np.uint64):
        conflicts = rng.choice([0, 0, 0, 3, 5, 6, 7, 12], size=(37, 41)).astype(dtype)
        codes, counts = np.unique(conflicts[conflicts > 0], return_counts=True)
        expected = sorted(
            zip(codes.tolist(), counts.tolist(), strict=True), key=lambda p: (-p[1], p[0])
        )
        assert list(combination_sizes(conflicts).items()) == expected
    assert combination_sizes(np.zeros((4, 4), np.uint8)) == {}  # no conflicts
    assert combination_sizes(np.zeros((0, 4), np.uint8)) == {}  # empty image
    single = np.zeros((3, 3, 3), np.uint16)
    single[1, 2, 0] = 1 << 9 | 1  # one voxel, 3D, classes 0 and 9
    assert combination_sizes(single) == {513: 1}


def test_the_order_starts_largest_first_and_only_appends():
    conflicts = np.array([[3, 3, 3], [5, 5, 0], [6, 0, 0]], np.uint8)
    order = CombinationOrder(conflicts)
    assert order.codes == [3, 5, 6]
    assert not order.note(conflicts[:1])  # nothing new
    assert order.note(np.array([[7, 3, 12]], np.uint8))
    assert order.codes == [3, 5, 6, 7, 12]
    assert order.position(12) == 4
    assert combination_name(7, ["a", "b", "c"]) == "a + b + c"
    assert CombinationOrder().codes == []
