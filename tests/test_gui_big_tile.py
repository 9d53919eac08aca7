"""A big sample edited at full resolution from the panel: the area in view opens as a tile
drawn in place, strokes and undo work on it, and saving writes into the store (napari
under Xvfb)."""

import numpy as np
from qtpy.QtWidgets import QApplication
from test_gui import camera, panel  # noqa: F401 (the fixture)

from segviewer._napari import big_tile_section
from segviewer._napari.big_tile_section import WHOLE, visible_box
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
