"""The Model tab in a real viewer: predictions beside the truth, scores, views, cancel."""

import numpy as np
import pytest
import torch
from napari.utils.notifications import notification_manager
from test_gui import panel, wait_for_summaries  # noqa: F401
from test_models import Thresholds

from segviewer._napari.predictions import GAP
from segviewer.core.model.scores import error_map

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def dice(truth: np.ndarray, predicted: np.ndarray) -> float:
    return 2 * np.sum(truth & predicted) / (truth.sum() + predicted.sum())


@pytest.fixture
def model_tab(panel, qtbot):  # noqa: F811
    viewer, widget = panel
    viewer.open_sample("segviewer", "cells")
    wait_for_summaries(qtbot, widget)
    widget.tabs.setCurrentWidget(widget.model)
    return viewer, widget, widget.model


def run_and_wait(qtbot, tab) -> None:
    assert tab.run()
    qtbot.waitUntil(lambda: not tab.running and not tab.predictions.updating, timeout=60000)


def test_prediction_beside_the_truth_with_scores_and_views(model_tab, qtbot):
    viewer, widget, tab = model_tab
    run_and_wait(qtbot, tab)
    names = [layer.name for layer in viewer.layers]
    assert names[-4:] == ["image (prediction)", "prediction", "image (errors)", "errors"]
    sample, labels = widget.session.sample, tab.predictions.shown_labels()
    width = sample.image.shape[-1]
    assert viewer.layers["prediction"].translate[-1] == pytest.approx(width * (1 + GAP))
    assert viewer.layers["errors"].translate[-1] == pytest.approx(2 * width * (1 + GAP))
    image_view = viewer.layers["image (prediction)"]
    assert np.shares_memory(image_view.data, sample.image)  # a view, not a copy
    extent = viewer.layers.extent.world[:, -1]  # one canvas, one camera: all three in view
    assert extent[1] - extent[0] >= 3 * width
    colors = viewer.layers["prediction"].colormap
    for c, name in enumerate(sample.class_names):
        expected = viewer.layers[name].colormap.map(np.array([1]))[0]
        np.testing.assert_allclose(colors.map(np.array([c + 1]))[0], expected)

    for row, truth in enumerate([~sample.masks.any(0), *(m > 0 for m in sample.masks)]):
        shown = float(tab.sample_table.item(row, 1).text())
        assert shown == pytest.approx(dice(truth, labels == row), abs=5e-4)
    assert float(tab.sample_table.item(1, 1).text()) > 0.9

    tab.view_buttons.button(1).click()  # overlay
    assert viewer.layers["prediction"].contour == 2
    assert not viewer.layers["errors"].visible
    assert viewer.layers["prediction"].translate[-1] == 0
    tab.view_buttons.button(2).click()  # error map
    assert not viewer.layers["prediction"].visible
    np.testing.assert_array_equal(viewer.layers["errors"].data, error_map(sample.masks, labels))

    cell = viewer.layers["cell"]
    cell.data_setitem(np.nonzero(np.ones((30, 30), bool)), 1)  # edit the truth: errors follow
    qtbot.waitUntil(
        lambda: np.array_equal(viewer.layers["errors"].data, error_map(sample.masks, labels)),
        timeout=3000,
    )


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
    widget.tabs.setCurrentWidget(resolving)
    resolving.rule_combo.setCurrentText("model")
    resolving.refresh()
    assert resolving.preview.text() == "Run a model on this sample first (Model tab)."
    widget.tabs.setCurrentWidget(tab)
    run_and_wait(qtbot, tab)
    widget.tabs.setCurrentWidget(resolving)
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
