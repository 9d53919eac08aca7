"""A big sample edited at full resolution from the panel: the area in view opens as a tile
drawn in place, strokes and undo work on it, and saving writes into the store (napari
under Xvfb)."""

import numpy as np
import zarr
from qtpy.QtWidgets import QApplication
from test_gui import camera, panel  # noqa: F401 (the fixture)

from segviewer._napari import big_tile_section
from segviewer._napari.big_tile_section import TILE_DEPTH, WHOLE, visible_box
from segviewer.core.io import big_edits
from segviewer.core.io.ome_zarr import open_big, write_big_sample


def test_the_area_in_view_is_edited_in_place_and_saved(panel, tmp_path, monkeypatch):  # noqa: F811
    viewer, widget = panel
    store = tmp_path / "big.zarr"
    write_big_sample(store, 512, seed=0, tile=128, chunk=64)
    section = widget.editing.big_tile
    assert section.isHidden()
    viewer.open(str(store), plugin="segviewer")
    assert not section.isHidden() and not section.save_button.isEnabled()
    image = viewer.layers[store.name]
    errors = []
    monkeypatch.setattr(big_tile_section, "show_error", errors.append)
    monkeypatch.setattr(big_edits, "MAX_TILE_PIXELS", 1000)
    section.edit_view()  # the whole sample in view: too big for this limit
    assert len(errors) == 1 and "zoom in further" in errors[0]
    assert viewer.layers["spot"].visible and widget.session.sample is None
    monkeypatch.undo()
    camera(viewer).center = (120, 300)
    camera(viewer).zoom = 8
    for _ in range(5):
        QApplication.processEvents()
    box = visible_box(viewer, image)
    assert all(s.start <= c < s.stop for s, c in zip(box, (120, 300), strict=True))
    assert all(s.stop - s.start < 256 for s in box)

    section.edit_view()
    session = widget.session
    tile = session.sample
    opened = tile.source.extra["box"]
    assert tile.spatial_shape == tuple(s.stop - s.start for s in opened)
    big = open_big(store)
    np.testing.assert_array_equal(tile.masks[1], np.asarray(big.masks[1][opened]))
    spot = viewer.layers["spot"]  # the tile's own layer; the whole sample's stepped aside
    assert viewer.layers["spot" + WHOLE].visible is False
    np.testing.assert_array_equal(spot.translate, [s.start for s in opened])

    session.workspace.policy.conflicts = "allow"
    session.workspace.paint("spot", (slice(2, 12), slice(3, 9)))
    assert section.save_button.isEnabled()
    section.save()
    saved = np.asarray(open_big(store).masks[1][opened])
    np.testing.assert_array_equal(saved[2:12, 3:9], 1)
    np.testing.assert_array_equal(saved, session.sample.masks[1])
    assert session.workspace.unsaved() == [] and not section.saving
    session.close(session.dataset)  # the tile closed: the whole sample's layers come back
    assert viewer.layers["spot"].visible and "spot" + WHOLE not in viewer.layers
    assert not section.save_button.isEnabled()


def test_a_slab_of_a_big_volume_is_edited_and_saved_at_every_level(panel, tmp_path, monkeypatch):  # noqa: F811
    from segviewer.core.data.synthetic import CLASS_NAMES, make_sample
    from segviewer.core.io.ome_zarr import BigWriter

    viewer, widget = panel
    store = tmp_path / "volume.zarr"
    volume = make_sample(np.random.default_rng(0), (40, 128, 128), "v")
    writer = BigWriter(store, (40, 128, 128), CLASS_NAMES, 16, 2, "0.5")
    writer.write((0, 0, 0), volume.image.astype(np.uint16), volume.masks)
    viewer.open(str(store), plugin="segviewer")
    section = widget.editing.big_tile
    assert not section.isHidden()
    viewer.dims.set_point(0, 30)  # the slice shown
    camera(viewer).center = (60, 70)
    camera(viewer).zoom = 8
    for _ in range(5):
        QApplication.processEvents()
    section.edit_view()
    session = widget.session
    depth, *plane = session.sample.source.extra["box"]
    assert depth.start <= 30 < depth.stop and depth.stop - depth.start == TILE_DEPTH
    assert all(
        s.start <= c < s.stop and s.stop - s.start < 128
        for s, c in zip(plane, (60, 70), strict=True)
    )
    spot = viewer.layers["spot"]
    np.testing.assert_array_equal(spot.translate, [depth.start, plane[0].start, plane[1].start])
    z = 30 - depth.start  # the slice shown, in the tile
    session.workspace.policy.conflicts = "allow"
    session.workspace.paint("spot", (slice(z, z + 2), slice(2, 10), slice(4, 12)))
    section.save()
    big = open_big(store)
    box = (depth, *plane)
    np.testing.assert_array_equal(np.asarray(big.masks[1][box]), session.sample.masks[1])
    saved = np.asarray(big.masks[1][box])[z : z + 2, 2:10, 4:12]
    assert saved.all()
    level1 = zarr.open_array(str(store / "labels" / "spot" / "1"))  # every other voxel
    np.testing.assert_array_equal(np.asarray(level1), np.asarray(big.masks[1])[::2, ::2, ::2])
    errors = []
    monkeypatch.setattr(big_tile_section, "show_error", errors.append)
    session.close(session.dataset)
    viewer.dims.order = (0, 2, 1)  # transposed: the area in view is not a box of the store
    section.edit_view()
    assert len(errors) == 1 and "not transposed" in errors[0]
