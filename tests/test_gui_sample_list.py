"""The Samples list as a model/view table: sorting, filters, and a reopen from the index."""

import numpy as np
from qtpy.QtCore import Qt
from test_gui import panel, wait_for_summaries  # noqa: F401 (the fixture)

from segviewer._napari.sample_list import ABSENT, CONFLICTS, EDITED, UNREADABLE
from segviewer.cli import main


def test_sort_and_filter_the_samples(panel, qtbot, tmp_path):  # noqa: F811
    _, widget = panel
    assert main(["sample", "--out", str(tmp_path / "d"), "--count", "6", "--volumes", "1"]) == 0
    (tmp_path / "d" / "images" / "sample_004.png").write_bytes(b"broken")
    widget.open_paths([str(tmp_path / "d")])
    wait_for_summaries(qtbot, widget)
    samples = widget.sample_list
    assert samples.rowCount() == 7
    assert widget.samples_label.text() == "<b>Samples</b> (7)"  # all read (one unreadable)
    dataset, lines = widget.session.dataset, widget.lines.summaries[id(widget.session.dataset)]
    kept, lines[2:5] = lines[2:5], [None] * 3  # three still being read
    widget._on_summary(dataset)
    assert widget.samples_label.text() == "<b>Samples</b> (7; 4 read…)"
    lines[2:5] = kept
    names = [samples.text(r, 0) for r in range(7)]
    assert names == [f"sample_00{i}" for i in range(6)] + ["volume_000"]

    samples.view.sortByColumn(3, Qt.DescendingOrder)  # conflict pixels, most first
    conflicts = [samples.text(r, 3) for r in range(7)]
    numbers = [int(c.replace(",", "")) for c in conflicts if c]
    assert numbers == sorted(numbers, reverse=True)

    samples.search.setText("VOLUME")
    assert [samples.text(r, 0) for r in range(samples.rowCount())] == ["volume_000"]
    samples.search.setText("")
    samples.mode.setCurrentText(UNREADABLE)
    assert [samples.text(r, 0) for r in range(samples.rowCount())] == ["sample_004"]
    samples.mode.setCurrentText(CONFLICTS)
    assert samples.rowCount() == sum(n > 0 for n in numbers)

    workspace = widget.session.workspace
    workspace.paint("spot", np.ones(workspace.sample.spatial_shape, bool), 0)  # no spot left
    widget._refresh_counts()
    samples.mode.setCurrentText(EDITED)
    assert [samples.text(r, 0) for r in range(samples.rowCount())] == ["● sample_000"]
    samples.mode.setCurrentText(ABSENT + "spot")
    assert [samples.text(r, 0) for r in range(samples.rowCount())] == ["● sample_000"]
    samples.mode.setCurrentText(CONFLICTS)
    samples.click(0)
    assert widget.session.index == names.index(samples.text(0, 0).lstrip("● "))


def test_a_reopened_dataset_lists_every_summary_from_the_index(
    panel,  # noqa: F811
    qtbot,
    tmp_path,
    monkeypatch,
):
    from segviewer._napari import sample_lines

    _, widget = panel
    folder = tmp_path / "d"
    assert main(["sample", "--out", str(folder)]) == 0
    assert main(["info", str(folder)]) == 0  # fills the summary index
    read = []
    monkeypatch.setattr(sample_lines, "summary_record", lambda sample: read.append(sample))
    widget.open_paths([str(folder)])
    wait_for_summaries(qtbot, widget)
    samples = widget.sample_list
    assert read == [] and samples.rowCount() == 9
    assert all("×" in samples.text(r, 1) for r in range(9))
    assert widget.session.tallies(widget.session.dataset).known.all()  # stats need no read


def test_an_unreachable_scheduler_is_a_warning_and_napari_reads_instead(panel, qtbot, tmp_path):  # noqa: F811
    from napari.utils.notifications import notification_manager

    from segviewer.core.jobs import EngineSpec

    _, widget = panel
    folder = tmp_path / "d"
    assert main(["sample", "--out", str(folder), "--count", "2", "--volumes", "0"]) == 0
    widget.session.engine_spec = EngineSpec("tcp://127.0.0.1:9")
    widget.open_paths([str(folder)])
    wait_for_summaries(qtbot, widget)
    assert all("×" in widget.sample_list.text(r, 1) for r in range(2))
    messages = [n.message for n in notification_manager.records]
    assert any("cannot reach the Dask scheduler at 'tcp://127.0.0.1:9'" in m for m in messages)


def test_columns_fit_the_summaries_without_refitting_every_batch(
    panel,  # noqa: F811
    qtbot,
    tmp_path,
    monkeypatch,
):
    from segviewer._napari import sample_lines
    from segviewer.core.jobs import SYNCHRONOUS, EngineSpec

    _, widget = panel
    folder = tmp_path / "d"
    assert main(["sample", "--out", str(folder), "--count", "12", "--volumes", "0"]) == 0
    monkeypatch.setattr(sample_lines, "BATCH_SECONDS", 0)  # a batch per sample
    events = []  # "batch" and "fit", in order
    on_batch, fit = widget.lines._on_batch, widget.lines.view.fit_columns
    monkeypatch.setattr(widget.lines, "_on_batch", lambda *a: (events.append("b"), on_batch(*a)))
    monkeypatch.setattr(widget.lines.view, "fit_columns", lambda: (events.append("f"), fit()))
    widget.session.engine_spec = EngineSpec(SYNCHRONOUS)
    widget.open_paths([str(folder)])
    wait_for_summaries(qtbot, widget)
    qtbot.waitUntil(lambda: events[-1] == "f")  # once all are in, after the last batch
    assert events.count("b") >= 12 and events.count("f") <= 3  # listed, first, all in
    first_summaries = events.index("b") + 1
    assert events[first_summaries] == "f"
