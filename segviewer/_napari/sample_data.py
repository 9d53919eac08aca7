"""napari sample-data hooks: the seeded synthetic datasets (cells and spots: 8 2D samples and
one 3D volume; six overlapping classes: 5 2D samples and one 3D volume)."""

from __future__ import annotations

from segviewer._napari.layers import standalone_layer_data
from segviewer.core.data.sample import Dataset
from segviewer.core.data.synthetic import DEFAULT_SEED, make_dataset_samples
from segviewer.core.data.synthetic_many import MANY_SEED, make_many_samples


def make_sample_data() -> list:
    dataset = Dataset.from_samples("segviewer sample", make_dataset_samples(DEFAULT_SEED))
    return standalone_layer_data(dataset, 0)


def make_many_classes_data() -> list:
    """The six-class dataset (its first sample shown; the panel lists the others)."""
    dataset = Dataset.from_samples("segviewer six classes", make_many_samples(MANY_SEED))
    return standalone_layer_data(dataset, 0)
