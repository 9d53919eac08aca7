"""The Workspace: any sequence of edits keeps every invariant; its verbs match the CLI's."""

import filecmp
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import segviewer
from segviewer.cli import main
from segviewer.core.data.sample import Dataset, Sample
from segviewer.core.editing.strokes import AREAS, PaintPolicy
from segviewer.core.errors import SegviewerError
from segviewer.core.progress import Cancelled, Progress
from segviewer.core.stats.classes import tally
from segviewer.core.workspace import Workspace

SHAPE = (12, 16)
box = st.tuples(st.integers(0, 11), st.integers(0, 15), st.integers(1, 8), st.integers(1, 8)).map(
    lambda b: (slice(b[0], b[0] + b[2]), slice(b[1], b[1] + b[3]))
)
operation = st.one_of(
    st.tuples(st.just("paint"), st.integers(0, 2), box, st.integers(0, 1)),
    st.tuples(st.just("background"), box, st.integers(0, 1)),
    st.tuples(
        st.just("rule"),
        st.sampled_from((*segviewer.RULES[:4], "ignore", "background")),
        st.sampled_from(["sample", "dataset"]),
    ),
    st.tuples(st.just("undo")),
    st.tuples(st.just("redo")),
    st.tuples(st.just("show"), st.integers(0, 1)),
)
policies = st.builds(PaintPolicy, st.booleans(), st.sampled_from(AREAS), st.integers(0, 2))


def make_workspace(seed: int) -> Workspace:
    rng = np.random.default_rng(seed)
    samples = [
        Sample(
            f"s{i}",
            (rng.random(SHAPE) * 255).astype(np.uint8),
            (rng.random((3, *SHAPE)) > 0.6).astype(np.uint8),
            ["a", "b", "c"],
        )
        for i in range(2)
    ]
    workspace = Workspace()
    workspace.add(Dataset.from_samples("d", samples))
    return workspace


def state(workspace: Workspace) -> list:
    """Every sample's masks and ignore, copied."""
    dataset = workspace.dataset
    out = []
    for i in range(len(dataset)):
        sample = workspace.sample_of(i)
        ignore = None if sample.ignore is None else sample.ignore.copy()
        out.append((sample.masks.copy(), ignore))
    return out


def assert_same(a: list, b: list) -> None:
    for (masks_a, ignore_a), (masks_b, ignore_b) in zip(a, b, strict=True):
        np.testing.assert_array_equal(masks_a, masks_b)
        zeros = np.zeros(masks_a.shape[1:], np.uint8)
        np.testing.assert_array_equal(
            zeros if ignore_a is None else ignore_a, zeros if ignore_b is None else ignore_b
        )


def assert_invariants(workspace: Workspace) -> None:
    sample, derived = workspace.sample, workspace.derived
    claims = sample.masks.sum(axis=0)
    ignored = np.zeros(SHAPE, bool) if sample.ignore is None else sample.ignore > 0
    np.testing.assert_array_equal(derived.background, (claims == 0) & ~ignored)
    codes = sum(sample.masks[c].astype(np.int64) << c for c in range(3))
    np.testing.assert_array_equal(derived.conflicts, np.where(claims >= 2, codes, 0))
    table = workspace.tallies()
    for i in np.flatnonzero(table.known):
        other = workspace.sample_of(int(i))
        expected = [
            int(
                (
                    (other.masks.sum(axis=0) == 0)
                    & ~(np.zeros(SHAPE, bool) if other.ignore is None else other.ignore > 0)
                ).sum()
            ),
            *(int(m.sum()) for m in other.masks),
            int((other.masks.sum(axis=0) >= 2).sum()),
        ]
        assert table.rows[i].tolist() == expected
    if sample.ignore is not None:  # an ignored pixel is in no class
        assert not (sample.masks[:, sample.ignore > 0]).any()


@settings(max_examples=50, deadline=None)
@given(st.lists(operation, min_size=1, max_size=14), policies, st.integers(0, 10_000))
def test_any_sequence_of_edits_keeps_every_invariant_and_undo_is_exact(ops, policy, seed):
    workspace = make_workspace(seed)
    workspace.policy = policy
    undo_states, redo_states = [], []
    for op in ops:
        before = state(workspace)
        kind = op[0]
        if kind == "paint":
            done = workspace.paint("abc"[op[1]], op[2], op[3])
        elif kind == "background":
            done = workspace.paint_background(op[1], op[2])
        elif kind == "rule":
            done = workspace.apply_rule(op[1], op[2]) > 0 or None
        elif kind == "show":
            workspace.show(op[1])
            done = None
        elif kind == "undo":
            if workspace.undo() is None:
                assert not undo_states
            else:
                assert_same(state(workspace), undo_states[-1])
                redo_states.append(before)
                undo_states.pop()
            done = None
        else:
            if workspace.redo() is None:
                assert not redo_states
            else:
                assert_same(state(workspace), redo_states[-1])
                undo_states.append(before)
                redo_states.pop()
            done = None
        if done is not None and kind in ("paint", "background", "rule"):
            undo_states.append(before)
            redo_states.clear()
        assert_invariants(workspace)
    while undo_states:
        assert workspace.undo() is not None
        assert_same(state(workspace), undo_states.pop())


def test_painting_a_class_over_ignore_pixels_makes_them_that_class_and_undo_restores():
    workspace = make_workspace(1)
    workspace.apply_rule("ignore")
    sample = workspace.sample
    ignored = np.argwhere(sample.ignore > 0)[0]
    where = np.zeros(SHAPE, bool)
    where[tuple(ignored)] = True
    counted_before = workspace.tally().copy()
    workspace.paint("b", where)
    assert sample.ignore[tuple(ignored)] == 0 and sample.masks[1][tuple(ignored)] == 1
    np.testing.assert_array_equal(workspace.tally(), tally(sample.masks, sample.ignore))
    workspace.undo()
    assert sample.ignore[tuple(ignored)] == 1
    assert sample.masks[(slice(None), *ignored)].sum() == 0
    np.testing.assert_array_equal(workspace.tally(), counted_before)


def test_painting_background_over_ignore_pixels_makes_them_background():
    workspace = make_workspace(2)
    workspace.apply_rule("ignore")
    sample = workspace.sample
    workspace.paint_background(np.ones(SHAPE, bool))
    assert not sample.ignore.any() and workspace.derived.background.all()


def test_save_writes_the_edits_clears_the_mark_and_keeps_them_in_memory(tmp_path):
    workspace = make_workspace(3)
    workspace.paint("a", (slice(0, 4), slice(0, 4)))
    assert workspace.unsaved() == [0]
    edited = workspace.sample.masks.copy()
    workspace.save(tmp_path / "out", format="masks")
    assert workspace.unsaved() == []
    workspace.show(1)
    workspace.show(0)
    np.testing.assert_array_equal(workspace.sample.masks, edited)  # still the user's edits
    reread = segviewer.open_dataset(str(tmp_path / "out")).sample(0)
    np.testing.assert_array_equal(reread.masks, edited)


def test_open_rule_save_writes_exactly_what_the_cli_resolve_writes(tmp_path):
    assert main(["sample", "--out", str(tmp_path / "data"), "--count", "3", "--volumes", "1"]) == 0
    for fmt in ("index", "onehot"):
        assert (
            main(
                [
                    "resolve",
                    str(tmp_path / "data"),
                    "--rule",
                    "nearest",
                    "--format",
                    fmt,
                    "--out",
                    str(tmp_path / f"cli-{fmt}"),
                ]
            )
            == 0
        )
        workspace = segviewer.Workspace.open(tmp_path / "data")
        workspace.apply_rule("nearest", scope="dataset")
        workspace.save(tmp_path / f"api-{fmt}", format=fmt)
        cli, api = Path(tmp_path / f"cli-{fmt}"), Path(tmp_path / f"api-{fmt}")
        files = sorted(p.relative_to(cli) for p in cli.rglob("*") if p.is_file())
        assert files == sorted(p.relative_to(api) for p in api.rglob("*") if p.is_file())
        assert files and all(filecmp.cmp(cli / f, api / f, shallow=False) for f in files)


def test_conflict_combinations_and_regions_match_an_independent_count():
    workspace = make_workspace(4)
    masks = workspace.sample.masks
    expected = {}
    for y, x in np.argwhere(masks.sum(axis=0) >= 2):
        key = tuple(name for c, name in enumerate("abc") if masks[c, y, x])
        expected[key] = expected.get(key, 0) + 1
    assert workspace.conflict_combinations() == expected
    assert sum(r.size for r in workspace.conflict_regions()) == sum(expected.values())


def test_a_rule_on_the_dataset_is_one_undo_step_over_every_sample():
    workspace = make_workspace(5)
    before = state(workspace)
    resolved = workspace.apply_rule("smallest", scope="dataset")
    assert resolved == sum(int((m.sum(axis=0) >= 2).sum()) for m, _ in before)
    assert workspace.unsaved() == [0, 1]
    assert all((workspace.sample_of(i).masks.sum(axis=0) <= 1).all() for i in range(2))
    workspace.undo()
    assert_same(state(workspace), before)
    assert not workspace.history().can_undo


def test_revisions_count_edits_and_snapshots_do_not_follow_them():
    workspace = make_workspace(6)
    snapshot = workspace.snapshot(0)
    assert workspace.revision(0) == 0
    workspace.paint("a", (slice(0, 12), slice(0, 16)))
    assert workspace.revision(0) == 1 and not snapshot.masks[0].all()
    workspace.undo()
    assert workspace.revision(0) == 2


def test_stats_of_the_dataset_count_every_sample_and_follow_edits():
    workspace = make_workspace(7)
    stats = workspace.stats("dataset")
    assert stats.sample_names == ["s0", "s1"]
    expected = sum(int(workspace.sample_of(i).masks[0].sum()) for i in range(2))
    workspace.paint("a", (slice(0, 2), slice(0, 2)), 0)
    expected -= int(state(make_workspace(7))[0][0][0, :2, :2].sum())
    assert workspace.stats("dataset").counts[1] == expected


def test_progress_reports_and_cancels(tmp_path):
    workspace = make_workspace(8)
    seen = []
    workspace.save(
        tmp_path / "a", format="masks", progress=Progress(lambda d, t, m: seen.append((d, t)))
    )
    assert seen[0] == (0, 2) and seen[-1] == (2, 2)
    with pytest.raises(Cancelled):
        workspace.save(tmp_path / "b", format="masks", progress=Progress(should_stop=lambda: True))
    assert not (tmp_path / "b").exists()  # nothing half-written


def test_bad_verbs_say_what_is_wrong():
    workspace = make_workspace(9)
    with pytest.raises(SegviewerError, match="no class 'z'"):
        workspace.paint("z", (slice(0, 1), slice(0, 1)))
    with pytest.raises(SegviewerError, match="mask of shape"):
        workspace.paint("a", np.ones((3, 3), bool))
    with pytest.raises(SegviewerError, match="no sample 5"):
        workspace.show(5)
    with pytest.raises(SegviewerError, match="no dataset is open"):
        Workspace().stats()


def test_predictions_live_in_memory_mapped_files_that_go_with_them(dataset_folder, tmp_path):
    import os
    from pathlib import Path

    from segviewer.core.model.inference import predict_both
    from segviewer.core.model.registry import open_model

    workspace = Workspace.open(dataset_folder)
    workspace.predict("bundled", scope="dataset")
    found = [workspace.prediction(i) for i in range(len(workspace.dataset))]
    files = {Path(f.labels.filename) for f in found} | {
        Path(f.probabilities.filename) for f in found
    }
    cache = Path(os.environ["SEGVIEWER_CACHE_DIR"])
    assert len(files) == 2 * len(found) and all(cache in p.parents for p in files)
    assert all(p.exists() for p in files)
    sample = workspace.sample_of(0, workspace.dataset)
    model = open_model("bundled", ["background", *sample.class_names])
    labels, probabilities = predict_both(model, sample.image, None)
    np.testing.assert_array_equal(found[0].labels, labels)
    np.testing.assert_array_equal(found[0].probabilities, probabilities)
    assert not found[0].labels.flags.writeable  # nobody edits a prediction in place
    workspace.predict("bundled")  # the shown sample again: its old files go
    assert not Path(found[workspace.index].labels.filename).exists()
    workspace.close(workspace.dataset)
    assert not any(p.exists() for p in files)


def test_stats_of_a_folder_come_from_the_summary_index_once_counted(dataset_folder):
    first = Workspace.open(dataset_folder)
    expected = [
        tally(first.sample_of(i).masks, first.sample_of(i).ignore)
        for i in range(len(first.dataset))
    ]
    stats = Workspace.open(dataset_folder).stats()  # counts the samples, fills the index
    np.testing.assert_array_equal(stats.tallies, np.stack(expected))
    reopened = Workspace.open(dataset_folder)
    reads = []
    for ref in reopened.dataset.refs:
        ref.load = lambda load=ref.load, name=ref.name: reads.append(name) or load()
    again = reopened.stats()
    assert reads == []  # every sample not counted yet came from the index
    np.testing.assert_array_equal(again.tallies, stats.tallies)
    assert again.sample_names == stats.sample_names
    fresh = Workspace.open(dataset_folder)
    for ref in fresh.dataset.refs:
        ref.load = lambda load=ref.load, name=ref.name: reads.append(name) or load()
    assert fresh.stats(index=False).tallies.tolist() == stats.tallies.tolist()
    assert len(reads) == len(fresh.dataset) - 1  # without the index: all but the shown one
