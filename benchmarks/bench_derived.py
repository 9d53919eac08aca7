"""Derived background and conflicts: a full derivation, and the update after one stroke.

Targets (conflicts issue):
- deriving both layers for an 8192×8192 sample with 3 classes takes ≤ 2× the time of
  ``np.any(masks, axis=0)`` on the same masks;
- after a brush stroke of radius 50 px, updating them takes ≤ 2 ms, the same at 1024² and
  8192² (the stroke goes through segviewer's editing pipeline: policy, history, derivation).
Run: ``python benchmarks/bench_derived.py``. Exits 1 if a target is missed.
"""

from __future__ import annotations

import sys
import time

import numpy as np
from napari.layers import Labels

from segviewer.core.data.sample import Dataset, Sample
from segviewer.core.editing.atoms import roll_back
from segviewer.core.editing.derived import DerivedLayers
from segviewer.core.editing.strokes import PaintPolicy, apply_class_atom
from segviewer.core.workspace import Workspace

FULL_TARGET, STROKE_TARGET_MS = 2.0, 2.0


def make_masks(size: int, classes: int = 3) -> np.ndarray:
    rng = np.random.default_rng(0)
    small = rng.random((classes, size // 64, size // 64)) > 0.6
    return np.ascontiguousarray(small.repeat(64, axis=1).repeat(64, axis=2)).astype(np.uint8)


def best(function, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def strokes(masks: np.ndarray, count: int):
    """Yield the history atoms of ``count`` radius-50 brush strokes that napari paints on
    class 0 at random places (napari's write is still in ``masks``: roll it back)."""
    layer = Labels(masks[0])
    layer.brush_size = 101  # diameter: radius 50
    events = []
    layer.events.paint.connect(lambda event: events.append(list(event.value)))
    rng, size = np.random.default_rng(1), masks.shape[-1]
    for _ in range(count):
        y, x = rng.integers(60, size - 60, 2)
        layer.paint((y, x), int(rng.integers(0, 2)))
        if events:
            yield events.pop()


def stroke_update_ms(size: int, count: int = 20) -> float:
    """Median time to apply one radius-50 brush stroke and update the derived layers."""
    masks = make_masks(size)
    derived = DerivedLayers(masks)
    policy, times = PaintPolicy(overwrite=True), []
    for atoms in strokes(masks, count):
        start = time.perf_counter()
        roll_back(masks[0], atoms)
        for atom in atoms:
            region, _change = apply_class_atom(masks, 0, atom, policy)
            derived.update(region)
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times))


def workspace_stroke_ms(size: int, count: int = 20) -> float:
    """Median time of the whole edit pipeline the panel runs: roll back napari's write, then
    ``Workspace.stroke`` (policy, undo step, derived layers, tally delta, revision)."""
    masks = make_masks(size)
    image = np.zeros(masks.shape[1:], np.uint8)
    workspace = Workspace()
    workspace.add(Dataset.from_samples("bench", [Sample("s", image, masks, ["a", "b", "c"])]))
    workspace.policy, times = PaintPolicy(overwrite=True), []
    for atoms in strokes(masks, count):
        start = time.perf_counter()
        roll_back(masks[0], atoms)
        workspace.stroke(0, atoms)
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times))


def main() -> int:
    masks = make_masks(8192)
    baseline = best(lambda: np.any(masks, axis=0))
    derived = DerivedLayers(masks)
    full = best(derived.update)
    ratio = full / baseline
    print(
        f"full derivation, 3 classes at 8192²: np.any {baseline * 1e3:.0f} ms, segviewer "
        f"{full * 1e3:.0f} ms, ratio {ratio:.2f} (target ≤ {FULL_TARGET})"
    )
    ok = ratio <= FULL_TARGET
    for size in (1024, 8192):
        ms = stroke_update_ms(size)
        print(f"radius-50 stroke at {size}²: update {ms:.2f} ms (target ≤ {STROKE_TARGET_MS} ms)")
        ok &= ms <= STROKE_TARGET_MS
    for size in (1024, 8192):
        ms = workspace_stroke_ms(size)
        print(f"radius-50 stroke at {size}² through Workspace.stroke (with tallies): {ms:.2f} ms")
        ok &= ms <= STROKE_TARGET_MS
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
