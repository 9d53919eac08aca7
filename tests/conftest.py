"""Fixtures that write small one-hot datasets in every supported format, and a Dask
scheduler with two workers on loopback."""

from __future__ import annotations

import os
from pathlib import Path

import nibabel
import numpy as np
import pytest
import tifffile
from loopback_cluster import loopback_cluster

from segviewer.core.data.sample import Sample
from segviewer.core.data.synthetic import make_sample


def small_sample(shape=(48, 64), seed=0, name="s0") -> Sample:
    """A synthetic sample (cell + spot, with overlaps) of the given spatial shape."""
    return make_sample(np.random.default_rng(seed), shape, name)


def write_npz(path: Path, sample: Sample, **extra) -> Path:
    arrays = {"image": sample.image, "masks": sample.masks, "class_names": sample.class_names}
    arrays.update(extra)
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
    return path


def write_tiff_pair(folder: Path, sample: Sample, masks=None) -> tuple[Path, Path]:
    image_path, masks_path = folder / f"{sample.name}.tif", folder / f"{sample.name}_masks.tif"
    tifffile.imwrite(image_path, sample.image)
    tifffile.imwrite(
        masks_path,
        sample.masks if masks is None else masks,
        metadata={"class_names": sample.class_names},
    )
    return image_path, masks_path


def write_nifti_pair(folder: Path, image: np.ndarray, masks_last: np.ndarray, affine=None):
    affine = np.diag([0.5, 0.5, 2.0, 1.0]) if affine is None else affine
    image_path, masks_path = folder / "vol.nii.gz", folder / "vol_masks.nii.gz"
    nibabel.save(nibabel.Nifti1Image(image, affine), image_path)
    nibabel.save(nibabel.Nifti1Image(masks_last, affine), masks_path)
    return image_path, masks_path


@pytest.fixture
def sample2d() -> Sample:
    return small_sample()


@pytest.fixture
def dataset_folder(tmp_path) -> Path:
    from segviewer.core.data.synthetic import make_dataset_samples
    from segviewer.core.io.writers import save_samples

    samples = make_dataset_samples(seed=5, count=3, volumes=1)
    return save_samples(samples, tmp_path / "dataset", "masks")


@pytest.fixture(autouse=True)
def no_modal_dialogs(monkeypatch):
    """Closing a viewer with unsaved edits would ask in a modal dialog: tests answer Yes
    (a test that checks the question sets ``widget.guard.ask`` itself)."""
    try:
        from segviewer._napari import close_guard
    except ImportError:  # no Qt here
        return
    monkeypatch.setattr(close_guard, "ask_user", lambda question: True)


@pytest.fixture(autouse=True)
def private_summary_index(monkeypatch, tmp_path_factory):
    """Each test gets an empty summary index of its own, never the user's cache."""
    monkeypatch.setenv("SEGVIEWER_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory):
    """(Per test module.) ``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1."""
    folder = tmp_path_factory.mktemp("cluster")
    env = {**os.environ, "SEGVIEWER_CACHE_DIR": str(folder)}
    with loopback_cluster(folder, env) as address:
        yield address
