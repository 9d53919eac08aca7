"""Every format reads back exactly what was written; every bad input gets a clear message."""

import imageio.v3 as iio
import numpy as np
import pytest
import tifffile
from conftest import small_sample, write_nifti_pair, write_npz, write_tiff_pair

from segviewer.core.errors import SegviewerError
from segviewer.core.io.readers import is_supported, open_dataset


def only_sample(path, **kwargs):
    dataset = open_dataset(path, **kwargs)
    assert len(dataset) == 1
    return dataset.sample(0)


def assert_same(sample, expected):
    np.testing.assert_array_equal(sample.image, expected.image)
    np.testing.assert_array_equal(sample.masks, expected.masks)
    assert sample.masks.dtype == np.uint8 and sample.masks.flags.c_contiguous
    assert sample.class_names == expected.class_names


# -- formats ------------------------------------------------------------------------------------
def test_npz_round_trip_with_class_axis_last_and_0_255(tmp_path, sample2d):
    assert_same(only_sample(write_npz(tmp_path / "a.npz", sample2d)), sample2d)
    stored = np.moveaxis(sample2d.masks, 0, -1) * np.uint8(255)
    got = only_sample(write_npz(tmp_path / "b.npz", sample2d, masks=stored))
    assert_same(got, sample2d)


def test_npz_without_class_names_gets_numbered_names(tmp_path, sample2d):
    np.savez(tmp_path / "a.npz", image=sample2d.image, masks=sample2d.masks)
    assert only_sample(tmp_path / "a.npz").class_names == ["class_1", "class_2"]


def test_tiff_pair_opens_from_either_file(tmp_path, sample2d):
    image_path, masks_path = write_tiff_pair(tmp_path, sample2d)
    for path in (image_path, masks_path):
        got = only_sample(path)
        assert_same(got, sample2d)
        assert got.name == "s0" and got.source.paths == (image_path, masks_path)
    assert len(open_dataset([image_path, masks_path])) == 1  # the pair counts once


def test_tiff_pair_3d_with_class_axis_last(tmp_path):
    volume = small_sample((6, 24, 32), name="v")
    write_tiff_pair(tmp_path, volume, masks=np.moveaxis(volume.masks, 0, -1))
    assert_same(only_sample(tmp_path / "v.tif"), volume)


def test_rgb_image_with_masks(tmp_path, sample2d):
    rgb = np.stack([sample2d.image] * 3, axis=-1).astype(np.uint8)
    np.savez(tmp_path / "rgb.npz", image=rgb, masks=sample2d.masks)
    got = only_sample(tmp_path / "rgb.npz")
    assert got.rgb and got.spatial_shape == sample2d.spatial_shape


def test_nifti_pair_keeps_affine_and_voxel_size(tmp_path):
    volume = small_sample((10, 12, 8), name="vol")
    affine = np.diag([0.5, 0.75, 2.0, 1.0])
    image_path, _ = write_nifti_pair(
        tmp_path, volume.image, np.moveaxis(volume.masks, 0, -1), affine
    )
    got = only_sample(image_path)
    # held in the canonical orientation (tests/test_nifti_orientation.py): for this RAS
    # file, axes reversed (S, A, R), then A and R flipped to P and L
    np.testing.assert_array_equal(got.image, volume.image.transpose(2, 1, 0)[:, ::-1, ::-1])
    np.testing.assert_array_equal(got.masks, volume.masks.transpose(0, 3, 2, 1)[:, :, ::-1, ::-1])
    np.testing.assert_array_equal(got.source.extra["nifti_file_affine"], affine)
    assert got.scale == pytest.approx((2.0, 0.75, 0.5))


def test_dataset_folder_reads_every_sample(dataset_folder):
    from segviewer.core.data.synthetic import make_dataset_samples

    dataset = open_dataset(dataset_folder)
    expected = make_dataset_samples(seed=5, count=3, volumes=1)
    assert dataset.names == [s.name for s in expected]
    for got, want in zip(dataset, expected, strict=True):
        assert_same(got, want)


def test_folder_class_order_from_classes_txt_else_sorted(dataset_folder):
    assert open_dataset(dataset_folder).sample(0).class_names == ["cell", "spot"]
    (dataset_folder / "classes.txt").write_text("spot\ncell\n")
    reordered = open_dataset(dataset_folder).sample(0)
    assert reordered.class_names == ["spot", "cell"]
    (dataset_folder / "classes.txt").unlink()
    (dataset_folder / "masks" / "cell").rename(dataset_folder / "masks" / "zebra")
    assert open_dataset(dataset_folder).sample(0).class_names == ["spot", "zebra"]


def test_missing_class_file_is_an_empty_mask_with_a_warning(dataset_folder):
    (dataset_folder / "masks" / "spot" / "sample_001.png").unlink()
    sample = open_dataset(dataset_folder).sample(1)
    assert not sample.masks[1].any() and sample.masks[0].any()
    assert sample.warnings == ["sample_001: no mask file for class 'spot'; using an empty mask"]


def test_several_files_make_one_dataset(tmp_path, sample2d):
    other = small_sample(seed=1, name="s1")
    paths = [write_npz(tmp_path / "s0.npz", sample2d), write_npz(tmp_path / "s1.npz", other)]
    assert open_dataset(paths).names == ["s0", "s1"]
    assert open_dataset(tmp_path).names == ["s0", "s1"]  # a plain folder of samples too


def test_is_supported_leaves_foreign_files_alone(tmp_path, sample2d, dataset_folder):
    plain = tmp_path / "plain.tif"
    tifffile.imwrite(plain, sample2d.image)
    iio.imwrite(tmp_path / "photo.png", sample2d.image.astype(np.uint8))
    (tmp_path / "empty").mkdir()
    assert not is_supported(plain) and not is_supported(tmp_path / "photo.png")
    assert not is_supported(tmp_path / "empty") and not is_supported(tmp_path / "missing.tif")
    assert is_supported(write_npz(tmp_path / "a.npz", sample2d)) and is_supported(dataset_folder)


# -- bad input ----------------------------------------------------------------------------------
def error_of(path, **kwargs) -> str:
    with pytest.raises(SegviewerError) as info:
        open_dataset(path, **kwargs).sample(0)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_mismatched_image_and_mask_shapes(tmp_path, sample2d):
    np.savez(tmp_path / "a.npz", image=sample2d.image[:, :-1], masks=sample2d.masks)
    assert error_of(tmp_path / "a.npz") == (
        f"{tmp_path / 'a.npz'}: masks of shape (2, 48, 64) do not match the image's spatial shape "
        "(48, 63); expected (C, 48, 63) or (48, 63, C)"
    )


def test_mask_values_other_than_0_1_255(tmp_path, sample2d):
    bad = sample2d.masks.copy()
    bad[0, 0, 0] = 3
    message = error_of(write_npz(tmp_path / "a.npz", sample2d, masks=bad))
    assert (
        "a.npz: mask values must be 0/1 or 0/255 (or bool), found 3 distinct values: 0, 1, 3"
        in message
    )


def test_ambiguous_class_axis(tmp_path):
    np.savez(tmp_path / "a.npz", image=np.zeros((4, 4)), masks=np.zeros((4, 4, 4), np.uint8))
    assert "--class-axis" in error_of(tmp_path / "a.npz")
    assert open_dataset(tmp_path / "a.npz", class_axis="first").sample(0).masks.shape == (4, 4, 4)


def test_empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    assert "empty: this folder is empty; expected a .npz" in error_of(tmp_path / "empty")


def test_folder_with_images_but_no_masks(tmp_path, sample2d):
    (tmp_path / "images").mkdir()
    iio.imwrite(tmp_path / "images" / "a.png", sample2d.image)
    assert "1 images but no masks; expected one binary mask per class" in error_of(tmp_path)


def test_truncated_or_corrupt_files(tmp_path, sample2d):
    npz = write_npz(tmp_path / "a.npz", sample2d)
    npz.write_bytes(npz.read_bytes()[:200])
    assert "a.npz: cannot read this npz file, it may be truncated or corrupt" in error_of(npz)
    image_path, masks_path = write_tiff_pair(tmp_path, sample2d)
    masks_path.write_bytes(masks_path.read_bytes()[:300])
    assert "s0_masks.tif: cannot read this TIFF masks file" in error_of(image_path)
    volume = small_sample((6, 8, 10))
    nifti, _ = write_nifti_pair(tmp_path, volume.image, np.moveaxis(volume.masks, 0, -1))
    nifti.write_bytes(nifti.read_bytes()[:100])
    assert "vol.nii.gz: cannot read this NIfTI image" in error_of(nifti)
    (tmp_path / "garbage.npz").write_bytes(b"not a zip at all")
    assert "garbage.npz: cannot read this npz file" in error_of(tmp_path / "garbage.npz")


def test_missing_partner_file(tmp_path, sample2d):
    image_path, masks_path = write_tiff_pair(tmp_path, sample2d)
    image_path.unlink()
    assert "the image file s0.tif that goes with these masks is missing" in error_of(masks_path)
    volume = small_sample((6, 8, 10))
    nifti, nifti_masks = write_nifti_pair(tmp_path, volume.image, np.moveaxis(volume.masks, 0, -1))
    nifti.unlink()
    assert "the image file vol.nii.gz that goes with these masks is missing" in error_of(
        nifti_masks
    )
    tifffile.imwrite(tmp_path / "lonely.tif", sample2d.image)
    assert "no masks file lonely_masks.tif next to it" in error_of(tmp_path / "lonely.tif")


def test_unreadable_paths(tmp_path, sample2d, monkeypatch):
    assert error_of(tmp_path / "nope.npz") == f"{tmp_path / 'nope.npz'}: no such file or folder"
    path = write_npz(tmp_path / "a.npz", sample2d)

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(np, "load", denied)  # root reads everything, so simulate the OS refusal
    assert error_of(path) == f"{path}: permission denied, cannot read this npz file"


def test_nan_filled_image(tmp_path, sample2d):
    np.savez(tmp_path / "a.npz", image=np.full((48, 64), np.nan, np.float32), masks=sample2d.masks)
    assert "a.npz: image contains 3072 NaN values (100% of it); expected finite" in error_of(
        tmp_path / "a.npz"
    )


def test_npz_without_the_expected_arrays(tmp_path):
    np.savez(tmp_path / "a.npz", pixels=np.zeros(3))
    assert "missing array 'image' and 'masks'" in error_of(tmp_path / "a.npz")


def test_nifti_masks_with_wrong_shape(tmp_path):
    volume = small_sample((6, 8, 10))
    image_path, _ = write_nifti_pair(tmp_path, volume.image, np.zeros((6, 8, 9, 2), np.uint8))
    assert "vol_masks.nii.gz: masks of shape (6, 8, 9, 2) do not match" in error_of(image_path)


def test_folder_mask_with_wrong_shape_names_the_mask_file(dataset_folder):
    bad = dataset_folder / "masks" / "cell" / "sample_000.png"
    iio.imwrite(bad, np.zeros((10, 10), np.uint8))
    assert error_of(dataset_folder).startswith(f"{bad}: masks of shape (10, 10)")


def test_nothing_is_read_until_asked(dataset_folder):
    (dataset_folder / "images" / "sample_002.png").write_bytes(b"broken")
    dataset = open_dataset(dataset_folder)  # listing only: no error yet
    assert dataset.sample(0).name == "sample_000"
    with pytest.raises(SegviewerError, match="sample_002.png: cannot read this image file"):
        dataset.sample(2)
