"""The SegViewer panel in a real napari viewer (run under Xvfb)."""

import numpy as np
import pytest
from conftest import write_npz
from napari.utils.notifications import notification_manager
from qtpy.QtCore import Qt

from segviewer.core.colors import class_color


@pytest.fixture
def panel(make_napari_viewer, qtbot):
    """A viewer with the SegViewer panel docked through the manifest, as a user does."""
    viewer = make_napari_viewer()
    _, widget = viewer.window.add_plugin_dock_widget("segviewer", "SegViewer")
    yield viewer, widget
    for worker in list(widget._workers.values()):
        worker.quit()
    qtbot.waitUntil(lambda: not widget._workers, timeout=10000)


def camera(viewer):
    return getattr(viewer, "scene", viewer).camera


def names(viewer):
    return [layer.name for layer in viewer.layers]


def press_undo(viewer, qtbot, redo=False):
    """Ctrl+Z (Ctrl+Shift+Z) on the canvas, as a user presses it."""
    canvas = viewer.window._qt_viewer.canvas.native
    modifiers = Qt.ControlModifier | (Qt.ShiftModifier if redo else Qt.NoModifier)
    qtbot.keyClick(canvas, Qt.Key_Z, modifiers)


def wait_for_summaries(qtbot, widget):
    qtbot.waitUntil(lambda: not widget._workers, timeout=20000)


def test_main_panel_is_the_first_widget_in_the_manifest():
    from npe2 import PluginManifest

    manifest = PluginManifest.from_distribution("segviewer")  # via the napari.manifest entry point
    assert manifest.contributions.widgets[0].display_name == "SegViewer"


def test_file_open_of_a_dataset_folder_lists_samples_and_shows_layers(panel, qtbot, dataset_folder):
    viewer, widget = panel
    viewer.open(str(dataset_folder), plugin="segviewer")  # File > Open, through the manifest
    assert names(viewer) == ["sample_000", "background", "cell", "spot", "conflicts"]
    wait_for_summaries(qtbot, widget)
    table = widget.sample_list
    assert table.rowCount() == 4
    assert [table.text(r, 0) for r in range(4)] == [
        "sample_000",
        "sample_001",
        "sample_002",
        "volume_000",
    ]
    sample = widget.session.sample
    for c, layer in enumerate([viewer.layers["cell"], viewer.layers["spot"]]):
        assert layer.data.dtype == np.uint8 and np.shares_memory(layer.data, sample.masks)
        rgb = [int(class_color(c)[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        assert tuple(layer.colormap.map(np.array([1]))[0]) == pytest.approx((*rgb, 1.0), abs=1e-3)
    present = table.text(3, 2)
    assert present == "cell, spot" and table.text(3, 1) == "32×128×128"
    widget.next_button.click()  # then the panel's own actions on what File > Open brought in
    assert names(viewer) == ["sample_001", "background", "cell", "spot", "conflicts"]


def test_next_previous_and_click_switch_samples_and_3d_works(panel, qtbot, dataset_folder):
    viewer, widget = panel
    widget.open_paths(str(dataset_folder))
    widget.next_button.click()
    assert names(viewer) == ["sample_001", "background", "cell", "spot", "conflicts"]
    assert widget.position_label.text() == "2 / 4"
    widget.previous_button.click()
    widget.previous_button.click()  # wraps around to the last sample, a volume
    assert names(viewer)[0] == "volume_000" and viewer.dims.ndim == 3
    widget.sample_list.click(2)
    assert names(viewer)[0] == "sample_002" and viewer.dims.ndim == 2


def test_edits_survive_switching_samples_and_counts_follow(panel, qtbot, dataset_folder):
    viewer, widget = panel
    widget.open_paths(str(dataset_folder))
    cell = viewer.layers["cell"]
    before = int(cell.data.sum())
    region = (slice(0, 20), slice(0, 20))
    added = int((cell.data[region] == 0).sum())
    cell.data_setitem(np.nonzero(np.ones((20, 20), bool)), 1)  # one undoable edit, like a fill
    qtbot.waitUntil(lambda: widget.session.dataset.is_modified(0), timeout=3000)
    qtbot.waitUntil(
        lambda: widget.counts_table.item(0, 1).text() == f"{before + added:,}", timeout=3000
    )
    assert widget.sample_list.text(0, 0) == "● sample_000"

    for _ in range(4):  # visit every sample (the read cache holds 3) and come back
        widget.next_button.click()
    assert names(viewer)[0] == "sample_000"
    cell = viewer.layers["cell"]
    assert int(cell.data.sum()) == before + added and cell.data[region].all()
    viewer.layers.selection.active = cell
    press_undo(viewer, qtbot)
    qtbot.waitUntil(lambda: widget.counts_table.item(0, 1).text() == f"{before:,}", timeout=3000)
    press_undo(viewer, qtbot, redo=True)
    assert cell.data[region].all()


def test_sample_data_through_the_manifest_renders_class_colours(make_napari_viewer, qtbot):
    viewer = make_napari_viewer(show=True)  # a hidden window draws nothing
    _, widget = viewer.window.add_plugin_dock_widget("segviewer", "SegViewer")
    viewer.open_sample("segviewer", "cells")
    assert widget.sample_list.rowCount() == 9
    assert widget.dataset_combo.currentText() == "segviewer sample (9 samples)"
    viewer.layers["spot"].visible = False
    shot = viewer.screenshot(canvas_only=True, flash=False)[..., :3].astype(int)
    orange = np.array([int(class_color(0)[i : i + 2], 16) for i in (1, 3, 5)])
    # cell pixels are drawn as a blend of the class colour over the image: red > green > blue
    tinted = (shot[..., 0] > shot[..., 1] + 20) & (shot[..., 1] > shot[..., 2] + 20)
    assert tinted.mean() > 0.05, "cell layer not visible in the canvas"
    assert orange[0] > orange[1] > orange[2]
    wait_for_summaries(qtbot, widget)


def test_bad_input_in_the_panel_is_a_notification_and_napari_keeps_working(
    panel, tmp_path, sample2d
):
    viewer, widget = panel
    good = write_npz(tmp_path / "good.npz", sample2d)
    assert widget.open_paths(str(good))
    bad = write_npz(tmp_path / "bad.npz", sample2d, masks=sample2d.masks * np.uint8(7))
    notification_manager.records.clear()
    assert not widget.open_paths(str(bad))
    messages = [str(n.message) for n in notification_manager.records]
    assert any("bad.npz: mask values must be 0/1 or 0/255" in m for m in messages)
    assert names(viewer) == ["good", "background", "cell", "spot", "conflicts"]  # nothing changed
    empty = tmp_path / "empty"
    empty.mkdir()
    assert not widget.open_paths(str(empty))
    assert widget.open_paths(str(good))  # still works


def test_two_datasets_keep_their_edits(panel, qtbot, dataset_folder, tmp_path, sample2d):
    viewer, widget = panel
    widget.open_paths(str(dataset_folder))
    viewer.layers["spot"].data_setitem((np.array([0]), np.array([0])), 1)
    widget.open_paths(str(write_npz(tmp_path / "x.npz", sample2d)))
    assert widget.dataset_combo.count() == 2 and names(viewer) == [
        "x",
        "background",
        "cell",
        "spot",
        "conflicts",
    ]
    widget.dataset_combo.activated.emit(0)
    assert names(viewer)[0] == "sample_000" and viewer.layers["spot"].data[0, 0] == 1
    wait_for_summaries(qtbot, widget)  # opening the second did not stop the first's summaries
    table = widget.sample_list
    assert all(table.text(row, 1) for row in range(table.rowCount()))


def test_sample_data_button_opens_the_manifest_sample(panel, qtbot):
    viewer, widget = panel
    widget.open_sample_data()
    assert widget.sample_list.rowCount() == 9 and names(viewer)[0] == "sample_000"
    wait_for_summaries(qtbot, widget)


def test_background_and_conflicts_follow_strokes_and_undo(panel, qtbot, dataset_folder):
    viewer, widget = panel
    widget.open_paths(str(dataset_folder))
    cell, spot = viewer.layers["cell"], viewer.layers["spot"]
    background, conflicts = viewer.layers["background"], viewer.layers["conflicts"]
    masks = widget.session.sample.masks

    def expected():
        claims = masks[0].astype(int) + 2 * masks[1]
        return (claims == 0).astype(np.uint8), np.where(claims == 3, 3, 0)

    y, x = np.argwhere(masks[0])[len(np.argwhere(masks[0])) // 2]  # a cell pixel
    square = np.zeros(masks[0].shape, bool)
    square[max(0, y - 15) : y + 15, max(0, x - 15) : x + 15] = True
    spot.data_setitem(np.nonzero(square), 1)  # spot over cells and background
    cell.brush_size = 9
    cell.paint((100, 100), 0)  # erase cell around (100, 100)
    qtbot.waitUntil(lambda: conflicts.data[y, x] == 3, timeout=3000)
    want_background, want_conflicts = expected()
    np.testing.assert_array_equal(background.data, want_background)
    np.testing.assert_array_equal(conflicts.data, want_conflicts)
    assert conflicts.data[y, x] == 3
    assert np.shares_memory(background.data, widget.session.workspace.derived.background)
    assert set(background.metadata["segviewer"]) == {
        "dataset",
        "index",
        "role",
        "class",
    }  # ids only

    viewer.layers.selection.active = spot
    press_undo(viewer, qtbot)  # undoes the cell stroke
    press_undo(viewer, qtbot)  # and the spot square: back to the data as read
    assert not conflicts.data[max(0, y - 15) : y + 15, max(0, x - 15) : x + 15].all()
    qtbot.waitUntil(lambda: np.array_equal(conflicts.data, expected()[1]), timeout=3000)
    np.testing.assert_array_equal(background.data, expected()[0])


def test_resolve_a_sample_and_the_dataset_from_the_panel_with_undo(panel, qtbot):
    viewer, widget = panel
    viewer.open_sample("segviewer", "cells")
    session, resolving = widget.session, widget.resolving
    widget.show_panel(resolving)
    masks = session.sample.masks
    before = masks.copy()
    conflicts = int((masks.sum(axis=0) > 1).sum())
    resolving.rule_combo.setCurrentText("priority")
    resolving.refresh()
    assert resolving.preview.text() == (
        f"This sample: {conflicts:,} conflict px → cell +{conflicts:,}"
    )
    resolving.apply_button.click()
    assert (masks.sum(axis=0) <= 1).all() and not viewer.layers["conflicts"].data.any()
    np.testing.assert_array_equal(masks[0], before[0])  # cell, first in priority, kept all
    assert session.dataset.is_modified(0)
    qtbot.waitUntil(lambda: widget.counts_table.item(3, 1).text() == "0", timeout=3000)

    resolving.rule_combo.setCurrentText("ignore")
    resolving.scope_combo.setCurrentIndex(1)  # whole dataset
    resolving.apply_button.click()
    for index in range(len(session.dataset)):
        assert (session.dataset.sample(index).masks.sum(axis=0) <= 1).all()
    qtbot.waitUntil(lambda: widget.sample_list.text(8, 3) == "0", timeout=3000)
    assert widget.sample_list.text(8, 0) == "● volume_000"
    volume = session.dataset.sample(8)
    assert volume.ignore is not None and volume.ignore.any()

    widget.editing.undo_button.click()  # the dataset step, all samples together
    assert (session.dataset.sample(8).masks.sum(axis=0) > 1).any()
    assert not session.dataset.sample(8).ignore.any()
    widget.editing.undo_button.click()  # the sample step
    np.testing.assert_array_equal(masks, before)
    np.testing.assert_array_equal(viewer.layers["conflicts"].data > 0, before.sum(axis=0) > 1)
    widget.editing.redo_button.click()
    assert (masks.sum(axis=0) <= 1).all()
    wait_for_summaries(qtbot, widget)


def test_conflicts_tab_lists_regions_and_goes_to_them(panel, qtbot):
    viewer, widget = panel
    viewer.open_sample("segviewer", "cells")
    widget.show_panel(widget.conflicts)  # the tab refreshes when shown
    qtbot.waitUntil(lambda: widget.conflicts.table.rowCount() > 0, timeout=3000)
    regions = widget.conflicts.regions
    assert [r.size for r in regions] == sorted((r.size for r in regions), reverse=True)
    assert sum(r.size for r in regions) == int((widget.session.sample.masks.sum(axis=0) > 1).sum())
    assert widget.conflicts.table.item(0, 2).text() == "cell + spot"
    winners = widget.conflicts.winners.table  # the legend: colour, pixels, classes, winner
    assert [winners.item(0, c).text() for c in (0, 1, 2)] == ["■", "585", "cell + spot"]
    fit = camera(viewer).zoom
    widget.conflicts.table.cellClicked.emit(0, 0)
    assert camera(viewer).zoom > fit
    np.testing.assert_allclose(camera(viewer).center[-2:], regions[0].centre, atol=1e-6)
    widget.conflicts.next_button.click()
    np.testing.assert_allclose(camera(viewer).center[-2:], regions[1].centre, atol=1e-6)

    widget.show_sample(8)  # the volume: going to a region moves to its slice
    qtbot.waitUntil(
        lambda: (
            widget.conflicts.regions
            and widget.conflicts.regions[0].centre[0] > 0
            and len(widget.conflicts.regions[0].centre) == 3
        ),
        timeout=3000,
    )
    region = widget.conflicts.regions[0]
    widget.conflicts.go_to(0)
    assert viewer.dims.point[0] == pytest.approx(round(region.centre[0]), abs=1)
    wait_for_summaries(qtbot, widget)


def test_save_tab_refuses_conflicts_then_saves_what_reads_back(panel, qtbot, tmp_path):
    from segviewer.core.io.readers import open_dataset

    viewer, widget = panel
    viewer.open_sample("segviewer", "cells")
    saving = widget.saving
    notification_manager.records.clear()
    assert saving.save_to(tmp_path / "refused")  # runs in a worker, which refuses
    qtbot.waitUntil(lambda: saving.worker is None, timeout=10000)
    assert any("conflict pixels remain" in str(n.message) for n in notification_manager.records)
    assert not (tmp_path / "refused").exists()

    widget.resolving.scope_combo.setCurrentIndex(1)
    widget.resolving.apply_button.click()  # priority rule on the whole dataset
    workspace = widget.session.workspace
    assert workspace.unsaved() == list(range(9))
    qtbot.waitUntil(lambda: widget.sample_list.text(0, 0).startswith("●"))
    for fmt, name in [("onehot", "onehot"), ("index", "index")]:
        saving.format_combo.setCurrentIndex(["onehot", "index", "masks"].index(fmt))
        assert saving.save_to(tmp_path / name)
        qtbot.waitUntil(lambda: saving.worker is None, timeout=20000)
        assert workspace.unsaved() == []  # a successful save clears the ● marks
        qtbot.waitUntil(lambda: not widget.sample_list.text(0, 0).startswith("●"))
        back = open_dataset(tmp_path / name)
        assert len(back) == 9
        for index, got in enumerate(back):
            want = widget.session.dataset.sample(index)
            np.testing.assert_array_equal(got.masks, want.masks)
            np.testing.assert_array_equal(got.image, want.image)
    assert sorted(p.name for p in (tmp_path / "onehot" / "masks").iterdir()) == [
        "background",
        "cell",
        "spot",
    ]
    wait_for_summaries(qtbot, widget)


def test_save_tab_exports_for_nnunet_and_monai(panel, qtbot, tmp_path):
    import json

    viewer, widget = panel
    viewer.open_sample("segviewer", "cells")
    export = widget.saving.export
    notification_manager.records.clear()
    assert export.export_to(tmp_path / "raw")  # 2D and 3D samples: refused, one line
    qtbot.waitUntil(lambda: export.worker is None, timeout=20000)
    assert any("--dims 2 or --dims 3" in str(n.message) for n in notification_manager.records)
    export.dims_combo.setCurrentText("2D samples only")
    export.id_spin.setValue(42)
    export.name_edit.setText("cells")
    assert export.export_to(tmp_path / "raw")
    qtbot.waitUntil(lambda: export.worker is None, timeout=30000)
    description = json.loads((tmp_path / "raw" / "Dataset042_cells" / "dataset.json").read_text())
    assert description["numTraining"] == 8 and description["regions_class_order"] == [1, 2]
    export.framework_combo.setCurrentIndex(1)
    export.dims_combo.setCurrentText("3D samples only")
    assert not export.id_spin.isEnabled() and export.scheme_combo.isEnabled()
    assert export.export_to(tmp_path / "monai")
    qtbot.waitUntil(lambda: export.worker is None, timeout=30000)
    datalist = json.loads((tmp_path / "monai" / "dataset.json").read_text())
    assert datalist["training"] == [
        {
            "image": "imagesTr/volume_000_0000.nii.gz",
            "label": ["labelsTr/volume_000_cell.nii.gz", "labelsTr/volume_000_spot.nii.gz"],
        }
    ]
    assert any("Exported to" in str(n.message) for n in notification_manager.records)
    wait_for_summaries(qtbot, widget)


def test_napari_save_selected_layers_through_our_writer(panel, qtbot, tmp_path):
    from segviewer.core.io.readers import open_dataset

    viewer, widget = panel
    viewer.open_sample("segviewer", "cells")
    layers = [viewer.layers[n] for n in ("sample_000", "cell", "spot")]
    notification_manager.records.clear()
    viewer.layers.selection = set(layers)
    viewer.layers.save(str(tmp_path / "a.npz"), selected=True, plugin="segviewer")
    assert not (tmp_path / "a.npz").exists()
    assert any("conflict pixels remain" in str(n.message) for n in notification_manager.records)

    widget.resolving.apply_button.click()
    viewer.layers.selection = set(layers)
    written = viewer.layers.save(str(tmp_path / "a.npz"), selected=True, plugin="segviewer")
    assert written == [str(tmp_path / "a.npz")]
    back = open_dataset(tmp_path / "a.npz").sample(0)
    np.testing.assert_array_equal(back.masks, widget.session.sample.masks)
    assert back.class_names == ["cell", "spot"] and back.ignore is None
    assert [p.name for p in tmp_path.iterdir()] == ["a.npz"]  # no temp file left
    wait_for_summaries(qtbot, widget)


def test_edit_tab_policies_background_edits_and_a_read_only_conflicts_layer(panel, qtbot):
    viewer, widget = panel
    viewer.open_sample("segviewer", "cells")
    masks, edit = widget.session.sample.masks, widget.editing
    spot = viewer.layers["spot"]
    background, conflicts = viewer.layers["background"], viewer.layers["conflicts"]
    edit.overwrite_combo.setCurrentIndex(1)  # overwrite other classes
    y, x = np.argwhere(masks[0])[0]
    spot.brush_size = 7
    spot.paint((y, x), 1)
    qtbot.waitUntil(lambda: masks[1, y, x] == 1 and masks[0, y, x] == 0, timeout=3000)

    before = masks.copy()
    background.data_setitem((np.array([y]), np.array([x])), 1)  # paint background
    qtbot.waitUntil(lambda: not masks[:, y, x].any(), timeout=3000)
    assert background.data[y, x] == 1
    edit.fill_combo.setCurrentIndex(0)  # erased background joins "cell"
    background.data_setitem((np.array([y]), np.array([x])), 0)
    qtbot.waitUntil(lambda: masks[0, y, x] == 1, timeout=3000)
    assert masks[1, y, x] == 0 and background.data[y, x] == 0

    notification_manager.records.clear()
    snapshot = conflicts.data.copy()
    conflicts.data_setitem((np.array([0, 1]), np.array([0, 1])), 3)
    qtbot.waitUntil(lambda: np.array_equal(conflicts.data, snapshot), timeout=3000)
    assert any(
        "conflicts layer follows the class masks" in str(n.message)
        for n in notification_manager.records
    )
    edit.undo_button.click()
    edit.undo_button.click()
    np.testing.assert_array_equal(masks, before)
    wait_for_summaries(qtbot, widget)


def test_closing_napari_or_a_dataset_with_unsaved_edits_asks_first(panel, qtbot):
    from qtpy.QtGui import QCloseEvent
    from qtpy.QtWidgets import QApplication

    from segviewer._napari.layers import segviewer_meta

    viewer, widget = panel
    viewer.window.show()  # the panel guards its window once shown
    viewer.open_sample("segviewer", "cells")
    wait_for_summaries(qtbot, widget)
    widget.session.workspace.paint("cell", (slice(0, 20), slice(0, 20)))
    assert widget.session.workspace.unsaved() == [0]
    asked = []
    widget.guard.ask = lambda question: asked.append(question) or False
    event = QCloseEvent()
    window = viewer.window._qt_window  # the private napari window the guard watches
    QApplication.sendEvent(window, event)
    assert not event.isAccepted() and window.isVisible()
    assert "segviewer sample (1 sample)" in asked[0]
    assert not widget.close_dataset() and len(widget.session.datasets) == 1
    widget.guard.ask = lambda question: True
    assert widget.close_dataset()
    assert widget.session.datasets == [] and widget.sample_list.rowCount() == 0
    assert not [layer for layer in viewer.layers if segviewer_meta(layer)]
    assert widget.dataset_combo.count() == 0


def test_a_stroke_redraws_only_its_box_of_every_layer(
    make_napari_viewer, qtbot, dataset_folder, monkeypatch
):
    """After a stroke the texture of each layer shows the new masks inside the stroke's box,
    and no layer is redrawn whole (what makes a stroke cost the same at any image size)."""
    viewer = make_napari_viewer(show=True)
    _, widget = viewer.window.add_plugin_dock_widget("segviewer", "SegViewer")
    widget.open_paths(str(dataset_folder))
    wait_for_summaries(qtbot, widget)
    viewer.window._qt_viewer.canvas._scene_canvas.render()  # the textures exist
    layers = [viewer.layers[n] for n in ("background", "cell", "spot", "conflicts")]
    whole = []
    for layer in layers:
        monkeypatch.setattr(layer, "refresh", lambda *a, n=layer.name, **k: whole.append(n))
    where = (slice(10, 40), slice(20, 60))
    widget.session.workspace.paint("spot", where)
    qtbot.wait(50)
    assert whole == []
    for layer in layers:
        texture = layer.colormap._data_to_texture(np.asarray(layer.data[where]))
        np.testing.assert_array_equal(layer._slice.image.view[where], texture)
    assert viewer.layers["spot"].data[where].all()
    for worker in list(widget._workers.values()):
        worker.quit()
    qtbot.waitUntil(lambda: not widget._workers, timeout=10000)


def test_the_panel_freezes_the_objects_alive_at_start_until_it_goes(make_napari_viewer, qtbot):
    import gc

    viewer = make_napari_viewer()
    gc.unfreeze()
    viewer.window.add_plugin_dock_widget("segviewer", "SegViewer")
    assert gc.get_freeze_count() > 10_000  # napari's modules and widgets
    viewer.close()
    qtbot.waitUntil(lambda: gc.get_freeze_count() == 0, timeout=10000)


def test_removing_the_panels_dock_unfreezes(make_napari_viewer, qtbot):
    import gc

    viewer = make_napari_viewer()
    dock, widget = viewer.window.add_plugin_dock_widget("segviewer", "SegViewer")
    assert gc.get_freeze_count() > 10_000
    viewer.window.remove_dock_widget(dock)
    qtbot.waitUntil(lambda: gc.get_freeze_count() == 0, timeout=10000)
    assert widget.isHidden()
