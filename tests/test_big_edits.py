"""Editing a big sample at full resolution: a tile is edited in the Workspace (strokes,
undo) and saved back into the OME-Zarr store, only the chunks that changed, every pyramid
level kept consistent, and a crash or an unwritable store at any point of the save leaves
either the whole save or none of it."""

import os
from pathlib import Path

import numpy as np
import pytest

from segviewer.core.data.sample import Dataset
from segviewer.core.data.synthetic import make_sample
from segviewer.core.errors import SegviewerError
from segviewer.core.io import chunk_journal
from segviewer.core.io.big_edits import MAX_TILE_PIXELS, read_tile, write_tile
from segviewer.core.io.chunk_journal import JOURNAL, ChunkSaveError, recover
from segviewer.core.io.ome_zarr import open_big, write_big_sample
from segviewer.core.workspace import Workspace

SIZE, BOX = 256, (slice(70, 150), slice(40, 130))


@pytest.fixture(params=["0.5", "0.4"])
def store(request, tmp_path):
    out = tmp_path / f"big{request.param}.zarr"
    write_big_sample(out, SIZE, seed=0, tile=128, chunk=64, version=request.param)
    return out


def chunk_files(store: Path) -> dict[str, bytes]:
    """Every chunk file of the label images, by path, with its bytes."""
    found = {}
    for folder, _, names in os.walk(store / "labels"):
        for name in names:
            if name not in (".zarray", ".zattrs", ".zgroup", "zarr.json"):
                path = Path(folder, name)
                found[str(path.relative_to(store))] = path.read_bytes()
    return found


def pyramid(store: Path) -> list[list[np.ndarray]]:
    big = open_big(store)
    return [[np.asarray(level[:]) for level in levels] for levels in big.mask_levels]


def assert_consistent(levels: list[np.ndarray]) -> None:
    """Level k holds every 2**k-th pixel of level 0 (as the writer made it)."""
    for k, level in enumerate(levels):
        step = 1 << k
        expected = levels[0][::step, ::step][: level.shape[0], : level.shape[1]]
        np.testing.assert_array_equal(level, expected)


def edited_tile(store: Path):
    """A workspace with the tile ``BOX`` open and a stroke of 'spot' in it, plus the
    expected level-0 masks of the whole sample after saving."""
    big = open_big(store)
    expected = np.stack([np.asarray(m[:]) for m in big.masks])
    ws = Workspace()
    ws.open_tile(big, BOX)
    ws.policy.conflicts = "allow"
    ws.paint("spot", (slice(10, 30), slice(5, 60)))  # relative to the tile
    expected[1, 80:100, 45:100] = 1
    return ws, expected


def test_a_tile_reads_the_box_of_level_0(store):
    big = open_big(store)
    tile = read_tile(big, BOX)
    np.testing.assert_array_equal(tile.image, np.asarray(big.image[BOX]))
    for got, mask in zip(tile.masks, big.masks, strict=True):
        np.testing.assert_array_equal(got, np.asarray(mask[BOX]))
    assert tile.class_names == big.class_names and tile.spatial_shape == (80, 90)


def test_saving_a_tile_rewrites_only_the_chunks_that_changed(store):
    before = chunk_files(store)
    ws, expected = edited_tile(store)
    assert ws.unsaved() == [0]
    written = ws.save_tile()
    after = chunk_files(store)
    changed = {p for p in after if before.get(p) != after[p]} | (before.keys() - after.keys())
    assert written == len(changed) > 0
    assert all("/spot/" in p.replace("\\", "/") for p in changed)  # cell was not touched
    # level 0: the stroke covers rows 80-99, cols 45-99: chunks (1, 0) and (1, 1) of 64²
    level0 = {p for p in changed if "/spot/0/" in p.replace("\\", "/")}
    assert len(level0) == 2
    levels = pyramid(store)
    np.testing.assert_array_equal(levels[0][0], expected[0])
    np.testing.assert_array_equal(levels[1][0], expected[1])
    for class_levels in levels:
        assert_consistent(class_levels)
    assert ws.unsaved() == [] and not (store / JOURNAL).exists()


def test_undo_then_save_puts_the_store_back(store):
    original = pyramid(store)
    ws, _ = edited_tile(store)
    ws.save_tile()
    ws.undo()
    assert ws.unsaved() == [0]
    ws.save_tile()
    for got, want in zip(pyramid(store), original, strict=True):
        for a, b in zip(got, want, strict=True):
            np.testing.assert_array_equal(a, b)


def test_a_chunk_erased_to_zero_is_deleted_and_reads_as_zero(store):
    big = open_big(store)
    ws = Workspace()
    ws.open_tile(big, (slice(0, 64), slice(0, 64)))
    ws.paint("cell", (slice(0, 64), slice(0, 64)), 0)
    ws.paint("spot", (slice(0, 64), slice(0, 64)), 0)
    ws.save_tile()
    again = open_big(store)
    assert not np.asarray(again.masks[0][:64, :64]).any()
    assert not np.asarray(again.masks[1][:64, :64]).any()
    for class_levels in pyramid(store):
        assert_consistent(class_levels)


def fail_after_one_move(monkeypatch) -> None:
    """The store refuses every chunk rename after the first (a disk turning read-only)."""
    real_move, calls = chunk_journal._move, []

    def move(source, target):
        if calls:
            raise PermissionError(13, "Permission denied")
        calls.append(target)
        real_move(source, target)

    monkeypatch.setattr(chunk_journal, "_move", move)


class Crash(BaseException):
    """The process dying: nothing after it runs, no handler catches it."""


def test_a_crash_before_the_commit_leaves_the_store_unchanged(store, monkeypatch):
    before = chunk_files(store)
    ws, _ = edited_tile(store)

    def crash(*args):
        raise Crash

    monkeypatch.setattr(chunk_journal, "_commit", crash)
    with pytest.raises(Crash):
        ws.save_tile()
    assert chunk_files(store) == before and (store / JOURNAL).exists()
    monkeypatch.undo()
    read_tile(open_big(store), BOX)  # reading for editing drops the uncommitted journal
    assert chunk_files(store) == before and not (store / JOURNAL).exists()


@pytest.mark.parametrize("after", [0, 1, 2])
def test_a_crash_while_applying_is_finished_on_the_next_open(store, monkeypatch, after):
    ws, expected = edited_tile(store)
    real_move, calls = chunk_journal._move, []

    def move(source, target):
        if len(calls) == after:
            raise Crash
        calls.append(target)
        real_move(source, target)

    monkeypatch.setattr(chunk_journal, "_move", move)
    with pytest.raises(Crash):
        ws.save_tile()
    monkeypatch.undo()
    assert (store / JOURNAL / "manifest.json").is_file()
    assert recover(store) > 0 and not (store / JOURNAL).exists()
    levels = pyramid(store)
    np.testing.assert_array_equal(levels[1][0], expected[1])
    for class_levels in levels:
        assert_consistent(class_levels)


def test_an_unwritable_store_saves_nothing_and_keeps_the_edits(store, monkeypatch):
    before = chunk_files(store)
    ws, expected = edited_tile(store)
    real_mkdir = Path.mkdir

    def refuse(self, *args, **kwargs):
        if JOURNAL in str(self):
            raise PermissionError(13, "Permission denied")
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", refuse)
    with pytest.raises(ChunkSaveError, match="none of the .* edited chunks was saved") as error:
        ws.save_tile()
    assert len(str(error.value).splitlines()) == 1 and error.value.unsaved
    assert chunk_files(store) == before
    assert ws.unsaved() == [0]  # still marked, still in memory
    np.testing.assert_array_equal(ws.sample.masks[1][10:30, 5:60], 1)
    monkeypatch.undo()
    ws.save_tile()
    np.testing.assert_array_equal(pyramid(store)[1][0], expected[1])


def test_a_store_that_fails_mid_save_names_the_chunks_not_written(store, monkeypatch):
    ws, expected = edited_tile(store)
    fail_after_one_move(monkeypatch)
    with pytest.raises(ChunkSaveError, match=r"\d+ of \d+ edited chunks were not written") as error:
        ws.save_tile()
    assert len(error.value.unsaved) >= 1 and "spot" in error.value.unsaved[0]
    assert ws.unsaved() == [0]
    monkeypatch.undo()
    read_tile(open_big(store), BOX)  # the next open finishes the save from the journal
    np.testing.assert_array_equal(pyramid(store)[1][0], expected[1])


def test_bad_tiles_are_refused_on_one_line(store, tmp_path):
    big = open_big(store)
    for box, message in [
        ((slice(300, 400), slice(0, 10)), "holds no pixel"),
        ((slice(0, 10),), "a box of 1 axes"),
    ]:
        with pytest.raises(SegviewerError, match=message):
            read_tile(big, box)
    with pytest.raises(SegviewerError, match="tile masks of shape"):
        write_tile(big, BOX, np.zeros((2, 3, 3), np.uint8), np.zeros((2, 3, 3), np.uint8))
    monkey_big = open_big(store)
    monkey_big.version = "tiff"
    with pytest.raises(SegviewerError, match="read-only"):
        read_tile(monkey_big, BOX)  # refused before any work is done on it
    uneven = open_big(store)
    uneven.mask_levels[1][1] = uneven.mask_levels[1][0]  # a level not halved
    with pytest.raises(SegviewerError, match="level 1 of class 'spot'"):
        read_tile(uneven, BOX)
    assert MAX_TILE_PIXELS >= 4096**2
    ws = Workspace()
    ws.open_tile(big, BOX)
    ws.sample.ignore = np.zeros(ws.sample.spatial_shape, np.uint8)
    ws.sample.ignore[:2, :2] = 1
    with pytest.raises(SegviewerError, match="'ignore' pixels"):
        ws.save_tile()
    ws.add(Dataset.from_samples("memory", [make_sample(np.random.default_rng(1), (32, 32), "m")]))
    with pytest.raises(SegviewerError, match="not a tile"):
        ws.save_tile()


def test_a_leftover_journal_is_applied_before_another_tile_is_merged(store, monkeypatch):
    ws, expected = edited_tile(store)
    fail_after_one_move(monkeypatch)
    with pytest.raises(ChunkSaveError):
        ws.save_tile()  # part of the save is left in the journal
    monkeypatch.undo()
    other = Workspace()  # another tile over the same chunks, saved before any reopen
    other.open_tile(open_big(store), (slice(64, 128), slice(100, 128)))
    other.policy.conflicts = "allow"
    other.paint("cell", (slice(0, 4), slice(0, 4)))
    other.save_tile()
    expected[0, 64:68, 100:104] = 1
    levels = pyramid(store)
    np.testing.assert_array_equal(levels[1][0], expected[1])  # the first save, finished
    np.testing.assert_array_equal(levels[0][0], expected[0])
    for class_levels in levels:
        assert_consistent(class_levels)


def test_a_tile_writes_only_what_it_changed_so_overlapping_tiles_keep_each_others_edits(
    store,
):
    ws, expected = edited_tile(store)  # tile A: 'spot' at rows 80-99, cols 45-99; not saved
    big = open_big(store)
    other = Workspace()
    other.open_tile(big, (slice(60, 120), slice(40, 140)))  # tile B overlaps A, read before A
    other.policy.conflicts = "allow"
    other.paint("cell", (slice(30, 35), slice(50, 60)))  # rows 90-94, cols 90-99: in A's box
    ws.save_tile()
    other.save_tile()  # B's copy of A's box is stale: only B's own stroke may be written
    expected[0, 90:95, 90:100] = 1
    levels = pyramid(store)
    np.testing.assert_array_equal(levels[0][0], expected[0])
    np.testing.assert_array_equal(levels[1][0], expected[1])


def test_a_tile_saved_as_a_sample_of_its_own(store, tmp_path):
    ws, _ = edited_tile(store)
    ws.save(tmp_path / "out", format="masks")  # the Save page: a new OME-Zarr sample
    saved = Workspace.open(tmp_path / "out")
    np.testing.assert_array_equal(saved.sample.masks, ws.sample.masks)
