"""The seeded sample dataset looks like our users' data and is reproducible."""

import numpy as np

from segviewer.core.data.synthetic import CLASS_NAMES, make_dataset_samples
from segviewer.core.stats.counts import count_pixels


def test_same_seed_same_data_other_seed_other_data():
    a, b = make_dataset_samples(3, count=2, volumes=0), make_dataset_samples(3, count=2, volumes=0)
    c = make_dataset_samples(4, count=2, volumes=0)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x.image, y.image)
        np.testing.assert_array_equal(x.masks, y.masks)
    assert not np.array_equal(a[0].masks, c[0].masks[:, : a[0].masks.shape[1], :])


def test_default_dataset_has_the_promised_shape_and_class_balance():
    samples = make_dataset_samples()
    flat, volumes = samples[:-1], samples[-1:]
    assert len(flat) == 8 and all(256 <= n <= 512 for s in flat for n in s.spatial_shape)
    assert len(volumes) == 1 and volumes[0].image.ndim == 3
    for sample in samples:
        assert sample.class_names == CLASS_NAMES
        assert sample.masks.dtype == np.uint8 and sample.image.dtype == np.uint16
        counts = count_pixels(sample.masks)
        cell, spot = (n / counts.total for n in counts.classes)
        labelled = counts.total - counts.background
        assert 0.15 <= cell <= 0.35, sample.name
        assert 0.005 <= spot <= 0.02, sample.name
        assert 0.01 <= counts.conflicts / labelled <= 0.05, sample.name
        assert sample.image.std() > 0
