"""NIfTI volumes are held in the canonical orientation (axis 0 inferior→superior, axis 1
anterior→posterior, axis 2 right→left: nibabel's ("S", "P", "L")) and written back in their
file's own layout and affine. The expected arrays come from nibabel's own reorientation
(``as_closest_canonical``, RAS) and one transpose and flip derived here, not from segviewer."""

from __future__ import annotations

import json
from pathlib import Path

import nibabel
import numpy as np
import pytest

from segviewer.core.data.sample import Dataset, Sample
from segviewer.core.io.nnunet import export_nnunet
from segviewer.core.io.readers import open_dataset
from segviewer.core.io.training_files import affine_of
from segviewer.core.io.writers import save_samples

SHAPE = (5, 6, 7)  # a different length per axis, so that a wrong transpose cannot pass
NAMES = ("I→S", "A→P", "R→L")


def rotation(axis: int, degrees: float) -> np.ndarray:
    c, s = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    i, j = [a for a in range(3) if a != axis]
    r = np.eye(3)
    r[i, i], r[i, j], r[j, i], r[j, j] = c, -s, s, c
    return r


def affine_from(columns: np.ndarray, origin=(0.0, 0.0, 0.0)) -> np.ndarray:
    affine = np.eye(4)
    affine[:3, :3], affine[:3, 3] = columns, origin
    return affine


AFFINES = {
    "ras-identity": np.eye(4),
    # DICOM's LPS-like layout: x towards the left, y towards the posterior
    "lps": affine_from(np.diag([-0.9, -0.9, 1.5]), (100.0, 120.0, -40.0)),
    # a coronal acquisition, slightly oblique: in-plane axes R→L and S→I, slices A→P
    "coronal-oblique": affine_from(
        rotation(2, 8) @ np.array([[-0.7, 0, 0], [0, 0, 2.5], [0, -0.7, 0]]), (30.0, -60.0, 45.0)
    ),
    # sagittal, anisotropic: axis 0 P→A, axis 1 I→S, axis 2 L→R
    "sagittal-anisotropic": affine_from(
        np.array([[0, 0, 3.0], [0.5, 0, 0], [0, 1.25, 0]]), (-10.0, 5.0, 2.0)
    ),
}


def volume_and_masks(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """An int16 volume of distinct values and two masks that do not overlap (class axis
    last), so that every format can save them."""
    rng = np.random.default_rng(seed)
    image = rng.permutation(np.prod(SHAPE)).reshape(SHAPE).astype(np.int16)
    labels = rng.integers(0, 3, SHAPE)
    masks = np.stack([labels == 1, labels == 2], axis=-1).astype(np.uint8)
    return image, masks


def write_pair(folder: Path, image, partner, affine, tag="_masks") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    nibabel.save(nibabel.Nifti1Image(image, affine), folder / "vol.nii.gz")
    nibabel.save(nibabel.Nifti1Image(partner, affine), folder / f"vol{tag}.nii.gz")
    return folder / "vol.nii.gz"


def write_with_sform(path: Path, array, affine) -> None:
    """A file whose affine no qform can hold (nibabel refuses it as a new image's affine)."""
    img = nibabel.Nifti1Image(array, None)
    img.header.set_sform(affine, code="aligned")
    img.header.set_qform(None, code="unknown")
    nibabel.save(img, path)


def expected_held(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The file's array and affine held as ("S", "P", "L"): nibabel's RAS reorientation,
    then RAS index (x, y, z) → held index (z, ny-1-y, nx-1-x)."""
    canonical = nibabel.as_closest_canonical(nibabel.load(path))
    assert nibabel.aff2axcodes(canonical.affine) == ("R", "A", "S")
    ras = np.asanyarray(canonical.dataobj)
    held = np.moveaxis(ras, (0, 1, 2), (2, 1, 0))[:, ::-1, ::-1]
    nx, ny = ras.shape[:2]
    held_to_ras = np.array([[0, 0, -1, nx - 1], [0, -1, 0, ny - 1], [1, 0, 0, 0], [0, 0, 0, 1]])
    return held, canonical.affine @ held_to_ras


def world(affine: np.ndarray, index) -> np.ndarray:
    return (affine @ np.array([*index, 1.0]))[:3]


@pytest.fixture(params=sorted(AFFINES))
def pair(request, tmp_path):
    image, masks = volume_and_masks()
    affine = AFFINES[request.param]
    return write_pair(tmp_path / "src", image, masks, affine), image, masks


def test_a_volume_is_held_as_nibabel_reorients_it(pair):
    path = pair[0]
    sample = open_dataset(path).sample(0)
    want_image, want_affine = expected_held(path)
    want_masks, _ = expected_held(path.with_name("vol_masks.nii.gz"))
    np.testing.assert_array_equal(sample.image, want_image)
    np.testing.assert_array_equal(sample.masks, np.moveaxis(want_masks, -1, 0))
    assert sample.image.flags.c_contiguous and sample.masks.flags.c_contiguous
    np.testing.assert_allclose(sample.source.affine, want_affine, atol=1e-5)
    assert nibabel.aff2axcodes(sample.source.affine) == ("S", "P", "L")
    assert sample.axis_names == NAMES
    assert sample.warnings == []


def test_a_marked_voxel_keeps_its_world_position(pair):
    path, image, _ = pair
    sample = open_dataset(path).sample(0)
    file_affine = nibabel.load(path).affine
    for value in (0, int(image.max()), 17):  # distinct values: each marks one voxel
        in_file = np.argwhere(image == value)[0]
        held = np.argwhere(sample.image == value)
        assert len(held) == 1
        np.testing.assert_allclose(
            world(sample.source.affine, held[0]), world(file_affine, in_file), atol=1e-4
        )


def test_the_scale_follows_the_axes(pair):
    path = pair[0]
    sample = open_dataset(path).sample(0)
    _, want_affine = expected_held(path)
    np.testing.assert_allclose(sample.scale, np.linalg.norm(want_affine[:3, :3], axis=0), 1e-5)
    zooms = nibabel.load(path).header.get_zooms()
    assert sorted(sample.scale) == pytest.approx(sorted(zooms))


@pytest.mark.parametrize("fmt", ["masks", "onehot"])
def test_saving_restores_the_files_layout_and_affine(pair, tmp_path, fmt):
    path, image, masks = pair
    sample = open_dataset(path).sample(0)
    out = save_samples([sample], tmp_path / "out", fmt)
    original = nibabel.load(path)
    saved = nibabel.load(out / "vol.nii.gz")
    np.testing.assert_array_equal(np.asanyarray(saved.dataobj), image)
    assert np.array_equal(saved.affine, original.affine)  # bit for bit
    saved_masks = np.asanyarray(nibabel.load(out / "vol_masks.nii.gz").dataobj)
    if fmt == "onehot":  # background first
        assert saved_masks[..., 0].tolist() == (masks.max(axis=-1) == 0).astype(int).tolist()
        saved_masks = saved_masks[..., 1:]
    np.testing.assert_array_equal(saved_masks, masks)
    again = open_dataset(out).sample(0)
    np.testing.assert_array_equal(again.image, sample.image)
    np.testing.assert_array_equal(again.masks, sample.masks)
    np.testing.assert_array_equal(again.source.affine, sample.source.affine)
    assert again.scale == sample.scale


def test_index_labels_with_ignore_round_trip_in_file_layout(tmp_path):
    affine = AFFINES["coronal-oblique"]
    image, _ = volume_and_masks(1)
    labels = np.random.default_rng(2).integers(0, 3, SHAPE).astype(np.uint8)
    labels[0, 1, 2] = 255  # ignore
    path = write_pair(tmp_path / "src", image, labels, affine, tag="_labels")
    sample = open_dataset(path).sample(0)
    want_labels, _ = expected_held(path.with_name("vol_labels.nii.gz"))
    np.testing.assert_array_equal(sample.ignore, (want_labels == 255).astype(np.uint8))
    np.testing.assert_array_equal(sample.masks[1], (want_labels == 2).astype(np.uint8))
    out = save_samples([sample], tmp_path / "out", "index")
    saved = nibabel.load(out / "vol_labels.nii.gz")
    np.testing.assert_array_equal(np.asanyarray(saved.dataobj), labels)
    assert np.array_equal(saved.affine, nibabel.load(path).affine)


def test_masks_with_the_class_axis_first_turn_by_their_spatial_axes(tmp_path):
    image, masks = volume_and_masks()
    first = np.ascontiguousarray(np.moveaxis(masks, -1, 0))
    path = write_pair(tmp_path / "src", image, first, AFFINES["lps"])
    sample = open_dataset(path, class_axis="first").sample(0)
    reference = write_pair(tmp_path / "ref", image, masks, AFFINES["lps"])
    want_masks, _ = expected_held(reference.with_name("vol_masks.nii.gz"))
    np.testing.assert_array_equal(sample.masks, np.moveaxis(want_masks, -1, 0))


@pytest.mark.parametrize(
    "affine",
    [
        affine_from(np.array([[1.0, 0, 0], [0, 0, 0], [0, 0, 2.0]])),  # a zero column
        affine_from(np.zeros((3, 3))),
        affine_from(np.array([[1.0, 0, 0], [0, np.nan, 0], [0, 0, 2.0]])),
    ],
    ids=["zero-column", "all-zero", "not-a-number"],
)
def test_an_affine_that_decides_no_orientation_warns_and_keeps_file_order(tmp_path, affine):
    image, masks = volume_and_masks()
    (tmp_path / "src").mkdir()
    write_with_sform(tmp_path / "src" / "vol.nii.gz", image, affine)
    write_with_sform(tmp_path / "src" / "vol_masks.nii.gz", masks, affine)
    sample = open_dataset(tmp_path / "src").sample(0)
    np.testing.assert_array_equal(sample.image, image)
    np.testing.assert_array_equal(sample.masks, np.moveaxis(masks, -1, 0))
    assert sample.axis_names is None and "nifti_to_file" not in sample.source.extra
    assert len(sample.warnings) == 1 and "decides no orientation" in sample.warnings[0]
    out = save_samples([sample], tmp_path / "out", "masks")  # written as read, no crash
    saved = nibabel.load(out / "vol.nii.gz")
    np.testing.assert_array_equal(np.asanyarray(saved.dataobj), image)
    np.testing.assert_array_equal(saved.affine, nibabel.load(tmp_path / "src/vol.nii.gz").affine)


def test_a_sheared_affine_is_held_by_its_closest_axes(tmp_path):
    shear = affine_from(np.array([[0, 0.3, 1.0], [1.0, 0, 0.2], [0.1, 1.0, 0]]) * 0.8)
    image, masks = volume_and_masks()
    path = write_pair(tmp_path / "src", image, masks, shear)
    sample = open_dataset(path).sample(0)
    assert sample.warnings == [] and sample.axis_names == NAMES
    np.testing.assert_array_equal(sample.image, expected_held(path)[0])
    out = save_samples([sample], tmp_path / "out", "masks")
    np.testing.assert_array_equal(np.asanyarray(nibabel.load(out / "vol.nii.gz").dataobj), image)


def test_2d_and_rgb_nifti_stay_in_file_order(tmp_path):
    rng = np.random.default_rng(3)
    flat = rng.integers(0, 255, (9, 11)).astype(np.uint8)
    masks = (rng.random((9, 11, 2)) > 0.5).astype(np.uint8)
    for name, image in (("flat", flat), ("rgb", np.stack([flat] * 3, axis=-1))):
        path = write_pair(tmp_path / name, image, masks, AFFINES["lps"])
        sample = open_dataset(path).sample(0)
        np.testing.assert_array_equal(sample.image, image)
        np.testing.assert_array_equal(sample.masks, np.moveaxis(masks, -1, 0))
        assert sample.axis_names is None and sample.warnings == []
        np.testing.assert_array_equal(sample.source.affine, nibabel.load(path).affine)


def nnunet_folder(root: Path, affine: np.ndarray) -> np.ndarray:
    """A one-case nnU-Net raw folder; its labels."""
    image, _ = volume_and_masks(4)
    labels = np.random.default_rng(5).integers(0, 3, SHAPE).astype(np.uint8)
    (root / "imagesTr").mkdir(parents=True)
    (root / "labelsTr").mkdir()
    nibabel.save(nibabel.Nifti1Image(image, affine), root / "imagesTr" / "case_0000.nii.gz")
    nibabel.save(nibabel.Nifti1Image(labels, affine), root / "labelsTr" / "case.nii.gz")
    description = {
        "channel_names": {"0": "CT"},
        "labels": {"background": 0, "liver": 1, "tumour": 2},
        "numTraining": 1,
        "file_ending": ".nii.gz",
    }
    (root / "dataset.json").write_text(json.dumps(description))
    return labels


def test_an_nnunet_folder_is_held_canonical_and_saved_in_file_layout(tmp_path):
    affine = AFFINES["sagittal-anisotropic"]
    labels = nnunet_folder(tmp_path / "Dataset001_x", affine)
    sample = open_dataset(tmp_path / "Dataset001_x").sample(0)
    want_image, want_affine = expected_held(tmp_path / "Dataset001_x/imagesTr/case_0000.nii.gz")
    want_labels, _ = expected_held(tmp_path / "Dataset001_x/labelsTr/case.nii.gz")
    np.testing.assert_array_equal(sample.image, want_image)
    np.testing.assert_array_equal(sample.masks[1], (want_labels == 2).astype(np.uint8))
    np.testing.assert_allclose(sample.source.affine, want_affine, atol=1e-5)
    np.testing.assert_allclose(sample.scale, np.linalg.norm(want_affine[:3, :3], axis=0), 1e-5)
    assert sample.axis_names == NAMES
    out = save_samples([sample], tmp_path / "out", "index")
    saved = nibabel.load(out / "case_labels.nii.gz")
    np.testing.assert_array_equal(np.asanyarray(saved.dataobj), labels)
    assert np.array_equal(
        saved.affine, nibabel.load(tmp_path / "Dataset001_x/labelsTr/case.nii.gz").affine
    )


def test_an_nnunet_export_of_a_held_volume_reads_back_the_same(pair, tmp_path):
    path = pair[0]
    sample = open_dataset(path).sample(0)
    folder = export_nnunet(Dataset.from_samples("d", [sample]), tmp_path / "exp", 5, "o")
    back = open_dataset(folder).sample(0)
    np.testing.assert_array_equal(back.image, sample.image)
    np.testing.assert_array_equal(back.masks, sample.masks)
    np.testing.assert_allclose(back.source.affine, sample.source.affine, atol=1e-5)


def test_a_volume_without_an_affine_is_exported_as_held():
    volume = Sample("v", np.zeros(SHAPE, np.uint8), np.zeros((1, *SHAPE), np.uint8), ["c"])
    volume.scale = (2.0, 0.5, 0.25)
    affine = affine_of(volume)
    assert nibabel.aff2axcodes(affine) == ("S", "P", "L")
    np.testing.assert_allclose(np.linalg.norm(affine[:3, :3], axis=0), volume.scale)
