"""Big TIFF pairs (NAME.tif tiled, a pyramid + NAME_masks.tif one tiled page per class) opened
lazily as the same big sample as an OME-Zarr store: no pixel read on opening, the levels,
counts equal to numpy's, the CLI and napari routes, bad files refused on one line; and big
counts (TIFF and OME-Zarr) kept in the summary index until a file changes."""

import json
import re
import warnings

import dask.array as da
import numpy as np
import pytest
import tifffile
import zarr

from segviewer.cli import main
from segviewer.core.data.synthetic import make_sample
from segviewer.core.errors import SegviewerError
from segviewer.core.io import big_tiff, ome_zarr
from segviewer.core.io.big import is_big, open_big
from segviewer.core.io.ome_zarr import big_tally
from segviewer.core.stats import big as big_counts
from segviewer.core.stats.classes import tally

SIZE, TILE, LEVELS = 256, 64, 3


def write_pyramid(path, data, levels=LEVELS, tile=TILE, **options):
    """``data`` (pages first, spatial last two axes) tiled, with ``levels - 1`` SubIFDs."""
    options = {"photometric": "minisblack", **options}
    with tifffile.TiffWriter(path) as tif:
        tif.write(data, tile=(tile, tile), subifds=levels - 1, **options)
        for k in range(1, levels):
            options.pop("metadata", None)
            tif.write(data[..., :: 2**k, :: 2**k], tile=(tile, tile), subfiletype=1, **options)
    return path


@pytest.fixture
def pair(tmp_path):
    sample = make_sample(np.random.default_rng(3), (SIZE, SIZE), "slide")
    image = write_pyramid(tmp_path / "slide.tif", sample.image)
    write_pyramid(tmp_path / "slide_masks.tif", sample.masks,
                  metadata={"class_names": sample.class_names})  # fmt: skip
    return image, sample


@pytest.fixture
def big_route(monkeypatch):
    """Files of more than 100 pixels take the lazy route (the real threshold is 2²⁸)."""
    monkeypatch.setattr(ome_zarr, "MAX_IN_MEMORY", 100)


def cli(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_big_tiff_pair_opens_without_reading_pixels(pair, monkeypatch):
    path, sample = pair
    reads = []
    read = tifffile.tifffile.FileCache.read
    monkeypatch.setattr(tifffile.tifffile.FileCache, "read",
                        lambda self, *a, **k: reads.append(a) or read(self, *a, **k))  # fmt: skip
    for opened in (open_big(path), open_big(path.with_name("slide_masks.tif"))):
        assert reads == []
        assert isinstance(opened.image, zarr.Array) and opened.image.chunks == (TILE, TILE)
        assert all(isinstance(m, da.Array) for m in opened.masks)
        assert opened.class_names == sample.class_names and opened.shape == (SIZE, SIZE)
        assert [lvl.shape for lvl in opened.levels] == [(256, 256), (128, 128), (64, 64)]
        assert [[m.shape for m in ms] for ms in opened.mask_levels] == [
            [(256, 256), (128, 128), (64, 64)]] * 2  # fmt: skip
        assert opened.files == (path, path.with_name("slide_masks.tif"))
    opened.image[:TILE, :TILE]
    assert len(reads) == 1  # one tile read for one chunk
    np.testing.assert_array_equal(opened.image[:], sample.image)
    np.testing.assert_array_equal(opened.levels[2][:], sample.image[::4, ::4])
    np.testing.assert_array_equal(np.stack([np.asarray(m) for m in opened.masks]), sample.masks)
    np.testing.assert_array_equal(np.asarray(opened.mask_levels[1][1]), sample.masks[1, ::2, ::2])


def test_chunked_counts_equal_numpy(pair):
    path, sample = pair
    opened = open_big(path)
    np.testing.assert_array_equal(big_tally(opened), tally(sample.masks))
    np.testing.assert_array_equal(big_tally(opened, scheduler="synchronous"), tally(sample.masks))


def test_a_corrupt_tile_is_refused_on_one_line_when_counted(pair):
    path, sample = pair
    masks_path = path.with_name("slide_masks.tif")
    write_pyramid(masks_path, sample.masks, compression="zlib")
    opened = open_big(path)
    data = bytearray(masks_path.read_bytes())
    data[2000:30000] = b"\x07" * 28000  # tiles overwritten after opening
    masks_path.write_bytes(data)
    with pytest.raises(SegviewerError, match=f"{masks_path}: cannot read a chunk of the masks"):
        big_tally(opened)


def test_rgb_images_strips_and_other_mask_layouts(tmp_path):
    rng = np.random.default_rng(1)
    masks = (rng.random((3, 128, 96)) < 0.4).astype(np.uint8)
    rgb = rng.integers(0, 255, (128, 96, 3), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "a.tif", rgb, tile=(32, 32), photometric="rgb")
    with warnings.catch_warnings():  # tifffile's default for 3 planes: RGB, planar
        warnings.simplefilter("ignore", DeprecationWarning)
        tifffile.imwrite(tmp_path / "a_masks.tif", masks, tile=(32, 32))
    tifffile.imwrite(tmp_path / "b.tif", rgb[..., 0], rowsperstrip=8)  # strips of 8 rows
    tifffile.imwrite(tmp_path / "b_masks.tif", np.moveaxis(masks, 0, -1), tile=(32, 32),
                     photometric="minisblack", planarconfig="contig")  # fmt: skip
    for name, channel_axis in (("a", 2), ("b", None)):
        opened = open_big(tmp_path / f"{name}.tif")
        assert opened.channel_axis == channel_axis and opened.shape == (128, 96)
        assert opened.class_names == ["class_1", "class_2", "class_3"]
        assert len(opened.levels) == 1 and len(opened.mask_levels[0]) == 1
        np.testing.assert_array_equal(big_tally(opened), tally(masks))
    assert open_big(tmp_path / "b.tif").image.chunks == (8, 96)


def test_bad_tiffs_are_refused_on_one_line(pair, tmp_path, capsys, monkeypatch, big_route):
    _, sample = pair
    cases = {}
    other = tmp_path / "other"
    other.mkdir()
    write_pyramid(other / "shape.tif", sample.image)
    write_pyramid(other / "shape_masks.tif", sample.masks[:, :128, :128])
    cases[other / "shape.tif"] = (
        "masks of shape (2, 128, 128), but the image shape.tif is (256, 256)"
    )
    tifffile.imwrite(other / "strip.tif", sample.image)  # one strip: the whole image
    write_pyramid(other / "strip_masks.tif", sample.masks)
    cases[other / "strip.tif"] = "stored in strips of 256×256 pixels, which would be read whole"
    write_pyramid(other / "lone.tif", sample.image)
    cases[other / "lone.tif"] = "no masks file lone_masks.tif next to it"
    write_pyramid(other / "names.tif", sample.image)
    write_pyramid(other / "names_masks.tif", sample.masks, metadata={"class_names": ["a"]})
    cases[other / "names_masks.tif"] = "1 class names (a) for 2 masks"
    write_pyramid(other / "jpeg.tif", sample.image)
    with tifffile.TiffFile(other / "jpeg.tif", mode="r+b") as tif:  # as if JPEG-compressed
        tif.pages[0].tags["Compression"].overwrite(7)
    write_pyramid(other / "jpeg_masks.tif", sample.masks)
    cases[other / "jpeg.tif"] = "compressed with JPEG, which needs the imagecodecs package"
    monkeypatch.setattr(big_tiff, "CHUNK_LIMIT", 64 * 64)
    for bad, message in cases.items():
        with pytest.raises(SegviewerError, match=re.escape(message)):
            open_big(bad)
        assert is_big(bad)
        code, _, err = cli(capsys, "stats", bad)
        assert code == 2 and err.count("\n") == 1 and message in err and str(bad.parent) in err
    with pytest.raises(SegviewerError, match="no such file"):
        open_big(other / "gone.tif")


def test_the_threshold_decides_the_route(pair, monkeypatch):
    from segviewer._napari import reader as napari_reader
    from segviewer.core.io.readers import open_dataset

    path, sample = pair
    masks_path = path.with_name("slide_masks.tif")
    assert not is_big(path) and not is_big(masks_path)  # 256² is an ordinary TIFF pair
    np.testing.assert_array_equal(open_dataset(path).sample(0).masks, sample.masks)
    assert napari_reader.napari_get_reader(str(path)) is napari_reader.read_dataset
    monkeypatch.setattr(ome_zarr, "MAX_IN_MEMORY", SIZE * SIZE - 1)
    assert is_big(path) and is_big(masks_path)
    read = napari_reader.napari_get_reader(str(path))
    assert read is napari_reader.read_big
    layers = read(str(path))
    assert [(kw["name"], kind) for _, kw, kind in layers] == [
        ("slide.tif", "image"), ("background", "labels"), ("cell", "labels"),
        ("spot", "labels"), ("conflicts", "labels"),
    ]  # fmt: skip
    assert all(kw["multiscale"] and len(data) == LEVELS for data, kw, _ in layers)
    claims = sample.masks.sum(axis=0)
    np.testing.assert_array_equal(np.asarray(layers[4][0][1]), claims[::2, ::2] > 1)


def test_stats_counts_a_big_tiff_once_until_a_file_changes(pair, capsys, monkeypatch, big_route):
    path, sample = pair
    counted = []
    monkeypatch.setattr(big_counts, "big_tally", lambda s: counted.append(s) or big_tally(s))
    runs = [json.loads(cli(capsys, "stats", path, "--json")[1]) for _ in range(2)]
    assert len(counted) == 1 and runs[0] == runs[1]
    assert runs[0]["counts"] == tally(sample.masks)[:-1].tolist()
    assert runs[0]["conflicts"] == int(tally(sample.masks)[-1])
    cli(capsys, "stats", path, "--no-index")
    assert len(counted) == 2
    masks = sample.masks.copy()
    masks[1, :10, :10] = 1
    write_pyramid(path.with_name("slide_masks.tif"), masks,
                  metadata={"class_names": sample.class_names})  # fmt: skip
    again = json.loads(cli(capsys, "stats", path, "--json")[1])
    assert len(counted) == 3 and again["counts"] == tally(masks)[:-1].tolist()


def test_stats_counts_an_ome_zarr_store_again_after_a_chunk_is_rewritten(
    tmp_path, capsys, monkeypatch
):
    store = tmp_path / "big.zarr"
    ome_zarr.write_big_sample(store, 256, tile=128, chunk=64)
    counted = []
    monkeypatch.setattr(big_counts, "big_tally", lambda s: counted.append(s) or big_tally(s))
    first, second = (json.loads(cli(capsys, "stats", store, "--json")[1]) for _ in range(2))
    assert len(counted) == 1 and first == second
    mask = zarr.open_group(str(store / "labels" / "spot"), mode="r+")["0"]
    mask[0:64, 0:64] = 1 - mask[0:64, 0:64]  # one chunk file rewritten
    third = json.loads(cli(capsys, "stats", store, "--json")[1])
    assert len(counted) == 2 and third["counts"] == big_tally(open_big(store))[:-1].tolist()
    assert third["counts"] != first["counts"]


def test_predict_streams_a_big_tiff(pair, tmp_path):
    from segviewer.core.model.big import predict_big
    from segviewer.core.model.inference import predict_labels
    from segviewer.core.model.registry import open_model

    path, sample = pair
    model = open_model("bundled")
    predict_big(open_big(path), model, tmp_path / "pred.zarr")
    labels = zarr.open_group(str(tmp_path / "pred.zarr"), mode="r")["0"]
    assert labels.chunks == (TILE, TILE)
    np.testing.assert_array_equal(labels[:], predict_labels(model, sample.image, None))


def test_the_cli_predicts_a_big_tiff_into_ome_zarr(pair, tmp_path, capsys, big_route):
    path, _ = pair
    code, _, err = cli(capsys, "predict", path, "--out", tmp_path / "pred.zarr")
    assert code == 0, err
    assert zarr.open_group(str(tmp_path / "pred.zarr"), mode="r")["0"].shape == (SIZE, SIZE)
