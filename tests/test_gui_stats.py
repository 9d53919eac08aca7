"""The Statistics tab in a real viewer: numbers equal an independent count after every edit."""

import json

import numpy as np
import pytest
import torch
from conftest import small_sample, write_npz
from test_cli import run_cli
from test_gui import panel, press_undo, wait_for_summaries  # noqa: F401
from test_weights import reference_weights

from segviewer.core.stats.classes import tally
from segviewer.core.stats.weights import SCHEMES


def independent_counts(masks, ignore=None) -> list[int]:
    """[background, *classes] with plain numpy, the README's definition."""
    in_no_class = ~masks.astype(bool).any(axis=0)
    if ignore is not None:
        in_no_class &= ~ignore.astype(bool)
    return [int(in_no_class.sum()), *(int(m.astype(bool).sum()) for m in masks)]


def panel_counts(stats_panel) -> list[int]:
    table = stats_panel.table
    return [int(table.item(r, 1).text().replace(",", "")) for r in range(table.rowCount())]


def panel_weights(stats_panel, scheme) -> list[float]:
    table, row = stats_panel.weights_table, SCHEMES.index(scheme)
    assert table.item(row, 0).text() == scheme
    return [float(table.item(row, c).text()) for c in range(1, table.columnCount())]


def dataset_counts(session) -> list[list[int]]:
    dataset = session.dataset
    return [
        independent_counts(s.masks, s.ignore)
        for s in (dataset.sample(i) for i in range(len(dataset)))
    ]


@pytest.fixture
def stats_panel(panel, qtbot):  # noqa: F811
    viewer, widget = panel
    viewer.open_sample("segviewer", "cells")
    wait_for_summaries(qtbot, widget)
    widget.show_panel(widget.statistics)
    return viewer, widget, widget.statistics


def test_sample_numbers_follow_strokes_fills_undo_and_rules(stats_panel, qtbot):
    viewer, widget, stats = stats_panel
    stats.scope_combo.setCurrentText("this sample")
    session = widget.session
    masks = session.sample.masks

    def shows_current_masks() -> bool:
        return panel_counts(stats) == independent_counts(masks, session.sample.ignore)

    original = independent_counts(masks)
    assert panel_counts(stats) == original
    cell, spot = viewer.layers["cell"], viewer.layers["spot"]
    cell.brush_size = 40
    cell.paint((120, 200), 1)  # a brush stroke through the layer API
    qtbot.waitUntil(lambda: panel_counts(stats) != original, timeout=3000)
    assert shows_current_masks()
    empty = np.argwhere(masks.sum(axis=0) == 0)[0]
    spot.fill(tuple(empty), 1)  # bucket fill of a background area
    qtbot.waitUntil(shows_current_masks, timeout=3000)
    assert spot.data[tuple(empty)] == 1

    counts = independent_counts(masks)
    expected = reference_weights([counts])
    for scheme in SCHEMES:
        present = np.array(counts) > 0
        normalized = np.array(expected[scheme]) / np.mean(np.array(expected[scheme])[present])
        np.testing.assert_allclose(panel_weights(stats, scheme), normalized, rtol=1e-3)
    conflicts = int((masks.sum(axis=0) >= 2).sum())
    assert f"<b>{conflicts:,}</b> conflict pixels" in stats.summary.text()

    viewer.layers.selection.active = spot
    press_undo(viewer, qtbot)
    press_undo(viewer, qtbot)
    qtbot.waitUntil(lambda: panel_counts(stats) == original, timeout=3000)
    press_undo(viewer, qtbot, redo=True)
    qtbot.waitUntil(shows_current_masks, timeout=3000)
    assert panel_counts(stats) != original

    session.edits.apply_rule("ignore", None, whole_dataset=False)
    qtbot.waitUntil(lambda: "<b>0</b> conflict pixels" in stats.summary.text(), timeout=3000)
    assert session.sample.ignore.any() and shows_current_masks()


def test_dataset_totals_follow_edits_of_the_shown_sample(stats_panel, qtbot):
    viewer, widget, stats = stats_panel
    session = widget.session
    per_sample = dataset_counts(session)
    assert stats.summary.text().startswith("<b>9 samples</b>")
    assert panel_counts(stats) == np.sum(per_sample, axis=0).tolist()
    present_in = [stats.table.item(r, 3).text() for r in range(3)]
    assert present_in == [f"{sum(row[c] > 0 for row in per_sample)}/9" for c in range(3)]
    expected = reference_weights(per_sample)["median_frequency"]
    np.testing.assert_allclose(
        panel_weights(stats, "median_frequency"),
        np.array(expected) / np.mean(expected),
        rtol=1e-3,
    )

    widget.show_sample(4)
    background = viewer.layers["background"]
    background.brush_size = 60
    background.paint((150, 150), 1)  # make pixels background: they leave every class
    qtbot.waitUntil(
        lambda: panel_counts(stats) != np.sum(per_sample, axis=0).tolist(), timeout=3000
    )
    assert panel_counts(stats) == np.sum(dataset_counts(session), axis=0).tolist()

    session.edits.apply_rule("priority", None, whole_dataset=True)
    qtbot.waitUntil(lambda: "<b>0</b> conflict pixels" in stats.summary.text(), timeout=3000)
    assert panel_counts(stats) == np.sum(dataset_counts(session), axis=0).tolist()
    widget.editing.undo_button.click()
    qtbot.waitUntil(
        lambda: panel_counts(stats) == np.sum(dataset_counts(session), axis=0).tolist(),
        timeout=3000,
    )
    assert "<b>0</b> conflict pixels" not in stats.summary.text()


def test_random_edits_keep_every_tally_exact(stats_panel, qtbot):
    """Strokes, erasures, fills, background edits, policies, undo and redo in random order:
    the incremental tallies always equal a full recount."""
    viewer, widget, _stats = stats_panel
    session, rng = widget.session, np.random.default_rng(11)
    policy = session.edits.policy
    for step in range(40):
        layer = viewer.layers[["cell", "spot", "background"][rng.integers(3)]]
        viewer.layers.selection.active = layer
        policy.overwrite = bool(rng.integers(2))
        policy.area = ["everywhere", "background", "conflicts"][rng.integers(3)]
        y, x = rng.integers(0, 300), rng.integers(0, 400)
        action = rng.integers(5)
        if action == 0:
            press_undo(viewer, qtbot)
        elif action == 1:
            press_undo(viewer, qtbot, redo=True)
        elif action == 2:
            layer.fill((y, x), int(rng.integers(2)))
        else:
            layer.brush_size = int(rng.integers(1, 60))
            layer.paint((y, x), int(rng.integers(2)))
        session.edits.flush()
        if step % 10 == 9:
            widget.show_sample(int(rng.integers(3)))
        sample = session.sample
        row = session.tallies(session.dataset).rows[session.index]
        np.testing.assert_array_equal(row, tally(sample.masks, sample.ignore), err_msg=str(step))
    dataset, table = session.dataset, session.tallies(session.dataset)
    for index in range(len(dataset)):  # undo may have changed samples not shown any more
        sample = dataset.sample(index)
        np.testing.assert_array_equal(table.rows[index], tally(sample.masks, sample.ignore))


def test_exported_json_is_the_clis_and_the_snippet_runs(panel, qtbot, tmp_path):  # noqa: F811
    _viewer, widget = panel
    folder = tmp_path / "data"
    assert run_cli("sample", "--out", folder, "--count", "3", "--volumes", "1").returncode == 0
    widget.open_paths(str(folder))
    wait_for_summaries(qtbot, widget)
    stats = widget.statistics
    widget.show_panel(stats)
    stats.beta_edit.setText("0.999")
    stats.beta_edit.editingFinished.emit()
    cli = run_cli("stats", folder, "--json", "--beta", "0.999")
    assert stats.json_text() == cli.stdout.strip()
    assert stats.save(tmp_path / "weights.json")
    assert json.loads((tmp_path / "weights.json").read_text()) == json.loads(cli.stdout)

    stats.scheme_combo.setCurrentText("effective_number")
    assert stats.save(tmp_path / "loss.py")
    code = (tmp_path / "loss.py").read_text()
    assert "#   0 = background\n#   1 = cell\n#   2 = spot" in code
    namespace = {}
    exec(code, namespace)
    expected = json.loads(cli.stdout)["normalized_weights"]["effective_number"]
    assert namespace["CLASS_NAMES"] == ["background", "cell", "spot"]
    np.testing.assert_allclose(namespace["CLASS_WEIGHTS"].numpy(), expected, rtol=1e-5)
    torch.testing.assert_close(namespace["ce_loss"].weight, namespace["CLASS_WEIGHTS"])
    logits, target = torch.randn(2, 3, 8, 8), torch.randint(0, 3, (2, 1, 8, 8))
    assert torch.isfinite(namespace["dice_ce_loss"](logits, target))

    assert not stats.save(tmp_path / "weights.txt")  # only .json or .py
    assert not (tmp_path / "weights.txt").exists()
    stats.beta_edit.setText("1.5")
    stats.beta_edit.editingFinished.emit()
    assert stats.summary.text().startswith("⚠ β must be a number in [0, 1)")


def test_samples_with_other_classes_are_explained_not_mixed(panel, qtbot, tmp_path):  # noqa: F811
    _viewer, widget = panel
    a, b = small_sample(seed=1, name="a"), small_sample(seed=2, name="b")
    b.class_names = ["spot", "cell"]
    widget.open_paths(
        [str(write_npz(tmp_path / "a.npz", a)), str(write_npz(tmp_path / "b.npz", b))]
    )
    wait_for_summaries(qtbot, widget)
    stats = widget.statistics
    widget.show_panel(stats)
    assert stats.summary.text().startswith("⚠ b: classes ['spot', 'cell'] differ from a's")
    widget.show_sample(1)
    stats.scope_combo.setCurrentText("this sample")
    assert panel_counts(stats) == independent_counts(b.masks)
    assert [stats.table.item(r, 0).text() for r in range(3)] == ["■ background", "■ spot", "■ cell"]
