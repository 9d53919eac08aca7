"""How well each conflict rule recovers the truth on occlusion scenes (objects that hide
each other, drawn back to front in one order of the classes), and the learned rule when the
user fixed one region of each combination of classes.

Run: .venv/bin/python benchmarks/bench_precedence.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from test_precedence import occlusion_scenes, one_region_per_combination

from segviewer.core.editing.learning import learn
from segviewer.core.editing.rules import plan

RULES = ("priority", "smallest", "largest", "nearest")


def main() -> None:
    scenes = occlusion_scenes(count=20, shape=(256, 256), seed=1)
    examples, fixed_where = one_region_per_combination(scenes)
    start = time.perf_counter()
    learned = learn(examples)
    seconds = time.perf_counter() - start
    regions = len(learned.decisions)
    print(
        f"20 scenes of 256², 5 classes; the user fixed {regions} regions "
        f"({learned.pixels:,} px); learning took {seconds * 1000:.0f} ms"
    )
    print(f"learned order (first wins): {' > '.join(learned.precedence.order)}")
    for rule in ("learned", *RULES):
        for per_region in (False, True):
            right = total = 0
            for (sample, truth), where in zip(scenes, fixed_where, strict=True):
                found = plan(
                    sample.masks,
                    rule,
                    None,
                    None,
                    learned.precedence,
                    per_region,
                    sample.class_names,
                )
                rest = ~where[found.conflicts]
                right += int((found.winners[rest] == truth[found.conflicts][rest] - 1).sum())
                total += int(rest.sum())
            mode = "per region" if per_region else "per pixel "
            print(
                f"{rule:9s} {mode}: {right / total:6.1%} of {total:,} other conflict pixels right"
            )


if __name__ == "__main__":
    main()
