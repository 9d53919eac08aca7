"""napari sample-data hook: the seeded synthetic dataset (8 2D samples and one 3D volume)."""

from __future__ import annotations

from segviewer._napari.layers import standalone_layer_data
from segviewer.core.data.sample import Dataset
from segviewer.core.data.synthetic import DEFAULT_SEED, make_dataset_samples


def make_sample_data() -> list:
    dataset = Dataset.from_samples("segviewer sample", make_dataset_samples(DEFAULT_SEED))
    return standalone_layer_data(dataset, 0)
