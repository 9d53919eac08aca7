"""Mask normalisation: class axis, values, dtype and layout."""

import numpy as np
import pytest

from segviewer.core.data.masks import check_image, normalize_masks, spatial_shape_of
from segviewer.core.errors import SegviewerError

RNG = np.random.default_rng(0)
ONEHOT = (RNG.random((3, 20, 30)) > 0.5).astype(np.uint8)


@pytest.mark.parametrize("layout", ["first", "last"])
def test_class_axis_is_found_from_the_spatial_shape(layout):
    stored = ONEHOT if layout == "first" else np.moveaxis(ONEHOT, 0, -1)
    out = normalize_masks(stored.copy(), (20, 30), "f")
    assert out.shape == (3, 20, 30) and out.dtype == np.uint8 and out.flags.c_contiguous
    np.testing.assert_array_equal(out, ONEHOT)


def test_3d_masks_with_class_axis_last():
    masks = (RNG.random((4, 5, 6, 2)) > 0.5).astype(np.uint8)
    out = normalize_masks(masks.copy(), (4, 5, 6), "f")
    np.testing.assert_array_equal(out, np.moveaxis(masks, -1, 0))


def test_ambiguous_class_axis_is_refused_and_names_the_option():
    masks = np.zeros((4, 4, 4), np.uint8)  # (C=4, 4, 4) or (4, 4, C=4)
    with pytest.raises(SegviewerError, match="class_axis.*--class-axis"):
        normalize_masks(masks, (4, 4), "m.tif")
    np.testing.assert_array_equal(normalize_masks(masks, (4, 4), "m", "last"), masks)


@pytest.mark.parametrize(
    "values",
    [np.bool_, np.uint8, np.int64, np.float32, "uint8_255", "uint16_255"],
)
def test_accepted_mask_values(values):
    if values == "uint8_255":
        stored = ONEHOT * np.uint8(255)
    elif values == "uint16_255":
        stored = ONEHOT.astype(np.uint16) * 255
    else:
        stored = ONEHOT.astype(values)
    out = normalize_masks(stored, (20, 30), "f")
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, ONEHOT)


def test_other_values_are_refused_with_the_values_found():
    stored = ONEHOT.copy()
    stored[0, 0, :3] = [2, 7, 7]
    with pytest.raises(
        SegviewerError, match=r"m\.png: mask values.*found 4 distinct values: 0, 1, 2, 7"
    ):
        normalize_masks(stored, (20, 30), "m.png")
    with pytest.raises(SegviewerError, match="0, 0.5, 1"):
        normalize_masks(
            ONEHOT * 0.5 + (ONEHOT > 0) * 0.5 * RNG.integers(0, 2, ONEHOT.shape), (20, 30), "m"
        )
    mixed = ONEHOT * np.uint8(255)
    mixed[0, 0, 0] = 1
    with pytest.raises(SegviewerError, match="0, 1, 255"):
        normalize_masks(mixed, (20, 30), "m")


def test_shape_mismatch_names_the_file_and_the_expected_shape():
    with pytest.raises(SegviewerError, match=r"m\.tif: masks of shape \(3, 20, 31\).*\(20, 30\)"):
        normalize_masks(np.zeros((3, 20, 31), np.uint8), (20, 30), "m.tif")


def test_single_class_without_class_axis():
    out = normalize_masks(ONEHOT[0].copy(), (20, 30), "f")
    assert out.shape == (1, 20, 30)


def test_spatial_shape_of_rgb_grey_and_volume():
    assert spatial_shape_of(np.zeros((20, 30, 3))) == (20, 30)
    assert spatial_shape_of(np.zeros((20, 30))) == (20, 30)
    assert spatial_shape_of(np.zeros((5, 20, 30))) == (5, 20, 30)


def test_nan_image_is_refused():
    with pytest.raises(SegviewerError, match=r"img: image contains 600 NaN values \(100%"):
        check_image(np.full((20, 30), np.nan), "img")
