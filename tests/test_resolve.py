"""Conflict rules against per-pixel reference implementations, and their invariants."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from segviewer.core.editing.precedence import Precedence
from segviewer.core.editing.rules import (
    RULES,
    WINNER_BACKGROUND,
    WINNER_IGNORE,
    apply,
    describe,
    plan,
    priority_order,
)
from segviewer.core.errors import SegviewerError


def model_probabilities(masks):
    """Coarse made-up class probabilities (background first), so that ties happen."""
    rng = np.random.default_rng(masks.size)
    return rng.integers(0, 4, (masks.shape[0] + 1, *masks.shape[1:])) / 4


def names_of(masks):
    return [f"c{c}" for c in range(masks.shape[0])]


def made_up_precedence(masks):
    """A precedence with winners for some combinations and an order of some classes."""
    rng = np.random.default_rng(masks.size + 7)
    names, winners = names_of(masks), {}
    for _ in range(3):
        chosen = [n for n in names if rng.random() < 0.6]
        if len(chosen) >= 2:
            winners[frozenset(chosen)] = str(rng.choice([*chosen, "ignore", "background"]))
    order = [str(n) for n in rng.permutation(names)[: len(names) // 2]]
    return Precedence(winners, order)


def reference_winner(masks, pixel, rule, order):
    """Independent, pixel by pixel: who gets a conflict pixel under ``rule``."""
    claimers = [c for c in range(masks.shape[0]) if masks[(c, *pixel)]]
    by_priority = sorted(claimers, key=order.index)
    if rule in ("table", "learned"):
        precedence, names = made_up_precedence(masks), names_of(masks)
        winner = precedence.winners.get(frozenset(names[c] for c in claimers))
        if winner is not None:
            special = {"ignore": WINNER_IGNORE, "background": WINNER_BACKGROUND}
            return special.get(winner, names.index(winner) if winner in names else None)
        first = [names.index(n) for n in precedence.order]
        return sorted(claimers, key=lambda c: (first + order).index(c))[0]
    if rule == "model":
        probability = {c: model_probabilities(masks)[(c + 1, *pixel)] for c in claimers}
        return next(c for c in by_priority if probability[c] == max(probability.values()))
    if rule == "ignore":
        return WINNER_IGNORE
    if rule == "background":
        return WINNER_BACKGROUND
    if rule == "priority":
        return by_priority[0]
    if rule in ("smallest", "largest"):
        area = {c: int(masks[c].sum()) for c in claimers}
        best = min(area.values()) if rule == "smallest" else max(area.values())
        return next(c for c in by_priority if area[c] == best)
    claims = masks.sum(axis=0)
    distance = {}
    for c in claimers:
        own = np.argwhere((masks[c] == 1) & (claims == 1))
        distance[c] = (
            min(
                np.sqrt(sum((p - q) ** 2 for p, q in zip(pixel, point, strict=True)))
                for point in own
            )
            if len(own)
            else np.inf
        )
    best = min(distance.values())
    return next(c for c in by_priority if distance[c] == best)


def check_rule(masks, rule, order):
    before = masks.copy()
    resolution = plan(
        masks,
        rule,
        order,
        model_probabilities(masks),
        made_up_precedence(masks),
        class_names=names_of(masks),
    )
    conflict_pixels = [tuple(p) for p in np.argwhere(before.sum(axis=0) > 1)]
    assert [tuple(p) for p in zip(*resolution.conflicts, strict=True)] == conflict_pixels
    for pixel, winner in zip(conflict_pixels, resolution.winners.tolist(), strict=True):
        assert winner == reference_winner(before, pixel, rule, order), (pixel, rule)
    ignore = apply(masks, resolution)
    claims = masks.sum(axis=0)
    assert claims.max(initial=0) <= 1  # exclusive
    untouched = before.sum(axis=0) <= 1
    np.testing.assert_array_equal(masks[:, untouched], before[:, untouched])
    ignored = np.zeros(claims.shape, bool) if ignore is None else ignore.astype(bool)
    assert (claims[ignored] == 0).all()
    background = (claims == 0) & ~ignored
    # with background (and ignore) the classes cover every pixel exactly once
    assert (claims + background + ignored == 1).all()
    assert sum(resolution.gains.values()) == len(conflict_pixels)


masks_strategy = arrays(
    np.uint8,
    st.tuples(st.integers(1, 4), st.integers(1, 7), st.integers(1, 7)),
    elements=st.integers(0, 1),
)


@settings(max_examples=80, deadline=None)
@given(masks_strategy, st.sampled_from(RULES), st.randoms(use_true_random=False))
def test_every_rule_matches_the_reference_and_leaves_exclusive_labels(masks, rule, random):
    order = list(range(masks.shape[0]))
    random.shuffle(order)
    check_rule(masks, rule, order)


@pytest.mark.parametrize("rule", RULES)
def test_rules_in_3d_and_with_an_empty_class(rule):
    masks = (np.random.default_rng(1).random((3, 4, 6, 5)) > 0.5).astype(np.uint8)
    masks[2] = 0
    check_rule(masks, rule, [2, 1, 0])


def test_nearest_prefers_the_class_that_surrounds_the_pixel():
    masks = np.zeros((2, 1, 9), np.uint8)
    masks[0, 0, :4] = 1  # class 0 owns columns 0-3
    masks[1, 0, 6:] = 1  # class 1 owns columns 6-8
    masks[:, 0, 4] = 1  # conflict next to class 0
    masks[:, 0, 5] = 1  # conflict next to class 1
    resolution = plan(masks, "nearest")
    assert resolution.winners.tolist() == [0, 1]
    assert describe(resolution, ["a", "b"]) == "a → b: 1 px; b → a: 1 px"


def test_priority_order_and_bad_names():
    assert priority_order(["cell", "spot", "x"], ["spot"]) == [1, 0, 2]
    assert priority_order(["cell", "spot"], None) == [0, 1]
    with pytest.raises(
        SegviewerError,
        match="unknown class 'nucleus' in the priority order; the classes are: cell, spot",
    ):
        priority_order(["cell", "spot"], ["nucleus"])
    with pytest.raises(SegviewerError, match="unknown rule 'coin'; expected one of: priority"):
        plan(np.zeros((2, 3, 3), np.uint8), "coin")


def test_no_conflicts_is_a_noop_and_says_so():
    masks = np.zeros((2, 3, 3), np.uint8)
    masks[0, 0] = 1
    resolution = plan(masks, "priority")
    assert resolution.n_conflicts == 0 and describe(resolution, ["a", "b"]).startswith(
        "no conflicts"
    )
    before = masks.copy()
    assert apply(masks, resolution) is None and np.array_equal(masks, before)


def test_model_rule_gives_each_conflict_pixel_to_the_most_probable_claimant():
    masks = np.zeros((3, 1, 4), np.uint8)
    masks[0, 0, :3] = 1
    masks[1, 0, 1:] = 1
    masks[2, 0, 2] = 1  # pixel 2 is claimed by all three classes
    probabilities = np.array(
        [
            [0.1, 0.1, 0.1, 0.1],  # background (never a winner)
            [0.5, 0.2, 0.3, 0.4],
            [0.4, 0.7, 0.3, 0.5],
            [0.0, 0.0, 0.3, 0.0],  # a three-way tie at pixel 2: priority order decides
        ]
    )[:, None, :]
    resolution = plan(masks, "model", [2, 0, 1], probabilities)
    assert resolution.conflicts[1].tolist() == [1, 2]
    assert resolution.winners.tolist() == [1, 2]
    with pytest.raises(SegviewerError, match="'model' rule needs a model's class probabilities"):
        plan(masks, "model")
