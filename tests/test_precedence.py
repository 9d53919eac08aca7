"""Winners tables, precedence learned from fixes, per-region decisions (issue 17)."""

import json
import re

import numpy as np
import pytest
from skimage.measure import label as connected

from segviewer.core.data.occlusion import OCCLUSION_DEPTH, occlusion_sample
from segviewer.core.editing.learning import Example, agreement, compare_rules, learn
from segviewer.core.editing.precedence import Precedence
from segviewer.core.editing.rules import WINNER_BACKGROUND, WINNER_IGNORE, plan
from segviewer.core.errors import SegviewerError


def occlusion_scenes(count=8, shape=(96, 96), seed=5):
    rng = np.random.default_rng(seed)
    return [occlusion_sample(rng, shape, f"s{i}") for i in range(count)]


def codes_of(masks):
    """Per pixel, the bitmask of the classes claiming it (conflicts only, else 0)."""
    weights = (1 << np.arange(masks.shape[0])).reshape((-1,) + (1,) * (masks.ndim - 1))
    codes = (masks.astype(np.int64) * weights).sum(axis=0)
    return np.where(masks.sum(axis=0) > 1, codes, 0)


def one_region_per_combination(scenes):
    """Examples that fix, with the truth, one connected region of each combination (the
    first met), and the mask of every pixel so fixed per sample."""
    seen, examples, fixed_where = set(), [], []
    for sample, truth in scenes:
        codes, fixed = codes_of(sample.masks), sample.masks.copy()
        where = np.zeros(codes.shape, bool)
        for code in np.unique(codes[codes > 0]).tolist():
            if code in seen:
                continue
            seen.add(code)
            region = connected(codes == code, connectivity=codes.ndim) == 1
            where |= region
            for c in range(sample.masks.shape[0]):
                fixed[c][region] = truth[region] == c + 1
        examples.append(Example(sample.name, sample.class_names, sample.masks, fixed))
        fixed_where.append(where)
    return examples, fixed_where


@pytest.mark.parametrize("shape", [(96, 96), (20, 32, 32)])
def test_learned_rule_recovers_the_occlusion_order_from_one_region_per_combination(shape):
    scenes = occlusion_scenes(count=8, shape=shape)
    examples, fixed_where = one_region_per_combination(scenes)
    learned = learn(examples)
    assert learned.contradictions == []
    right = total = 0
    for (sample, truth), where in zip(scenes, fixed_where, strict=True):
        resolution = plan(
            sample.masks, "learned", precedence=learned.precedence, class_names=sample.class_names
        )
        rest = ~where[resolution.conflicts]
        right += int((resolution.winners[rest] == truth[resolution.conflicts][rest] - 1).sum())
        total += int(rest.sum())
    assert total > 500
    assert right / total >= 0.99
    # the order found is the true one, front first, wherever the fixes compared two classes
    front_first = list(reversed(OCCLUSION_DEPTH))
    assert learned.precedence.order == front_first


def test_comparison_equals_a_pixel_by_pixel_count():
    scenes = occlusion_scenes(count=3)
    examples, _ = one_region_per_combination(scenes)
    learned = learn(examples)
    for found in compare_rules(learned, per_region=False):
        agreeing = total = 0
        for example in examples:
            winners = plan(
                example.original,
                found.rule,
                precedence=learned.precedence,
                class_names=example.class_names,
            )
            for pixel, winner in zip(
                zip(*winners.conflicts, strict=True), winners.winners, strict=True
            ):
                after = example.fixed[(slice(None), *pixel)]
                if after.sum() > 1:
                    continue  # not fixed
                outcome = int(np.argmax(after)) if after.sum() == 1 else WINNER_BACKGROUND
                if outcome >= 0 and not example.original[(outcome, *pixel)]:
                    continue  # given to a class outside the combination
                agreeing += int(winner == outcome)
                total += 1
        assert (found.agreeing, found.total) == (agreeing, total), found.rule
    assert total == learned.pixels


def two_class_example(winners_by_region, names=("a", "b"), name="x"):
    """Masks of two fully overlapping classes in separate squares, fixed square by square."""
    masks = np.zeros((len(names), 20, 20 * len(winners_by_region)), np.uint8)
    fixed = masks.copy()
    for k, winner in enumerate(winners_by_region):
        box = (slice(5, 15), slice(20 * k + 5, 20 * k + 15))
        masks[(slice(None), *box)] = 1
        fixed[(names.index(winner), *box)] = 1
    return Example(name, list(names), masks, fixed)


def test_contradicting_regions_are_reported_with_the_regions_not_averaged():
    learned = learn([two_class_example(["a", "a", "b"])])
    (report,) = learned.contradictions
    assert report.startswith("a + b: regions decided differently")
    assert "x at 5:15×5:15 (100 px → a)" in report and "x at 5:15×45:55 (100 px → b)" in report
    assert learned.precedence.winners[frozenset("ab")] == "a"  # the majority, and said so


def test_a_cycle_of_wins_is_reported_and_broken():
    examples = [
        two_class_example(["a"], ("a", "b", "c"), "ab"),
        Example("bc", *_pair("b", "c", ("a", "b", "c"))),
        Example("ca", *_pair("c", "a", ("a", "b", "c"))),
    ]
    learned = learn(examples)
    assert any(
        "a cycle" in c and "a beats b" in c and "c beats a" in c for c in learned.contradictions
    )
    assert sorted(learned.precedence.order) == ["a", "b", "c"]


def _pair(winner, loser, names):
    masks = np.zeros((3, 10, 10), np.uint8)
    masks[names.index(winner), 2:6, 2:6] = masks[names.index(loser), 2:6, 2:6] = 1
    fixed = masks.copy()
    fixed[names.index(loser)] = 0
    return list(names), masks, fixed


def test_ignore_and_background_outcomes_are_learned():
    masks = np.zeros((2, 10, 30), np.uint8)
    masks[:, 2:8, 2:8] = masks[:, 2:8, 12:18] = 1
    fixed = masks.copy()
    fixed[:, 2:8, 2:18] = 0
    ignore = np.zeros((10, 30), np.uint8)
    ignore[2:8, 2:8] = ignore[2:8, 20:25] = 1
    learned = learn([Example("x", ["a", "b"], masks, fixed, ignore)])
    assert learned.precedence.winners[frozenset("ab")] in ("ignore", "background")
    assert learned.pixels == 72 and len(learned.contradictions) == 1
    codes = agreement(learned.evidence, "learned", learned.precedence).per_combination
    assert codes[frozenset("ab")] == (36, 72)
    assert WINNER_IGNORE != WINNER_BACKGROUND


def test_per_region_gives_every_region_whole_to_its_majority():
    rng = np.random.default_rng(2)
    sample, _ = occlusion_sample(rng, (80, 80), "r")
    for rule in ("nearest", "smallest", "priority"):
        pixelwise = plan(sample.masks, rule)
        whole = plan(sample.masks, rule, per_region=True)
        codes = codes_of(sample.masks)
        regions = np.zeros(codes.shape, np.int64)
        for code in np.unique(codes[codes > 0]):
            found = connected(codes == code, connectivity=2)
            regions[found > 0] = found[found > 0] + regions.max()
        ids = regions[whole.conflicts]
        for region in np.unique(ids):
            inside = ids == region
            assert len(set(whole.winners[inside].tolist())) == 1
            values, counts = np.unique(pixelwise.winners[inside], return_counts=True)
            assert whole.winners[inside][0] in values[counts == counts.max()]


def test_precedence_json_round_trip_and_bad_files(tmp_path):
    precedence = Precedence({frozenset(["a", "b"]): "b", frozenset("abc"): "ignore"}, ["c", "a"])
    assert Precedence.from_json(precedence.to_json()) == precedence
    bare = Precedence.from_json(json.dumps([{"classes": ["a", "b"], "winner": "a"}]))
    assert bare.winners == {frozenset("ab"): "a"} and bare.order == []
    bad = {
        "{": "not valid JSON",
        '{"winners": 3}': "expected",
        '[{"classes": ["a"], "winner": "a"}]': "two or more classes",
        '[{"classes": ["a", "b"], "winner": "c"}]': "'c' is not one of ['a', 'b']",
        '[{"classes": ["a", "b"]}]': "winner 1 is not",
        '{"order": "ab"}': "'order' must be a list",
    }
    for text, message in bad.items():
        with pytest.raises(SegviewerError, match=re.escape(message)):
            Precedence.from_json(text, "p.json")
    with pytest.raises(SegviewerError, match="names 'z', which the data does not have"):
        Precedence({frozenset("az"): "a"}).check_classes(["a", "b"], "p.json")


def test_workspace_learns_from_hand_fixes_and_resolves_the_rest(tmp_path):
    import segviewer
    from segviewer.core.data.sample import Dataset

    scenes = occlusion_scenes(count=4, seed=12)
    workspace = segviewer.Workspace()
    workspace.add(Dataset.from_samples("occlusion", [s for s, _ in scenes]))
    workspace.policy.overwrite, workspace.policy.area = True, "conflicts"
    sample, truth = scenes[0]
    before = sample.masks.copy()
    left_half = np.zeros(truth.shape, bool)
    left_half[:, : truth.shape[1] // 2] = True
    for c, name in enumerate(sample.class_names):  # the user fixes the left half by hand
        workspace.paint(name, left_half & (truth == c + 1))
    assert workspace.examples() == [0]
    learned = workspace.learn_precedence()
    fixed = int(((before.sum(axis=0) > 1) & left_half).sum())
    assert learned.pixels == fixed
    _, line = workspace.compare_rules()
    assert line.startswith(f"learned order: 100 % of your {fixed:,} fixed pixels · priority ")
    steps = len(workspace.history()._undo)
    workspace.apply_rule("learned", "sample")  # the rest of the sample, as one step
    assert len(workspace.history()._undo) == steps + 1
    conflicts = before.sum(axis=0) > 1
    got = np.where(sample.masks.any(0), sample.masks.argmax(0) + 1, 0)
    assert (got[conflicts & ~left_half] == truth[conflicts & ~left_half]).mean() >= 0.99
    workspace.undo()
    assert (sample.masks.sum(axis=0)[conflicts & ~left_half] > 1).all()
    out = workspace.save(tmp_path / "out", format="masks", scope="sample")
    assert Precedence.load(out / "precedence.json") == learned.precedence
    # a sample fixed by a rule teaches nothing until the user marks it as an example
    workspace.show(1)
    workspace.apply_rule("priority", "sample")
    assert workspace.examples() == [0]
    workspace.mark_example()
    assert workspace.examples() == [0, 1]
