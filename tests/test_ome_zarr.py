"""Big samples as OME-Zarr: written tile by tile, opened lazily with their metadata
checked, counted chunk by chunk, predicted band by band, and bad stores refused."""

import json
import subprocess
import sys

import numpy as np
import pytest
import zarr

from segviewer.core.data.synthetic import make_sample
from segviewer.core.errors import SegviewerError
from segviewer.core.io.ome_zarr import (
    big_tally,
    is_ome_zarr,
    open_big,
    write_big_sample,
)
from segviewer.core.model.big import predict_big
from segviewer.core.model.inference import predict_labels
from segviewer.core.model.registry import open_model
from segviewer.core.stats.classes import tally

SIZE, TILE = 256, 128


def expected_arrays(seed=0):
    """The sample assembled in memory from the same tiles (the writer's recipe)."""
    image = np.zeros((SIZE, SIZE), np.uint16)
    masks = np.zeros((2, SIZE, SIZE), np.uint8)
    corners = [(y, x) for y in range(0, SIZE, TILE) for x in range(0, SIZE, TILE)]
    for n, (y, x) in enumerate(corners):
        tile = make_sample(np.random.default_rng([seed, n]), (TILE, TILE), "t")
        image[y : y + TILE, x : x + TILE] = tile.image
        masks[:, y : y + TILE, x : x + TILE] = tile.masks
    return image, masks


@pytest.fixture(params=["0.5", "0.4"])
def store(request, tmp_path):
    out = tmp_path / f"big{request.param}.zarr"
    write_big_sample(out, SIZE, seed=0, tile=TILE, chunk=64, version=request.param)
    return out


def test_a_written_sample_opens_lazily_with_its_pixels(store):
    image, masks = expected_arrays()
    sample = open_big(store)
    assert is_ome_zarr(store) and sample.class_names == ["cell", "spot"]
    assert sample.shape == (SIZE, SIZE) and tuple(sample.image.chunks) == (64, 64)
    np.testing.assert_array_equal(sample.image[:], image)
    for got, want in zip(sample.masks, masks, strict=True):
        np.testing.assert_array_equal(got[:], want)
    assert len(sample.levels) > 1 and sample.levels[1].shape == (SIZE // 2, SIZE // 2)
    means = image[:16, :16].reshape(8, 2, 8, 2).mean((1, 3)).astype(np.uint16)
    np.testing.assert_array_equal(sample.levels[1][:8, :8], means)


def test_chunked_counts_equal_numpy(store):
    _, masks = expected_arrays()
    np.testing.assert_array_equal(big_tally(open_big(store)), tally(masks))
    np.testing.assert_array_equal(big_tally(open_big(store), scheduler="synchronous"), tally(masks))


def test_streamed_prediction_equals_the_in_memory_one(store, tmp_path):
    model = open_model("bundled")
    image, _ = expected_arrays()
    predict_big(open_big(store), model, tmp_path / "pred.zarr")
    labels = zarr.open_group(str(tmp_path / "pred.zarr"), mode="r")["0"]
    np.testing.assert_array_equal(labels[:], predict_labels(model, image, None))


def test_a_failed_prediction_leaves_nothing(store, tmp_path):
    model = open_model("bundled")
    model.info.classes = ["background", "cell"]  # logits of the wrong shape: refused
    with pytest.raises(SegviewerError, match="returned logits of shape"):
        predict_big(open_big(store), model, tmp_path / "pred.zarr")
    assert sorted(p.name for p in tmp_path.iterdir()) == [store.name]


def edit_attrs(path, change):
    """Change a group's attributes in place (v3 zarr.json or v2 .zattrs)."""
    meta = path / "zarr.json"
    if meta.exists():
        data = json.loads(meta.read_text())
        change(data["attributes"])
    else:
        meta = path / ".zattrs"
        data = json.loads(meta.read_text())
        change(data)
    meta.write_text(json.dumps(data))


def set_version(version):
    def change(attrs):
        if "ome" in attrs:
            attrs["ome"]["version"] = version
        else:
            attrs["multiscales"][0]["version"] = version

    return change


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "segviewer.cli", *map(str, args)],
        capture_output=True, text=True, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def test_bad_stores_are_refused_on_one_line(store, tmp_path):
    import shutil

    cases = {}
    version = tmp_path / "version.zarr"
    shutil.copytree(store, version)
    edit_attrs(version, set_version("0.3"))
    cases[version] = "NGFF version 0.3 is not supported"
    no_labels = tmp_path / "nolabels.zarr"
    shutil.copytree(store, no_labels)
    shutil.rmtree(no_labels / "labels")
    cases[no_labels] = "no labels group"
    chunks = tmp_path / "chunks.zarr"
    shutil.copytree(store, chunks)
    group = zarr.open_group(str(chunks / "labels" / "spot"), mode="r+")
    data = group["0"][:]
    del group["0"]
    group.create_array("0", shape=data.shape, chunks=(32, 32), dtype=data.dtype)[:] = data
    cases[chunks] = "in chunks (32, 32), but the image is (256, 256) in chunks (64, 64)"
    for path, message in cases.items():
        with pytest.raises(SegviewerError, match=message.replace("(", r"\(").replace(")", r"\)")):
            open_big(path)
        result = run_cli("stats", path)
        assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
        assert message in result.stderr and str(path) in result.stderr


def test_the_cli_writes_counts_and_predicts_a_big_sample(tmp_path):
    out = tmp_path / "s.zarr"
    assert run_cli("sample", "--big", "256", "--out", out).returncode == 0
    again = run_cli("sample", "--big", "256", "--out", out)
    assert again.returncode == 2 and "already exists" in again.stderr
    stats = json.loads(run_cli("stats", out, "--json").stdout)
    sample = open_big(out)
    assert stats["counts"] == big_tally(sample)[:-1].tolist()
    assert stats["conflicts"] == int(big_tally(sample)[-1])
    predicted = run_cli("predict", out, "--out", tmp_path / "p.zarr")
    assert predicted.returncode == 0, predicted.stderr
    assert zarr.open_group(str(tmp_path / "p.zarr"), mode="r")["0"].shape == (256, 256)


def test_napari_reads_a_big_sample_as_lazy_multiscale_layers(store, monkeypatch):
    from segviewer._napari import reader as napari_reader

    _, masks = expected_arrays()
    read = napari_reader.napari_get_reader(str(store))
    assert read is napari_reader.read_big
    layers = read(str(store))
    assert [(kw["name"], kind) for _, kw, kind in layers] == [
        (store.name, "image"),
        ("background", "labels"),
        ("cell", "labels"),
        ("spot", "labels"),
        ("conflicts", "labels"),
    ]
    assert all(kw["multiscale"] and len(data) == 2 for data, kw, _ in layers)
    claims = masks.sum(axis=0)
    np.testing.assert_array_equal(np.asarray(layers[1][0][0]), claims == 0)
    np.testing.assert_array_equal(np.asarray(layers[4][0][0]), claims > 1)
    np.testing.assert_array_equal(np.asarray(layers[4][0][1]), claims[::2, ::2] > 1)
    np.testing.assert_array_equal(np.asarray(layers[3][0][0]), masks[1])
    errors = []
    monkeypatch.setattr(napari_reader, "show_error", errors.append)
    (store / "labels").rename(store / "elsewhere")
    assert napari_reader.read_big(str(store)) == napari_reader.NULL_LAYER
    assert len(errors) == 1 and "no labels group" in errors[0]


def test_samples_round_trip_through_ome_zarr_in_every_format(dataset_folder, tmp_path):
    from segviewer import Workspace
    from segviewer.core.io.readers import open_dataset

    workspace = Workspace.open(dataset_folder)
    original = [workspace.dataset.sample(i) for i in range(len(workspace.dataset))]
    out = workspace.save(tmp_path / "masks", "masks", container="ome-zarr")
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{s.name}.zarr" for s in original)
    back = open_dataset([out])
    for i, sample in enumerate(original):
        got = back.sample(i)
        assert got.name == sample.name and got.class_names == sample.class_names
        assert got.source.format == "ome-zarr"
        np.testing.assert_array_equal(got.image, sample.image)
        np.testing.assert_array_equal(got.masks, sample.masks)
    labels = zarr.open_group(str(out / f"{original[0].name}.zarr"), mode="r")["labels"]
    assert labels.attrs["ome"]["labels"] == original[0].class_names


def test_index_labels_with_ignore_and_rgb_images_round_trip(tmp_path):
    from dataclasses import replace

    from segviewer.core.data.sample import Source
    from segviewer.core.io.readers import open_dataset
    from segviewer.core.io.writers import save_samples

    rng = np.random.default_rng(0)
    masks = np.zeros((2, 40, 50), np.uint8)
    masks[0, :20], masks[1, 25:] = 1, 1
    ignore = np.zeros((40, 50), bool)
    ignore[0, :5] = True
    masks[:, ignore] = 0
    rgb = rng.integers(0, 255, (40, 50, 3), dtype=np.uint8)
    sample = make_sample(rng, (40, 50), "rgb")
    sample = replace(sample, image=rgb, masks=masks, ignore=ignore, source=Source("npz", ()))
    out = save_samples([sample], tmp_path / "index", "index", container="ome-zarr")
    got = open_dataset([out]).sample(0)
    np.testing.assert_array_equal(got.image, rgb)
    np.testing.assert_array_equal(got.masks, masks)
    np.testing.assert_array_equal(got.ignore, ignore)
    values = zarr.open_group(str(out / "rgb.zarr" / "labels" / "labels"), mode="r").attrs
    properties = values["ome"]["image-label"]["properties"]
    assert {p["label-value"]: p["class"] for p in properties} == {
        0: "background", 1: sample.class_names[0], 2: sample.class_names[1], 255: "ignore"
    }  # fmt: skip


def test_resolve_writes_ome_zarr_and_a_store_too_big_for_memory_is_refused(
    dataset_folder, tmp_path, monkeypatch
):
    from segviewer.core.io import ome_zarr
    from segviewer.core.io.readers import open_dataset

    out = tmp_path / "resolved"
    result = run_cli("resolve", dataset_folder, "--rule", "priority", "--container",
                     "ome-zarr", "--out", out)  # fmt: skip
    assert result.returncode == 0, result.stderr
    back = open_dataset([out])
    assert all(back.sample(i).masks.sum(axis=0).max() <= 1 for i in range(len(back)))
    monkeypatch.setattr(ome_zarr, "MAX_IN_MEMORY", 100)
    first = next(out.iterdir())
    with pytest.raises(SegviewerError, match="more than segviewer edits in memory"):
        open_dataset([first]).sample(0)


def test_the_summary_index_sees_a_chunk_rewritten_inside_a_store(dataset_folder, tmp_path):
    from segviewer.core.stats.index import _stamp

    out = run_cli("resolve", dataset_folder, "--rule", "priority", "--container", "ome-zarr",
                  "--out", tmp_path / "r")  # fmt: skip
    assert out.returncode == 0, out.stderr
    store = next((tmp_path / "r").iterdir())
    before = _stamp(store)
    group = zarr.open_group(str(store / "labels" / "cell"), mode="r+")
    group["0"][0, 0] = 1 - group["0"][0, 0]
    assert _stamp(store) != before
