"""The Conflicts tab's winners and learning from the user's fixes, in a real napari viewer."""

import numpy as np
import pytest
from test_gui import panel, wait_for_summaries  # noqa: F401 (the fixture)

from segviewer._napari.winners_section import COLUMN
from segviewer.core.data.occlusion import occlusion_sample
from segviewer.core.io.writers import save_samples


@pytest.fixture
def scenes(tmp_path):
    rng = np.random.default_rng(12)
    pairs = [occlusion_sample(rng, (80, 80), f"s{i}") for i in range(3)]
    save_samples([s for s, _ in pairs], tmp_path / "scenes", "masks")
    return tmp_path / "scenes", [t for _, t in pairs]


def test_learn_from_hand_fixes_then_apply_to_the_dataset(panel, qtbot, scenes):  # noqa: F811
    _, widget = panel
    folder, truths = scenes
    widget.open_paths([str(folder)])
    wait_for_summaries(qtbot, widget)
    session, conflicts = widget.session, widget.conflicts
    widget.show_panel(conflicts)
    workspace = session.workspace
    workspace.policy.overwrite, workspace.policy.area = True, "conflicts"
    for c, name in enumerate(session.sample.class_names):  # the user fixes sample 0 by hand
        workspace.paint(name, truths[0] == c + 1)
    conflicts.winners.learn_button.click()
    text = conflicts.winners.learned_label.text()
    assert text.startswith("learned order: 100 % of your ") and "insect > label" in text
    winners = conflicts.winners.table
    assert winners.rowCount() > 0
    chosen = {
        winners.item(r, COLUMN["classes"]).text(): winners.cellWidget(
            r, COLUMN["winner"]
        ).currentText()
        for r in range(winners.rowCount())
    }
    assert chosen["fruit + leaf"] == "fruit" and chosen["insect + stem"] == "insect"

    conflicts.winners.scope_combo.setCurrentIndex(1)  # the whole dataset, one undo step
    conflicts.winners.apply_button.click()
    for index, truth in enumerate(truths):
        masks = session.dataset.sample(index).masks
        assert (masks.sum(axis=0) <= 1).all()
        got = np.where(masks.any(0), masks.argmax(0) + 1, 0)
        assert (got == truth).mean() > 0.999
    widget.editing.undo_button.click()
    assert (session.dataset.sample(1).masks.sum(axis=0) > 1).any()


def test_a_winner_picked_in_the_table_is_applied(panel, qtbot, scenes):  # noqa: F811
    _, widget = panel
    folder, _ = scenes
    widget.open_paths([str(folder)])
    wait_for_summaries(qtbot, widget)
    widget.show_panel(widget.conflicts)
    table = widget.conflicts.winners.table
    qtbot.waitUntil(lambda: table.rowCount() > 0, timeout=3000)
    row = next(
        r
        for r in range(table.rowCount())
        if table.item(r, COLUMN["classes"]).text() == "fruit + leaf"
    )
    table.cellWidget(row, COLUMN["winner"]).setCurrentText("ignore")
    sample = widget.session.sample
    names = sample.class_names
    pair = (sample.masks[names.index("fruit")] & sample.masks[names.index("leaf")]).astype(bool)
    only_pair = pair & (sample.masks.sum(axis=0) == 2)
    widget.conflicts.winners.apply_button.click()
    assert sample.ignore[only_pair].all() and not sample.masks[:, only_pair].any()
    assert (sample.masks.sum(axis=0) <= 1).all()  # the others by the order
    assert widget.session.workspace.precedence().winners == {frozenset({"fruit", "leaf"}): "ignore"}
