"""Class statistics after a brush stroke: the region update against a full recount.

Target (statistics issue): after a brush stroke of radius 50 px the statistics (the
dataset's tallies and every scheme's weights) are updated in ≤ 1 ms, the same at 1024² and
8192². The stroke goes through segviewer's pipeline (roll back napari's write, apply under
the policy); the timed part is what the panel's numbers need: the tally of the stroke's box
before and after, the dataset table's update, and the weights of all six schemes. The full
recount it replaces (tally of the whole sample, same weights) is timed in the same run.
Run: ``python benchmarks/bench_stats_update.py``. Exits 1 if a target is missed.
"""

from __future__ import annotations

import sys
import time

import numpy as np
from bench_derived import best, make_masks, strokes

from segviewer.core.editing.atoms import atom_region, roll_back
from segviewer.core.editing.strokes import PaintPolicy, apply_class_atom
from segviewer.core.stats.classes import TallyTable, tally

TARGET_MS = 1.0
SAMPLES = 8  # the shown sample plus seven others in the dataset table


def setup(size: int) -> tuple[np.ndarray, TallyTable]:
    masks = make_masks(size)
    table = TallyTable([f"s{i}" for i in range(SAMPLES)])
    for index in range(SAMPLES):
        table.set(index, ["a", "b", "c"], tally(masks))
    return masks, table


def update_ms(size: int, count: int = 30) -> float:
    """Median time of the statistics' update after one radius-50 stroke."""
    masks, table = setup(size)
    policy, times = PaintPolicy(overwrite=True), []
    for atoms in strokes(masks, count):
        roll_back(masks[0], atoms)
        for atom in atoms:
            start = time.perf_counter()
            before = tally(masks, None, atom_region(atom, masks.shape[1:]))
            elapsed = time.perf_counter() - start
            region, _change = apply_class_atom(masks, 0, atom, policy)
            start = time.perf_counter()
            table.add(0, tally(masks, None, region) - before)
            table.stats().normalized_weights()
            times.append(elapsed + time.perf_counter() - start)
    assert np.array_equal(table.rows[0], tally(masks)), "incremental tally drifted"
    return 1e3 * float(np.median(times))


def recount_ms(size: int) -> float:
    masks, table = setup(size)

    def recount() -> None:
        table.set(0, ["a", "b", "c"], tally(masks))
        table.stats().normalized_weights()

    return 1e3 * best(recount, repeats=3)


def main() -> int:
    ok = True
    for size in (1024, 8192):
        update, full = update_ms(size), recount_ms(size)
        print(
            f"{size}², 3 classes, radius-50 stroke: update {update:.3f} ms "
            f"(target ≤ {TARGET_MS} ms); full recount {full:.1f} ms; "
            f"speed-up {full / update:,.0f}×"
        )
        ok &= update <= TARGET_MS
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
