"""Learn a conflict precedence from the user's own fixes, and score every rule against them.

An :class:`Example` is a sample as it was (its original masks) beside the user's fixed
version. Every original conflict pixel that the fix left in at most one class is
*evidence*: its combination of classes and the *outcome* the user chose (a class,
``ignore`` or ``background``; a class outside the combination counts apart). Learning:

1. each combination's winner is the outcome of most of its fixed pixels;
2. each connected region of one combination is one decision (the outcome of most of its
   pixels); regions of one combination that decided differently are *contradictions*,
   reported with the regions, never averaged away silently;
3. every winner beats the other classes of its combination; the global order is a
   topological order of those wins (ties: the priority order). A cycle of wins (a > b,
   b > c, c > a) is reported too and broken at its weakest class.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from segviewer.core.data.masks import coverage
from segviewer.core.editing.precedence import (
    WINNER_BACKGROUND,
    WINNER_IGNORE,
    Combination,
    Precedence,
    combinations_of,
    region_ids,
    winner_name,
)
from segviewer.core.editing.rules import plan, priority_order

ELSEWHERE = -3  # outcome code: the user gave the pixel to a class outside its combination
COMPARED_RULES = ("learned", "priority", "smallest", "largest", "nearest")


@dataclass
class Example:
    """A sample's masks as they were, and as the user fixed them."""

    name: str
    class_names: list[str]
    original: np.ndarray  # (C, *spatial) uint8
    fixed: np.ndarray  # (C, *spatial) uint8
    fixed_ignore: np.ndarray | None = None


@dataclass
class Evidence:
    """One example's fixed conflict pixels, in the order of ``plan``'s conflicts."""

    example: Example
    fixed: np.ndarray  # (n_conflicts,) bool: the user resolved this conflict pixel
    outcome: np.ndarray  # (n_conflicts,) outcome code (class, WINNER_…, ELSEWHERE)
    combinations: list[tuple[int, ...]]
    combination: np.ndarray  # (n_conflicts,) number into ``combinations``
    region: np.ndarray  # (n_conflicts,) region number (pixels of one combination, connected)
    conflicts: tuple[np.ndarray, ...]


@dataclass
class Decision:
    """One fixed region: where it is and what the user gave most of its pixels to."""

    sample: str
    classes: tuple[str, ...]
    outcome: str
    pixels: int
    bbox: tuple[tuple[int, int], ...]

    def describe(self) -> str:
        box = "×".join(f"{a}:{b}" for a, b in self.bbox)
        return f"{self.sample} at {box} ({self.pixels:,} px → {self.outcome})"


@dataclass
class Learned:
    """What the fixes say: the precedence, its evidence and what contradicts itself."""

    precedence: Precedence
    pixels: int  # fixed conflict pixels (outcome inside the combination, ignore, background)
    elsewhere: int  # fixed pixels given to a class outside their combination (not used)
    decisions: list[Decision] = field(default_factory=list)
    contradictions: list[str] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list, repr=False)


@dataclass
class Agreement:
    """How many of the user's fixed pixels a rule gives the same outcome, overall and per
    combination (class names → (agreeing, total))."""

    rule: str
    agreeing: int
    total: int
    per_combination: dict[Combination, tuple[int, int]]

    @property
    def fraction(self) -> float:
        return self.agreeing / self.total if self.total else float("nan")


def evidence_of(example: Example) -> Evidence:
    """The pixels that were conflicts and are not any more, with the user's outcome."""
    original = example.original
    conflicts = np.nonzero(coverage(original) > 1)
    claimed = original[(slice(None), *conflicts)].astype(bool)
    after = example.fixed[(slice(None), *conflicts)].astype(bool)
    claims_after = after.sum(axis=0)
    ignored = (
        example.fixed_ignore[conflicts].astype(bool)
        if example.fixed_ignore is not None
        else np.zeros(claims_after.shape, bool)
    )
    fixed = claims_after <= 1
    outcome = np.where(ignored, WINNER_IGNORE, WINNER_BACKGROUND).astype(np.int64)
    owned = claims_after == 1
    owner = np.argmax(after, axis=0)
    outcome[owned] = np.where(claimed[owner[owned], np.flatnonzero(owned)], owner[owned], ELSEWHERE)
    combinations, combination = combinations_of(claimed)
    region = region_ids(conflicts, combination, original.shape[1:])
    return Evidence(example, fixed, outcome, combinations, combination, region, conflicts)


def learn(examples: Iterable[Example], priority: Sequence[str] | None = None) -> Learned:
    """The precedence the examples' fixes follow (see the module's docstring)."""
    evidence = [evidence_of(example) for example in examples]
    names: list[str] = evidence[0].example.class_names if evidence else []
    outcomes: dict[Combination, dict[str, int]] = {}
    decisions: dict[Combination, list[Decision]] = {}
    elsewhere = 0
    for found in evidence:
        elsewhere += int((found.fixed & (found.outcome == ELSEWHERE)).sum())
        for decision, pixel_outcomes in _decisions(found):
            combination = frozenset(decision.classes)
            tally = outcomes.setdefault(combination, {})
            for outcome, pixels in pixel_outcomes.items():
                tally[outcome] = tally.get(outcome, 0) + pixels
            decisions.setdefault(combination, []).append(decision)
    winners = {c: max(t, key=lambda o: (t[o], o)) for c, t in outcomes.items()}
    contradictions = [
        f"{' + '.join(sorted(c))}: regions decided differently: "
        + "; ".join(d.describe() for d in sorted(found, key=lambda d: d.outcome))
        for c, found in sorted(decisions.items(), key=lambda kv: sorted(kv[0]))
        if len({d.outcome for d in found}) > 1
    ]
    order, cycles = _global_order(winners, outcomes, names, priority)
    precedence = Precedence(winners, order)
    every = [d for found in decisions.values() for d in found]
    pixels = sum(sum(t.values()) for t in outcomes.values())
    return Learned(precedence, pixels, elsewhere, every, contradictions + cycles, evidence)


def _decisions(found: Evidence):
    """Per fixed region: a Decision and its pixels per outcome name."""
    names = found.example.class_names
    usable = found.fixed & (found.outcome != ELSEWHERE)
    for region in np.unique(found.region[usable]).tolist():
        members = usable & (found.region == region)
        codes, counts = np.unique(found.outcome[members], return_counts=True)
        pixel_outcomes = {
            winner_name(int(code), names): int(n)
            for code, n in zip(codes.tolist(), counts.tolist(), strict=True)
        }
        combination = found.combinations[int(found.combination[members][0])]
        points = [axis[members] for axis in found.conflicts]
        decision = Decision(
            found.example.name,
            tuple(names[c] for c in combination),
            max(pixel_outcomes, key=lambda o: (pixel_outcomes[o], o)),
            int(members.sum()),
            tuple((int(p.min()), int(p.max()) + 1) for p in points),
        )
        yield decision, pixel_outcomes


def _global_order(winners, outcomes, names, priority) -> tuple[list[str], list[str]]:
    """A topological order of the wins (ties: priority order); the cycles it had to break."""
    rank = {names[c]: i for i, c in enumerate(priority_order(names, priority))} if names else {}
    beats: dict[tuple[str, str], int] = {}  # (winner, loser) -> pixels
    for combination, winner in winners.items():
        if winner in combination:
            for loser in combination - {winner}:
                beats[winner, loser] = beats.get((winner, loser), 0) + outcomes[combination][winner]
    remaining, order, cycles = list(names), [], []
    while remaining:
        free = [c for c in remaining if not any((o, c) in beats for o in remaining if o != c)]
        if free:
            chosen = min(free, key=rank.__getitem__)
        else:  # every class left is beaten by another: a cycle of wins
            chosen, report = _break_cycle(beats, remaining, rank)
            cycles.append(report)
        order.append(chosen)
        remaining.remove(chosen)
    return order, cycles


def _break_cycle(beats, remaining: list[str], rank) -> tuple[str, str]:
    """The class to order first among ``remaining`` (most pixels won minus lost), and a
    report of the wins between them."""
    stuck = [(w, lo, n) for (w, lo), n in beats.items() if w in remaining and lo in remaining]
    net = {c: sum(n if w == c else -n for w, lo, n in stuck if c in (w, lo)) for c in remaining}
    chosen = max(remaining, key=lambda c: (net[c], -rank[c]))
    wins = "; ".join(f"{w} beats {lo} ({n:,} px)" for w, lo, n in sorted(stuck))
    return chosen, f"wins that contradict each other (a cycle): {wins}; ordered {chosen} first"


def agreement(
    evidence: Sequence[Evidence],
    rule: str,
    precedence: Precedence | None = None,
    priority: Sequence[str] | None = None,
    per_region: bool = False,
) -> Agreement:
    """How many fixed pixels ``rule``, run on the original masks, gives the user's outcome."""
    per: dict[Combination, list[int]] = {}
    for found in evidence:
        example = found.example
        order = priority_order(example.class_names, priority)
        winners = plan(
            example.original, rule, order, None, precedence, per_region, example.class_names
        ).winners
        usable = found.fixed & (found.outcome != ELSEWHERE)
        same = winners == found.outcome
        for k, combination in enumerate(found.combinations):
            members = usable & (found.combination == k)
            if members.any():
                key = frozenset(example.class_names[c] for c in combination)
                counts = per.setdefault(key, [0, 0])
                counts[0] += int(same[members].sum())
                counts[1] += int(members.sum())
    table = {k: (a, t) for k, (a, t) in per.items()}
    return Agreement(
        rule, sum(a for a, _ in table.values()), sum(t for _, t in table.values()), table
    )


def compare_rules(
    learned: Learned,
    priority: Sequence[str] | None = None,
    per_region: bool = False,
    rules: Sequence[str] = COMPARED_RULES,
) -> list[Agreement]:
    """Every rule's agreement with the fixes the precedence was learned from."""
    return [
        agreement(learned.evidence, rule, learned.precedence, priority, per_region)
        for rule in rules
    ]


def comparison_line(learned: Learned, agreements: Sequence[Agreement]) -> str:
    """'learned order: 100 % of your 1,234 fixed pixels · smallest 71 % · nearest 30 %'."""
    if not learned.pixels:
        return "no fixed conflict pixels yet: fix some conflicts by hand, or mark examples"
    parts = [f"{a.rule} {a.fraction:.0%}".replace("%", " %") for a in agreements]
    first, *rest = parts
    first = first.replace("learned", "learned order:", 1)
    return f"{first} of your {learned.pixels:,} fixed pixels" + "".join(f" · {p}" for p in rest)
