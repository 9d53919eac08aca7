"""Strokes from real napari Labels layers, applied under every policy, with grouped undo."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from napari.layers import Labels

from segviewer.core.data.sample import Dataset, Sample
from segviewer.core.editing.atoms import roll_back
from segviewer.core.editing.derived import DerivedLayers
from segviewer.core.editing.strokes import AREAS, PaintPolicy
from segviewer.core.workspace import Workspace

stroke = st.tuples(
    st.sampled_from(["brush", "fill", "setitem"]),
    st.integers(-1, 2),  # -1 = the background layer, else a class
    st.integers(0, 1),  # label painted (0 erases)
    st.integers(0, 23),
    st.integers(0, 31),
    st.integers(1, 6),  # brush size
)
policy = st.builds(PaintPolicy, st.booleans(), st.sampled_from(AREAS), st.integers(0, 2))


class Editor:
    """The napari shell's pipeline without Qt: napari paints, the stroke is rolled back and
    given to the real Workspace (as segviewer._napari.edits does)."""

    def __init__(self, masks, policy):
        sample = Sample(
            "s", np.zeros(masks.shape[1:]), masks, [f"c{c}" for c in range(masks.shape[0])]
        )
        self.workspace = Workspace()
        self.workspace.add(Dataset.from_samples("d", [sample]))
        self.workspace.policy = policy
        self.masks, self.derived = masks, self.workspace.derived
        self.layers = [Labels(masks[c]) for c in range(masks.shape[0])]
        self.background = Labels(self.derived.background)
        self.queue = []
        for c, layer in enumerate(self.layers):
            layer.events.paint.connect(lambda e, c=c: self.queue.append((c, e.value)))
        self.background.events.paint.connect(lambda e: self.queue.append((-1, e.value)))

    @property
    def history(self):
        return self.workspace.history()

    def flush(self):
        for c, atoms in reversed(self.queue):
            if c >= 0:
                roll_back(self.masks[c], atoms)
        for c, atoms in self.queue:
            self.workspace.stroke(c if c >= 0 else "background", atoms)
        self.queue.clear()


@settings(max_examples=60, deadline=None)
@given(st.lists(stroke, min_size=1, max_size=10), policy, st.integers(0, 1000))
def test_any_strokes_under_any_policy_keep_everything_exact_and_undoable(strokes, policy, seed):
    masks = (np.random.default_rng(seed).random((3, 24, 32)) > 0.7).astype(np.uint8)
    editor = Editor(masks, policy)
    snapshots = [masks.copy()]
    for kind, c, label, y, x, size in strokes:
        layer = editor.layers[c] if c >= 0 else editor.background
        before = masks.copy()
        if kind == "brush":
            layer.brush_size = size
            layer.paint((y, x), label)
        elif kind == "fill":
            layer.fill((y, x), label)
        else:
            rows = np.arange(y, min(24, y + size))
            layer.data_setitem((rows, np.full(rows.size, x)), label)
        editor.flush()
        fresh = DerivedLayers(masks.copy())
        np.testing.assert_array_equal(editor.derived.background, fresh.background)
        np.testing.assert_array_equal(editor.derived.conflicts, fresh.conflicts)
        changed = (masks != before).any(axis=0)
        claims = before.sum(axis=0)
        if policy.area == "background":
            assert not (changed & (claims != 0)).any()
        elif policy.area == "conflicts":
            assert not (changed & (claims < 2)).any()
        if policy.overwrite and c >= 0 and label == 1:
            painted = (masks[c] == 1) & (before[c] == 0)
            assert (masks.sum(axis=0)[painted] == 1).all()
        if c == -1 and label == 1:
            assert not masks[:, changed].any()  # painted background is in no class
        if masks.tobytes() != snapshots[-1].tobytes():
            snapshots.append(masks.copy())
    for expected in reversed(snapshots[:-1]):
        editor.history.undo()
        np.testing.assert_array_equal(masks, expected)
    assert editor.history.undo() is None
    while editor.history.redo():
        pass
    np.testing.assert_array_equal(masks, snapshots[-1])


def test_background_erase_assigns_the_chosen_class_and_undo_restores_all_classes():
    masks = np.zeros((2, 5, 5), np.uint8)
    masks[0, 0, :] = 1
    masks[1, 0, :2] = 1
    editor = Editor(masks, PaintPolicy(background_fill=1))
    editor.background.data_setitem((np.array([2, 0]), np.array([2, 0])), 0)
    editor.flush()
    assert masks[1, 2, 2] == 1 and masks[0, 2, 2] == 0  # background pixel joined class 1
    assert masks[:, 0, 0].tolist() == [1, 1]  # a labelled pixel is left alone
    editor.background.data_setitem((np.array([0]), np.array([0])), 1)
    editor.flush()
    assert masks[:, 0, 0].tolist() == [0, 0] and editor.derived.background[0, 0] == 1
    editor.history.undo()
    assert masks[:, 0, 0].tolist() == [1, 1]
