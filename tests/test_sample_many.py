"""The second bundled sample dataset: six classes with many overlaps, 2D and 3D, seeded;
its napari sample-data hook, its manifest entry and `segviewer sample --kind many`."""

import importlib
from pathlib import Path

import numpy as np
import pytest
import yaml

import segviewer
from segviewer.core.data.synthetic_many import (
    MANY_CLASS_NAMES,
    make_many_sample,
    make_many_samples,
)

MANIFEST = Path(segviewer.__file__).parent / "napari.yaml"


@pytest.fixture(scope="module")
def samples():
    return make_many_samples()


def combinations(masks: np.ndarray) -> dict[int, int]:
    """Pixels per combination of two or more classes, keyed by the bitmask Σ m_c << c."""
    code = np.zeros(masks.shape[1:], np.int64)
    for c, mask in enumerate(masks):
        code |= mask.astype(np.int64) << c
    values, counts = np.unique(code, return_counts=True)
    return {
        int(v): int(n) for v, n in zip(values, counts, strict=True) if bin(int(v)).count("1") >= 2
    }


def test_same_seed_same_data_other_seed_other_data():
    a, b = make_many_samples(7, count=2, volumes=1), make_many_samples(7, count=2, volumes=1)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x.image, y.image)
        np.testing.assert_array_equal(x.masks, y.masks)
    c = make_many_sample(np.random.default_rng(8), a[0].spatial_shape, "other")
    assert not np.array_equal(a[0].masks, c.masks)


def test_six_classes_as_uint8_one_hot_masks_in_2d_and_3d(samples):
    flat, volumes = samples[:-1], samples[-1:]
    assert len(flat) == 5 and all(256 <= n <= 384 for s in flat for n in s.spatial_shape)
    assert [s.spatial_shape for s in volumes] == [(48, 128, 128)]
    assert len(MANY_CLASS_NAMES) == 6 and len(set(MANY_CLASS_NAMES)) == 6
    for sample in samples:
        assert sample.class_names == MANY_CLASS_NAMES
        assert sample.masks.dtype == np.uint8 and sample.image.dtype == np.uint16
        assert sample.masks.shape == (6, *sample.image.shape)
        assert set(np.unique(sample.masks)) <= {0, 1}
        assert sample.image.std() > 0


def test_many_combinations_of_very_different_sizes(samples):
    per_sample = [combinations(s.masks) for s in samples]
    everywhere = set().union(*per_sample)
    assert len(everywhere) >= 15
    first = per_sample[0]
    assert len(first) >= 8
    assert any(bin(code).count("1") >= 3 for code in first)  # a triple (or more)
    assert all(any(bin(code).count("1") >= 3 for code in combos) for combos in per_sample)
    assert min(first.values()) <= 10  # a rare combination of a handful of pixels
    assert max(first.values()) >= 0.01 * samples[0].masks[0].size  # and a large one
    volume = per_sample[-1]
    assert len(volume) >= 8 and any(bin(code).count("1") >= 3 for code in volume)
    # the lesion overlaps every other class somewhere in the first sample
    lesion = MANY_CLASS_NAMES.index("lesion")
    for c in range(6):
        if c != lesion:
            assert any(code >> c & 1 and code >> lesion & 1 for code in first), c


def test_one_sample_lacks_the_lesion_and_every_other_class_is_everywhere(samples):
    absent = [
        (s.name, MANY_CLASS_NAMES[c]) for s in samples for c in range(6) if not s.masks[c].any()
    ]
    assert absent == [("sample_003", "lesion")]
    assert make_many_samples(count=2, volumes=0)[1].masks[5].any()  # only sample 3 lacks it


def test_napari_sample_hook_returns_the_first_sample_layers(samples):
    from segviewer._napari.sample_data import make_many_classes_data

    layers = make_many_classes_data()
    assert [kwargs["name"] for _, kwargs, _ in layers] == [
        "sample_000",
        "background",
        *MANY_CLASS_NAMES,
        "conflicts",
    ]
    assert [kind for _, _, kind in layers] == ["image", "labels", *["labels"] * 6, "labels"]
    np.testing.assert_array_equal(layers[0][0], samples[0].image)
    for c in range(6):
        np.testing.assert_array_equal(layers[2 + c][0], samples[0].masks[c])


def test_manifest_registers_both_sample_datasets_with_importable_commands():
    manifest = yaml.safe_load(MANIFEST.read_text())
    commands = {c["id"]: c["python_name"] for c in manifest["contributions"]["commands"]}
    entries = {e["key"]: e for e in manifest["contributions"]["sample_data"]}
    assert set(entries) == {"cells", "many_classes"}
    assert entries["many_classes"]["display_name"] == "Six overlapping classes (5 2D + 1 volume)"
    for entry in entries.values():
        module, _, name = commands[entry["command"]].partition(":")
        assert callable(getattr(importlib.import_module(module), name))
    from npe2 import PluginManifest

    parsed = PluginManifest.from_file(MANIFEST)  # npe2 reads it too
    assert {s.key for s in parsed.contributions.sample_data} == {"cells", "many_classes"}


def test_cli_sample_kind_many_writes_the_dataset_and_reads_back(tmp_path):
    from test_cli import run_cli

    from segviewer.core.io.readers import open_dataset

    out = tmp_path / "ds"
    result = run_cli("sample", "--kind", "many", "--out", out, "--seed", 3, "--count", 4)
    assert result.returncode == 0, result.stderr
    assert (out / "classes.txt").read_text().split() == MANY_CLASS_NAMES
    assert sorted(p.name for p in (out / "images").iterdir()) == [
        *(f"sample_{i:03d}.png" for i in range(4)),
        "volume_000.tif",
    ]
    for got, want in zip(open_dataset(out), make_many_samples(3, 4, 1), strict=True):
        np.testing.assert_array_equal(got.image, want.image)
        np.testing.assert_array_equal(got.masks, want.masks)
    refused = run_cli("sample", "--kind", "many", "--big", 256, "--out", tmp_path / "b.zarr")
    assert refused.returncode == 2 and "--big" in refused.stderr


def test_file_open_sample_in_napari_shows_the_six_classes(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.open_sample("segviewer", "many_classes")  # File › Open Sample, through the manifest
    assert [layer.name for layer in viewer.layers] == [
        "sample_000",
        "background",
        *MANY_CLASS_NAMES,
        "conflicts",
    ]
    assert int(np.asarray(viewer.layers["conflicts"].data).max()) > 0
