"""The Model tab predicts a whole file-backed dataset on the session's Dask engine (a
scheduler and two workers on 127.0.0.1): the predictions reach the workspace and the
table, edited samples are scored as they are now, failures are named, Cancel stops it."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from napari.utils.notifications import notification_manager
from test_gui import panel, wait_for_summaries  # noqa: F401
from test_panel_predict_engine import data, in_process  # noqa: F401

from segviewer.core.model.scores import error_map, score_sample

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def open_on_engine(panel, qtbot, folder, address):  # noqa: F811
    """The dataset open in the panel, the Stats page's "Dataset jobs" set to ``address``,
    the Model tab shown and set to the whole dataset."""
    viewer, widget = panel
    viewer.open(str(folder), plugin="segviewer")
    wait_for_summaries(qtbot, widget)
    widget.statistics.jobs_edit.setText(address)
    widget.statistics.jobs_edit.editingFinished.emit()
    assert widget.session.engine_spec.scheduler == address
    tab = widget.model
    widget.show_panel(tab)
    tab.scope_combo.setCurrentIndex(1)
    return widget, tab


def messages() -> list[str]:
    return [n.message for n in notification_manager.records]


def job_files(widget) -> list:
    """The prediction files the tasks wrote (the panel's own are named 0.npy, 1.npy…)."""
    return sorted(widget.session.workspace.prediction_files.folder().glob("*-labels.npy"))


def test_a_whole_dataset_on_the_cluster_reaches_the_workspace_and_the_table(
    panel,  # noqa: F811
    qtbot,
    data,  # noqa: F811
    in_process,  # noqa: F811
    scheduler,
):
    widget, tab = open_on_engine(panel, qtbot, data, scheduler)
    session, workspace = widget.session, widget.session.workspace
    viewer = panel[0]
    cell = viewer.layers["cell"]
    cell.data_setitem(np.nonzero(np.ones((40, 40), bool)), 1)  # the shown sample is edited
    session.edits.flush()
    assert session.dataset.is_edited(0)
    edited = workspace.snapshot(0)
    assert tab.run()
    qtbot.waitUntil(lambda: not tab.running and not tab.predictions.updating, timeout=120000)
    dataset, count = session.dataset, len(session.dataset)
    assert workspace.predicted_indices(dataset) == list(range(count))
    assert len(job_files(widget)) == count  # written by the tasks on the cluster, mapped here
    for index in range(count):
        found = workspace.prediction(index, dataset)
        expected = in_process.prediction(index, in_process.dataset)
        assert isinstance(found.labels, np.memmap)
        assert found.labels.tobytes() == expected.labels.tobytes()  # byte for byte
        assert found.probabilities.shape == expected.probabilities.shape
    # the table: every sample, the edited one scored against its masks as they are now
    assert tab.dataset_table.rowCount() == count
    assert tab.dataset_label.text().startswith(f"{count} of {count} samples predicted")
    labels = workspace.prediction(0, dataset).labels
    scores = tab.predictions.scores(dataset, 0)
    np.testing.assert_array_equal(scores.confusion, score_sample(edited.masks, labels).confusion)
    unedited = in_process.evaluate()[0]
    assert not np.array_equal(scores.confusion, unedited.confusion)
    np.testing.assert_array_equal(
        viewer.layers["errors"].data, error_map(session.sample.masks, labels)
    )
    for index in range(1, count):  # the others as the tasks scored them
        np.testing.assert_array_equal(
            tab.predictions.scores(dataset, index).confusion,
            in_process.evaluate()[index].confusion,
        )
    assert viewer.layers["prediction"].visible
    assert tab.run_button.isEnabled() and not tab.cancel_button.isEnabled()


def test_a_sample_that_fails_on_a_worker_is_named_and_the_others_complete(
    panel,  # noqa: F811
    qtbot,
    data,  # noqa: F811
    scheduler,
    tmp_path,
):
    broken = tmp_path / "broken"
    shutil.copytree(data, broken)
    (broken / "images" / "s2.png").write_bytes(b"not a png")
    widget, tab = open_on_engine(panel, qtbot, broken, scheduler)
    with notification_manager:
        assert tab.run()
        qtbot.waitUntil(lambda: not tab.running, timeout=120000)
    assert any("s2.png" in m for m in messages())
    dataset = widget.session.dataset
    assert widget.session.workspace.predicted_indices(dataset) == [0, 1, 3, 4]
    assert len(job_files(widget)) == 4
    assert tab.dataset_table.rowCount() == 4


def test_cancel_before_the_first_result_predicts_nothing(
    panel,  # noqa: F811
    qtbot,
    data,  # noqa: F811
    scheduler,
):
    widget, tab = open_on_engine(panel, qtbot, data, scheduler)
    with notification_manager:
        assert tab.run()
        tab.cancel()  # the worker finds it set once the engine is reached
        qtbot.waitUntil(lambda: not tab.running, timeout=60000)
    assert any("Prediction cancelled" in m for m in messages())
    assert widget.session.workspace.predicted_indices(widget.session.dataset) == []
    assert job_files(widget) == []
    assert tab.run_button.isEnabled() and not tab.cancel_button.isEnabled()


def test_an_unreachable_scheduler_is_a_warning_and_napari_predicts(
    panel,  # noqa: F811
    qtbot,
    data,  # noqa: F811
):
    widget, tab = open_on_engine(panel, qtbot, data, "tcp://127.0.0.1:9")
    with notification_manager:
        assert tab.run()
        qtbot.waitUntil(lambda: not tab.running, timeout=120000)
    assert any(
        "cannot reach the Dask scheduler" in m and "predicting in napari instead" in m
        for m in messages()
    )
    dataset = widget.session.dataset
    assert widget.session.workspace.predicted_indices(dataset) == list(range(len(dataset)))
    assert job_files(widget) == []  # predicted here, kept by the workspace's own files
