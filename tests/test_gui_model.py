"""The Model tab in a real viewer: predictions beside the truth, scores, views, cancel."""

import numpy as np
import pytest
import torch
from napari.utils.notifications import notification_manager
from test_gui import camera, panel, wait_for_summaries  # noqa: F401
from test_models import Thresholds

from segviewer._napari.predictions import GAP, TITLES, VIEW_LAYERS
from segviewer.core.model.scores import error_map

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def dice(truth: np.ndarray, predicted: np.ndarray) -> float:
    return 2 * np.sum(truth & predicted) / (truth.sum() + predicted.sum())


@pytest.fixture
def model_tab(panel, qtbot):  # noqa: F811
    viewer, widget = panel
    viewer.open_sample("segviewer", "cells")
    wait_for_summaries(qtbot, widget)
    widget.show_panel(widget.model)
    return viewer, widget, widget.model


def view_widths(viewer, sample) -> list[float]:
    """Screen width of each side-by-side view, as a fraction of the canvas width."""
    zoom = camera(viewer).zoom
    return [sample.image.shape[-1] * zoom / viewer.canvas.size[1]] * 2


def assert_views_fill_the_canvas(viewer, sample) -> None:
    """Both views in the canvas at Home, each ≥ 45 % of its width when the window is wide."""
    viewer.reset_view()
    height, width = viewer.canvas.size
    extent = viewer.layers.extent.world[:, -2:]
    assert extent[1, -1] - extent[0, -1] >= 2 * sample.image.shape[-1]  # both in view
    zoom = camera(viewer).zoom
    assert (extent[1] - extent[0]).max() * zoom <= max(height, width) + 1  # and no more
    if width / height >= 2 * sample.image.shape[-1] / sample.image.shape[-2]:
        assert min(view_widths(viewer, sample)) >= 0.45


def assert_home_fits(viewer, shape) -> None:
    """Home shows the one image, filling the canvas (not a thumbnail in a corner)."""
    viewer.reset_view()
    zoom, (height, width) = camera(viewer).zoom, viewer.canvas.size
    assert min(height / shape[0], width / shape[1]) * 0.95 == pytest.approx(zoom, rel=0.02)
    assert camera(viewer).center[-1] == pytest.approx(shape[1] / 2, rel=0.02)


def run_and_wait(qtbot, tab) -> None:
    assert tab.run()
    qtbot.waitUntil(lambda: not tab.running and not tab.predictions.updating, timeout=60000)


def test_prediction_beside_the_truth_with_scores_and_views(model_tab, qtbot):
    viewer, widget, tab = model_tab
    run_and_wait(qtbot, tab)
    names = [layer.name for layer in viewer.layers]
    assert names[-5:] == list(VIEW_LAYERS)
    sample, labels = widget.session.sample, tab.predictions.shown_labels()
    width = sample.image.shape[-1]
    for name in ("image (prediction)", "background (prediction)", "prediction", "errors"):
        assert viewer.layers[name].translate[-1] == pytest.approx(width * (1 + GAP))
    image_view = viewer.layers["image (prediction)"]
    assert np.shares_memory(image_view.data, sample.image)  # a view, not a copy
    titles = viewer.layers["view titles"]
    assert list(titles.text.values) == list(TITLES) and titles.visible
    assert titles.data[1, -1] - titles.data[0, -1] == pytest.approx(width * (1 + GAP))
    assert (titles.data[:, -2] < 0).all()  # above the views
    # same tint in both views: the background drawn the same way, from the prediction
    truth_bg, predicted_bg = viewer.layers["background"], viewer.layers["background (prediction)"]
    assert (predicted_bg.contour, predicted_bg.opacity) == (truth_bg.contour, truth_bg.opacity)
    np.testing.assert_array_equal(predicted_bg.data, labels == 0)
    assert_views_fill_the_canvas(viewer, sample)
    colors = viewer.layers["prediction"].colormap
    for c, name in enumerate(sample.class_names):
        expected = viewer.layers[name].colormap.map(np.array([1]))[0]
        np.testing.assert_allclose(colors.map(np.array([c + 1]))[0], expected)
    for value in (0, 1):  # hovering names the predicted class and the error kind
        where = tuple(int(i) for i in np.argwhere(labels == value)[0])
        world = (*where[:-1], where[-1] + width * (1 + GAP))
        status = viewer.layers["prediction"].get_status(world, world=True)["coordinates"]
        assert f"predicted: {(['background', *sample.class_names])[value]}" in status
    error_values = viewer.layers["errors"].data
    where = tuple(int(i) for i in np.argwhere(error_values == 0)[0])
    world = (*where[:-1], where[-1] + width * (1 + GAP))
    assert "error: correct" in viewer.layers["errors"].get_status(world, world=True)["coordinates"]

    for row, truth in enumerate([~sample.masks.any(0), *(m > 0 for m in sample.masks)]):
        shown = float(tab.sample_table.item(row, 1).text())
        assert shown == pytest.approx(dice(truth, labels == row), abs=5e-4)
    assert float(tab.sample_table.item(1, 1).text()) > 0.9

    tab.view_buttons.button(1).click()  # overlay
    assert viewer.layers["prediction"].contour == 2
    assert not viewer.layers["errors"].visible
    for layer in tab.predictions.view_layers():  # hidden ones at the origin: Home fits
        assert layer.translate[-1] == 0
    assert_home_fits(viewer, sample.image.shape[-2:])
    tab.view_buttons.button(2).click()  # error map
    assert not viewer.layers["prediction"].visible
    assert_home_fits(viewer, sample.image.shape[-2:])
    assert tab.predictions.enlargement() == 1  # the sample fits at ≥ 1 screen px per pixel
    np.testing.assert_array_equal(viewer.layers["errors"].data, error_map(sample.masks, labels))

    cell = viewer.layers["cell"]
    cell.data_setitem(np.nonzero(np.ones((30, 30), bool)), 1)  # edit the truth: errors follow
    qtbot.waitUntil(
        lambda: np.array_equal(viewer.layers["errors"].data, error_map(sample.masks, labels)),
        timeout=3000,
    )

    viewer.open_sample("segviewer", "many_classes")  # another dataset, not predicted
    shown = widget.session.sample
    assert not any(layer.visible for layer in tab.predictions.view_layers())
    assert_home_fits(viewer, shown.image.shape[-2:])  # the parked view layers do not count


def test_whole_dataset_worst_first_and_click_to_open(model_tab, qtbot):
    viewer, widget, tab = model_tab
    tab.scope_combo.setCurrentIndex(1)
    run_and_wait(qtbot, tab)
    table = tab.dataset_table
    assert table.rowCount() == 9
    tab.sort_worst_first()
    worst = [float(table.item(r, 1).text()) for r in range(table.rowCount())]
    assert worst == sorted(worst)
    name = table.item(0, 0).text()
    table.cellClicked.emit(0, 0)
    assert widget.session.sample.name == name
    qtbot.waitUntil(lambda: not tab.predictions.updating, timeout=5000)  # one layer a turn
    assert viewer.layers["prediction"].visible
    assert viewer.layers["prediction"].data is tab.predictions.shown_labels()


def test_cancel_keeps_finished_samples_and_the_panel_works(model_tab, qtbot):
    _viewer, _widget, tab = model_tab
    tab.scope_combo.setCurrentIndex(1)
    assert tab.run()
    qtbot.waitUntil(lambda: len(tab.predictions.labels) >= 1, timeout=60000)
    tab.cancel()
    qtbot.waitUntil(lambda: not tab.running, timeout=10000)
    assert 1 <= len(tab.predictions.labels) < 9
    assert tab.run_button.isEnabled() and not tab.cancel_button.isEnabled()
    tab.scope_combo.setCurrentIndex(0)
    run_and_wait(qtbot, tab)  # and it runs again


def test_bad_models_are_notifications(model_tab, qtbot, tmp_path):
    _viewer, _widget, tab = model_tab
    (tmp_path / "junk.pt").write_bytes(b"not torchscript")
    tab.add_model_file(str(tmp_path / "junk.pt"))
    with notification_manager:
        assert tab.run()  # the model opens in the worker
        qtbot.waitUntil(lambda: not tab.running, timeout=30000)
    messages = [n.message for n in notification_manager.records]
    assert any("not a TorchScript file" in m and "junk.pt" in m for m in messages)
    assert tab.run_button.isEnabled()
    wrong = tmp_path / "four.pt"
    torch.jit.script(Thresholds(4)).save(str(wrong))
    tab.add_model_file(str(wrong))
    viewer = _viewer
    active, names = viewer.layers.selection.active, [layer.name for layer in viewer.layers]
    assert tab.run()
    qtbot.waitUntil(lambda: not tab.running, timeout=30000)
    messages = [n.message for n in notification_manager.records]
    assert any("returned logits of shape" in m for m in messages)
    qtbot.wait(200)  # the view layers are added one per event-loop turn
    assert [layer.name for layer in viewer.layers] == names  # a failed run changes nothing
    assert viewer.layers.selection.active is active
    if not torch.cuda.is_available():
        tab.model_combo.setCurrentText("bundled")
        tab.device_combo.setCurrentText("cuda")
        assert tab.run()
        qtbot.waitUntil(lambda: not tab.running, timeout=30000)
        messages = [n.message for n in notification_manager.records]
        assert any("CUDA was requested but no GPU" in m for m in messages)


def test_the_model_conflict_rule_in_the_resolve_tab(model_tab, qtbot):
    _viewer, widget, tab = model_tab
    resolving = widget.resolving
    widget.show_panel(resolving)
    resolving.rule_combo.setCurrentText("model")
    resolving.refresh()
    assert resolving.preview.text() == "Run a model on this sample first (Model tab)."
    widget.show_panel(tab)
    run_and_wait(qtbot, tab)
    widget.show_panel(resolving)
    masks = widget.session.sample.masks
    before = masks.copy()
    probabilities = tab.predictions.probabilities_of(widget.session.dataset, 0)
    assert probabilities.shape == (3, *masks.shape[1:])
    conflicts = np.argwhere(before.sum(axis=0) > 1)
    resolving.apply_button.click()
    assert (masks.sum(axis=0) <= 1).all()
    for y, x in conflicts:  # cell (index 0) wins ties: it is first in the priority order
        winner = 0 if probabilities[1, y, x] >= probabilities[2, y, x] else 1
        assert masks[winner, y, x] == 1 and masks[1 - winner, y, x] == 0
