"""What the views show on many classes, in comparison and in 3D (napari under Xvfb)."""

import numpy as np
import pytest
from conftest import write_npz
from test_gui import panel  # noqa: F401 (the fixture)

from segviewer._napari.winners_section import COLUMN
from segviewer.core.data.sample import Sample
from segviewer.core.editing.combinations import combination_name


def many_class_sample(classes: int = 6, side: int = 16) -> Sample:
    """Tiles of ``side`` px whose classes are the bits of the tile number: every subset of
    classes appears once, its area growing with its number."""
    codes = np.repeat(np.arange(1 << classes), np.arange(1, (1 << classes) + 1))
    width = 64
    rows = -(-codes.size // width)
    grid = np.zeros(rows * width, np.int64)
    grid[: codes.size] = codes
    grid = grid.reshape(rows, width).repeat(2, 0).repeat(2, 1)
    masks = np.stack([(grid >> c) & 1 for c in range(classes)]).astype(np.uint8)
    image = (np.arange(grid.size).reshape(grid.shape) % 251).astype(np.uint8)
    return Sample("tiles", image, masks, [f"class{c}" for c in range(classes)])


@pytest.fixture
def many_classes(panel, tmp_path):  # noqa: F811
    viewer, widget = panel
    sample = many_class_sample()
    widget.open_paths([str(write_npz(tmp_path / "tiles.npz", sample))])
    return viewer, widget, sample


def test_every_combination_present_has_its_own_colour_and_a_complete_legend(many_classes):
    viewer, widget, sample = many_classes
    conflicts = viewer.layers["conflicts"]
    bits = sum(sample.masks[c].astype(np.int64) << c for c in range(6))
    several = np.array([bin(v).count("1") >= 2 for v in range(64)])
    present = [int(v) for v in np.unique(bits) if several[v]]
    assert len(present) == 57  # every pair, triple, … of 6 classes
    colours = {tuple(np.round(conflicts.colormap.map(v), 3)) for v in present}
    classes = {tuple(np.round(viewer.layers[f"class{c}"].colormap.map(1), 3)) for c in range(6)}
    assert len(colours) == 57 and not colours & classes
    widget.show_panel(widget.conflicts)
    table = widget.conflicts.winners.table
    rows = range(table.rowCount())
    listed = [table.item(r, COLUMN["classes"]).text() for r in rows]
    pixels = [int(table.item(r, COLUMN["pixels"]).text().replace(",", "")) for r in rows]
    sizes = {combination_name(v, sample.class_names): int((bits == v).sum()) for v in present}
    assert sorted(listed) == sorted(sizes)  # complete, nothing absent
    assert pixels == sorted(pixels, reverse=True) and pixels == [sizes[n] for n in listed]
    swatches = {table.item(r, 0).foreground().color().name() for r in range(table.rowCount())}
    assert len(swatches) == 57


def test_hovering_names_the_classes_and_the_tint_is_switchable(many_classes):
    viewer, widget, sample = many_classes
    bits = sum(sample.masks[c].astype(np.int64) << c for c in range(6))
    where = tuple(int(i) for i in np.argwhere(bits == 0b101101)[0])
    status = viewer.layers["conflicts"].get_status(where, world=True)["coordinates"]
    assert "classes: class0 + class2 + class3 + class5" in status
    assert "class: class2" in viewer.layers["class2"].get_status(where, world=True)["coordinates"]
    nothing = tuple(int(i) for i in np.argwhere(bits == 0)[0])
    background = viewer.layers["background"].get_status(nothing, world=True)["coordinates"]
    assert "background (no class)" in background
    # off every mask each layer still names what is there, never "[No Properties]"
    off = viewer.layers["class2"].get_status(nothing, world=True)["coordinates"]
    assert "class: not class2" in off
    inside = tuple(int(i) for i in np.argwhere(bits == 0b000100)[0])
    assert (
        "classes: no conflict"
        in viewer.layers["conflicts"].get_status(inside, world=True)["coordinates"]
    )
    assert (
        "class: in a class"
        in viewer.layers["background"].get_status(inside, world=True)["coordinates"]
    )
    # defaults keep the image readable: outlined background, a light conflicts tint
    layer = viewer.layers["background"]
    assert layer.contour > 0 and layer.visible
    assert viewer.layers["conflicts"].opacity <= 0.6 and viewer.layers["conflicts"].contour == 0
    combos = widget.editing.mode_combos
    combos["background"].setCurrentText("hidden")
    combos["conflicts"].setCurrentText("outline")
    assert not layer.visible and viewer.layers["conflicts"].contour > 0
    widget.session.step(0)  # the choice holds for the next sample shown
    assert not viewer.layers["background"].visible
    combos["background"].setCurrentText("tint")
    assert viewer.layers["background"].visible and viewer.layers["background"].contour == 0


def test_a_stroke_that_makes_a_new_combination_gives_it_a_colour_and_a_name(
    panel,  # noqa: F811
    tmp_path,
):
    viewer, widget = panel
    masks = np.zeros((3, 40, 40), np.uint8)
    masks[0, :20], masks[1, 10:30], masks[2, 30:] = 1, 1, 1  # only class a + b overlap
    sample = Sample("three", np.zeros((40, 40), np.uint8), masks, ["a", "b", "c"])
    widget.open_paths([str(write_npz(tmp_path / "three.npz", sample))])
    session, conflicts = widget.session, viewer.layers["conflicts"]
    assert session.combinations.codes == [0b011]
    session.workspace.policy.overwrite = False
    stroke = np.zeros((40, 40), bool)
    stroke[35:, :3] = True  # class c's rows: paint class a there
    session.workspace.paint("a", stroke)
    assert session.combinations.codes == [0b011, 0b101]
    new, old = conflicts.colormap.map(0b101), conflicts.colormap.map(0b011)
    assert not np.allclose(new, old) and new[3] == 1  # its own colour, not transparent
    assert conflicts.get_status((36, 1), world=True)["coordinates"].endswith("classes: a + c")


def test_a_nifti_volume_is_shown_axial_with_named_axes(panel, tmp_path):  # noqa: F811
    import nibabel

    viewer, widget = panel
    affine = np.array([[0, 0, -1.5, 0], [-1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1.0]])  # LIA-ish
    rng = np.random.default_rng(0)
    image = rng.integers(0, 100, (6, 7, 8)).astype(np.int16)
    masks = (rng.random((6, 7, 8, 2)) > 0.5).astype(np.uint8)
    nibabel.save(nibabel.Nifti1Image(image, affine), tmp_path / "vol.nii.gz")
    nibabel.save(nibabel.Nifti1Image(masks, affine), tmp_path / "vol_masks.nii.gz")
    widget.open_paths([str(tmp_path / "vol.nii.gz")])
    expected = nibabel.orientations.aff2axcodes(widget.session.sample.source.affine)
    assert expected == ("S", "P", "L")  # axial slices along the slider, as held
    assert tuple(viewer.dims.axis_labels) == ("I→S", "A→P", "R→L")
    widget.open_sample_data()  # an unnamed 2D sample: plain names again
    assert tuple(viewer.dims.axis_labels) == ("y", "x")


def press(viewer, qtbot, key, modifiers=None) -> None:
    """A key pressed on the canvas, as a user presses it."""
    from qtpy.QtCore import Qt

    canvas = viewer.window._qt_viewer.canvas.native
    qtbot.keyClick(canvas, key, modifiers or Qt.NoModifier)


def test_shortcuts_are_napari_actions_and_work_from_the_canvas(panel, qtbot):  # noqa: F811
    from napari.components import ViewerModel
    from napari.utils.action_manager import action_manager
    from qtpy.QtCore import Qt

    from segviewer._napari.shortcuts import ACTIONS

    viewer, widget = panel
    viewer.open_sample("segviewer", "cells")
    listed = action_manager._get_provider_actions(ViewerModel)  # Preferences › Shortcuts
    assert set(ACTIONS) <= set(listed)
    press(viewer, qtbot, Qt.Key_N)
    assert widget.session.index == 1
    press(viewer, qtbot, Qt.Key_N, Qt.ShiftModifier)
    assert widget.session.index == 0
    press(viewer, qtbot, Qt.Key_Period)  # next conflict region: the Conflicts tab, outlined
    assert widget.current_panel() is widget.conflicts and widget.conflicts.current == 0
    region = widget.conflicts.regions[0]
    outline = viewer.layers["selected region"]
    corners = outline.data[0]
    assert corners[:, 0].min() < region.bbox[0].start < corners[:, 0].max()
    assert corners[:, 1].min() < region.bbox[1].stop - 1 < corners[:, 1].max()
    assert viewer.layers.selection.active.name == "cell"  # still ready to paint
    press(viewer, qtbot, Qt.Key_Period)
    assert widget.conflicts.current == 1
    press(viewer, qtbot, Qt.Key_Comma)
    assert widget.conflicts.current == 0
    before = int(widget.session.derived.conflicts.astype(bool).sum())
    press(viewer, qtbot, Qt.Key_R, Qt.ShiftModifier)  # apply the rule
    assert before > 0 and not widget.session.derived.conflicts.any()
    widget.resolving.undo_button.click()  # Undo, from the Resolve tab
    assert int(widget.session.derived.conflicts.astype(bool).sum()) == before
    press(viewer, qtbot, Qt.Key_N)
    assert "selected region" not in [layer.name for layer in viewer.layers]
    press(viewer, qtbot, Qt.Key_W)  # cycles the comparison view (even before a run)
    assert widget.model.predictions.mode == "overlay"
    assert widget.model.view_buttons.checkedId() == 1
    press(viewer, qtbot, Qt.Key_3, Qt.AltModifier)
    assert widget.model.predictions.mode == "error map"


def test_every_button_says_what_it_does(panel):  # noqa: F811
    from qtpy.QtWidgets import QAbstractButton

    _viewer, widget = panel
    silent = [
        button.text()
        for button in widget.findChildren(QAbstractButton)
        if not button.toolTip() and button.text()
    ]
    assert silent == []


def test_at_1500_by_950_the_canvas_keeps_60_percent_and_every_page_fits(panel, qtbot):  # noqa: F811
    from qtpy.QtWidgets import QApplication

    viewer, widget = panel
    window, canvas = viewer.window._qt_window, viewer.window._qt_viewer.canvas.native
    window.show()  # laid out as on screen
    window.resize(1500, 950)
    viewer.open_sample("segviewer", "many_classes")
    qtbot.waitUntil(lambda: window.width() == 1500 and canvas.width() > 500, timeout=3000)
    QApplication.processEvents()
    assert canvas.width() >= 0.6 * window.width()
    width = widget.width()
    assert widget.sample_list.isVisible()
    for index in range(widget.tabs.count()):  # every page named on screen, none clipped
        button = widget.tabs.buttons.button(index)
        assert button.isVisible() and button.geometry().right() <= width
        widget.tabs.setCurrentIndex(index)
        QApplication.processEvents()
        page = widget.tabs.widget(index)
        assert page.widget().minimumSizeHint().width() <= page.viewport().width() + 1
        assert widget.sample_list.isVisible() and page.isVisible()  # together
        assert_headers_whole(widget)
    qtbot.waitUntil(lambda: widget.model.libraries_loaded, timeout=60000)  # torch imported


def assert_headers_whole(widget) -> None:
    """Every visible table shows each column header whole (the table scrolls instead)."""
    from qtpy.QtCore import Qt
    from qtpy.QtWidgets import QAbstractItemView

    for view in widget.findChildren(QAbstractItemView):
        header = getattr(view, "horizontalHeader", lambda: None)()
        if header is None or not view.isVisible():
            continue
        metrics = header.fontMetrics()
        for column in range(header.count()):
            text = str(view.model().headerData(column, Qt.Horizontal) or "")
            assert header.sectionSize(column) >= metrics.horizontalAdvance(text), text


def test_in_3d_classes_are_surfaces_the_background_hides_and_2d_comes_back(panel):  # noqa: F811
    viewer, widget = panel
    viewer.open_sample("segviewer", "many_classes")
    widget.show_sample(len(widget.session.dataset) - 1)  # the volume
    assert widget.session.sample.image.ndim == 3
    viewer.dims.ndisplay = 3
    layers = {layer.name: layer for layer in widget.session.shown_layers()}
    image = layers[widget.session.sample.name]
    assert not layers["background"].visible
    for name in [*widget.session.sample.class_names, "conflicts"]:
        assert layers[name].visible and layers[name].rendering == "iso_categorical"
        assert layers[name].contour == 0
    assert image.blending == "additive" and image.opacity < 0.5  # adds to, never hides
    from segviewer._napari.view_3d import CAMERA_ANGLES

    angles = getattr(viewer, "scene", viewer).camera.angles  # at an angle, in the same event
    np.testing.assert_allclose(angles, CAMERA_ANGLES)
    viewer.dims.ndisplay = 2
    assert layers["background"].visible and layers["background"].contour > 0  # outline again
    assert image.blending == "translucent" and image.opacity == 1.0
    viewer.dims.ndisplay = 3
    widget.session.step(-1)  # a 2D sample next: back to 2D, drawn as in 2D
    assert viewer.dims.ndisplay == 2 and viewer.layers["background"].visible
    widget.session.step(1)  # the volume again, then 3D: the same treatment
    viewer.dims.ndisplay = 3
    assert not viewer.layers["background"].visible


def test_the_validation_chart_zooms_on_the_scores_and_runs_are_not_hues():
    from segviewer._napari.train_chart import RUN_SHADES, dice_range
    from segviewer.core.colors import CLASS_COLORS

    assert dice_range([0.88, 0.91, None]) == (0.85, 0.95)  # 0.88 vs 0.91 visibly apart
    assert dice_range([]) == (0.0, 1.0)
    assert dice_range([1.0]) == (0.95, 1.0) and dice_range([0.0]) == (0.0, 0.05)
    for shade in RUN_SHADES:  # greys: a run never looks like a class
        red, green, blue = (int(shade[i : i + 2], 16) for i in (1, 3, 5))
        assert red == green == blue and shade not in CLASS_COLORS


def test_reopening_through_napari_keeps_the_layer_names(panel, tmp_path):  # noqa: F811
    viewer, widget = panel
    widget.open_paths([str(write_npz(tmp_path / "a.npz", many_class_sample()))])
    viewer.open(str(tmp_path / "a.npz"), plugin="segviewer")  # the same file, napari's way
    names = [layer.name for layer in viewer.layers]
    assert "a" in names and not any(name.endswith("]") for name in names), names
    assert len(widget.session.datasets) == 2
