"""The Train tab in a real viewer: fine-tune on the edited labels, cancel, compare losses."""

import numpy as np
import pytest
import torch
from napari.utils.notifications import notification_manager
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QPushButton
from test_gui import panel, wait_for_summaries  # noqa: F401

from segviewer.core.model.files import LoadedModel, load_model
from segviewer.core.model.finetune import best_dice
from segviewer.core.model.inference import labels_of, predict

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def opened_tab(panel, qtbot):  # noqa: F811
    """The Train tab with the sample data open (8 2D samples and a volume)."""
    viewer, widget = panel
    viewer.open_sample("segviewer", "cells")
    wait_for_summaries(qtbot, widget)
    widget.show_panel(widget.training)
    return viewer, widget, widget.training


@pytest.fixture
def train_tab(opened_tab):
    """A short fine-tune: 2 samples train, 1 validates, 4 steps of 2 patches of 64²."""
    viewer, widget, tab = opened_tab
    tab.form.steps.setValue(4)
    tab.form.batch.setValue(2)
    tab.form.patch.setValue(64)
    tab.samples.set_role(range(len(widget.session.dataset)), "skip")
    tab.samples.set_role([0, 1], "train")
    tab.samples.set_role([2], "validate")
    return viewer, widget, tab


def wait(qtbot, tab) -> None:
    qtbot.waitUntil(lambda: not tab.running, timeout=120000)


def messages() -> list[str]:
    return [n.message for n in notification_manager.records]


def dice(truth: np.ndarray, predicted: np.ndarray) -> float:
    return 2 * np.sum(truth & predicted) / (truth.sum() + predicted.sum())


def test_default_split_trains_on_2d_samples_and_validates_on_the_volume(opened_tab, qtbot):
    _viewer, widget, tab = opened_tab
    qtbot.waitUntil(lambda: widget.model.libraries_loaded, timeout=60000)  # tab shown: loaded
    names = widget.session.dataset.names
    roles = dict(zip(names, tab.samples.roles, strict=True))
    assert roles["volume_000"] == "validate"
    assert list(roles.values()).count("train") == 6  # 8 2D samples, 25 % validate
    assert tab.samples.table.item(names.index("volume_000"), 1).text() == "validate"
    assert tab.form.start_combo.currentText() == "bundled"
    tab.samples.table.selectRow(3)  # a row, then a role button
    leave_out = [b for b in tab.samples.findChildren(QPushButton) if b.text() == "Leave out"]
    leave_out[0].click()
    assert tab.samples.roles[3] == "skip" and tab.samples.table.item(3, 1).text() == "skip"
    assert 3 not in tab.samples.indices("train") + tab.samples.indices("validate")


def test_fine_tune_the_edited_labels_then_predict_save_and_load(train_tab, qtbot, tmp_path):
    viewer, widget, tab = train_tab
    assert tab.form.conflicts_combo.currentData() == "ignore"  # the first run just works
    tab.form.conflicts_combo.setCurrentIndex(tab.form.conflicts_combo.findData("refuse"))
    with notification_manager:
        assert tab.train()  # the sample data has conflicts: refused, naming the sample
        wait(qtbot, tab)
        assert any("conflict pixels are not resolved" in m for m in messages())
    assert tab.tuned is None

    widget.session.show(widget.session.dataset, 0)
    viewer.layers["cell"].data_setitem(np.nonzero(np.ones((20, 20), bool)), 1)  # an edit
    _opener, train, _validation = tab._inputs()
    snapshot = train[0]()
    np.testing.assert_array_equal(snapshot.masks, widget.session.sample.masks)
    assert not np.shares_memory(snapshot.masks, widget.session.sample.masks)

    tab.form.conflicts_combo.setCurrentIndex(
        tab.form.conflicts_combo.findData("ignore")
    )  # ignore conflict pixels
    tab.form.weights_combo.setCurrentText("inverse_frequency")
    assert tab.train()
    wait(qtbot, tab)
    name, model = tab.tuned
    assert name == "fine-tuned 1: dicece (1:1), inverse_frequency"
    assert name in widget.model.model_names()
    assert len(tab._losses[0]) == 4 and [s for s, _ in tab._validation[0]] == [0, 4]
    assert model.info.training["conflicts"] == "ignore"
    assert model.info.training["train"] == ["sample_000", "sample_001"]

    qtbot.wait(tab._redraw.interval() + 100)  # no late chart redraw replaces the message
    validation = widget.session.dataset.sample(2)  # the Dice shown = a numpy Dice
    labels = labels_of(predict(model, validation.image, None))
    expected = [dice(m > 0, labels == c + 1) for c, m in enumerate(validation.masks)]
    shown = dict(zip(model.info.classes, best_dice(tab.result), strict=True))
    for c, class_name in enumerate(validation.class_names):
        assert shown[class_name] == pytest.approx(expected[c], abs=1e-6)
        assert f"{class_name} {expected[c]:.3f}" in tab.status.text()

    path = tmp_path / "tuned"
    assert tab.save_model_to(path)
    network, info = load_model(tmp_path / "tuned.safetensors")
    assert info.name == name and info.training["loss"]["name"] == "dicece"
    np.testing.assert_array_equal(
        predict(LoadedModel(info, network), validation.image, None),
        predict(model, validation.image, None),
    )

    assert tab.show_predictions()  # one click: the Model tab, side by side
    assert widget.current_panel() is widget.model
    qtbot.waitUntil(
        lambda: not widget.model.running and not widget.model.predictions.updating, timeout=60000
    )
    assert widget.model.predictions.model_name == name
    assert "prediction" in [layer.name for layer in viewer.layers]


def test_cancel_keeps_the_best_weights_so_far(train_tab, qtbot):
    _viewer, widget, tab = train_tab
    tab.form.conflicts_combo.setCurrentIndex(tab.form.conflicts_combo.findData("ignore"))
    tab.form.steps.setValue(10_000)
    assert tab.train()
    qtbot.waitUntil(lambda: len(tab._losses[0]) >= 2, timeout=60000)
    tab.cancel()
    wait(qtbot, tab)
    assert tab.result.stopped == "cancelled" and len(tab.result.losses) < 10_000
    assert tab.tuned[0] in widget.model.model_names()
    assert "Stopped early: cancelled" in tab.status.text()


def test_compare_losses_shows_a_row_per_setting(train_tab, qtbot):
    _viewer, _widget, tab = train_tab
    tab.form.conflicts_combo.setCurrentIndex(tab.form.conflicts_combo.findData("ignore"))
    for row in range(tab.comparing.run_list.count()):
        tab.comparing.run_list.item(row).setCheckState(Qt.Unchecked)
    tab.comparing.run_list.item(0).setCheckState(Qt.Checked)  # dice, uniform
    tab.form.loss_combo.setCurrentText("focal")
    tab.form.gamma.setValue(1.0)
    tab.add_current_run()  # focal γ=1 with the chosen weights
    assert tab.compare()
    wait(qtbot, tab)
    table = tab.comparing.table
    assert table.rowCount() == 2 and len(tab.comparing.results) == 2
    assert table.item(1, 0).text() == "focal γ=1, uniform"
    for row, result in enumerate(tab.comparing.results):
        for column, value in enumerate(best_dice(result), start=1):
            assert table.item(row, column).text() == ("–" if value is None else f"{value:.3f}")
    assert tab.comparing.results[0].losses != tab.comparing.results[1].losses
    assert not tab.comparing.chart.isHidden()


def test_bad_settings_are_notifications(train_tab, qtbot):
    _viewer, _widget, tab = train_tab
    with notification_manager:
        tab.form.lr.setText("fast")
        assert not tab.train()
        assert any("learning rate 'fast': expected a positive number" in m for m in messages())
        tab.form.lr.setText("0.001")
        tab.samples.set_role([2], "skip")
        assert tab.train()
        wait(qtbot, tab)
        assert any("got 2 to train on and 0 to validate on" in m for m in messages())
        tab.samples.set_role([8], "train")  # the volume
        tab.samples.set_role([2], "validate")
        assert tab.train()
        wait(qtbot, tab)
        assert any("volume_000: a 3D sample" in m for m in messages())
        if not torch.cuda.is_available():
            tab.form.device_combo.setCurrentText("cuda")
            assert tab.train()  # checked in the worker, where torch is imported
            wait(qtbot, tab)
            assert any("CUDA was requested but no GPU" in m for m in messages())
            assert tab.status.text().startswith("Stopped: CUDA was requested")


def test_the_train_tab_trains_a_fresh_3d_network_on_volumes(panel, qtbot, tmp_path):  # noqa: F811
    from segviewer.core.data.synthetic import make_sample
    from segviewer.core.editing.rules import resolve_sample
    from segviewer.core.io.writers import save_samples

    rng = np.random.default_rng(5)
    volumes = [make_sample(rng, (16, 32, 32), f"vol{i}") for i in range(3)]
    for volume in volumes:
        resolve_sample(volume, "priority", [1, 0])
    save_samples(volumes, tmp_path / "vols", "masks")
    viewer, widget = panel
    viewer.open(str(tmp_path / "vols"), plugin="segviewer")
    wait_for_summaries(qtbot, widget)
    tab = widget.training
    widget.show_panel(tab)
    tab.form.dims_combo.setCurrentText("3D")
    assert tab.form.patch.value() == 64
    assert sorted(tab.samples.roles) == ["train", "train", "validate"]
    tab.form.arch_combo.setCurrentText("unet")
    tab.form.patch.setValue(16)
    tab.form.steps.setValue(3)
    tab.form.batch.setValue(1)
    tab.form.sampler_combo.setCurrentText("rarest_class")
    assert tab.train()
    wait(qtbot, tab)
    _name, model = tab.tuned
    assert model.info.spatial_dims == 3 and model.info.architecture["name"] == "UNet"
    assert model.info.training["patch"] == [16, 16, 16]
    assert model.info.training["sampler"] == "rarest_class"
    assert len(tab._losses[0]) == 3
