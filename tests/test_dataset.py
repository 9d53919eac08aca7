"""Dataset: samples read on demand, a small cache, edited samples pinned until saved."""

import numpy as np
from conftest import small_sample

from segviewer.core.data.sample import Dataset, SampleRef, Source


def counting_dataset(n=5, cache_size=2):
    loads = []

    def loader(i):
        def load():
            loads.append(i)
            return small_sample((8, 8), seed=i, name=f"s{i}")

        return load

    refs = [SampleRef(f"s{i}", loader(i), Source("memory")) for i in range(n)]
    return Dataset("d", refs, cache_size=cache_size), loads


def test_nothing_is_read_until_asked_and_the_cache_is_bounded():
    dataset, loads = counting_dataset()
    assert loads == [] and dataset.names == ["s0", "s1", "s2", "s3", "s4"]
    first = dataset.sample(0)
    assert dataset.sample(0) is first and loads == [0]
    dataset.sample(1)
    dataset.sample(2)  # evicts s0
    assert dataset.sample(0) is not first and loads == [0, 1, 2, 0]


def test_edited_samples_stay_in_memory_until_saved():
    dataset, loads = counting_dataset()
    edited = dataset.sample(0)
    edited.masks[0, 0, 0] ^= 1
    dataset.mark_modified(0, edited)
    for i in range(1, 5):
        dataset.sample(i)
    assert dataset.sample(0) is edited and loads == [0, 1, 2, 3, 4]
    assert dataset.modified == [0] and dataset.is_modified(0)
    dataset.mark_saved(0)
    assert not dataset.is_modified(0)


def test_iterating_gives_edited_samples_as_edited():
    dataset, _ = counting_dataset(n=3)
    edited = dataset.sample(1)
    edited.masks[:] = 1
    dataset.mark_modified(1, edited)
    dataset.sample(0), dataset.sample(2)
    assert [int(s.masks.sum()) for s in dataset][1] == edited.masks.size
    assert np.array_equal(list(dataset)[1].masks, edited.masks)
