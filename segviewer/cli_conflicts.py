"""``segviewer conflicts``: the conflict regions and the pixels of each class combination."""

from __future__ import annotations

import argparse
import json

from segviewer.cli_output import columns, progress_bar, warn


def add_conflicts_command(commands) -> None:
    conflicts = commands.add_parser(
        "conflicts", help="conflict regions and pixels per combination of classes"
    )
    conflicts.add_argument("paths", nargs="+", metavar="PATH", help="files or dataset folders")
    conflicts.add_argument("--json", action="store_true", help="print one JSON object")
    conflicts.add_argument(
        "--regions", type=int, default=5, metavar="N", help="largest regions shown per sample (5)"
    )
    conflicts.add_argument("--class-axis", choices=["auto", "first", "last"], default="auto")
    conflicts.set_defaults(run=cmd_conflicts)


def sample_conflicts(sample) -> dict:
    """One sample's conflict regions (largest first) and pixels per class combination."""
    from segviewer.core.editing.derived import DerivedLayers
    from segviewer.core.editing.regions import conflict_regions
    from segviewer.core.workspace import combination_counts

    conflicts = DerivedLayers(sample.masks, sample.ignore).conflicts
    names = sample.class_names
    return {
        "name": sample.name,
        "combinations": [
            {"classes": list(classes), "pixels": pixels}
            for classes, pixels in combination_counts(conflicts, names).items()
        ],
        "regions": [
            {
                "size": region.size,
                "classes": [names[c] for c in region.classes],
                "bbox": [[s.start, s.stop] for s in region.bbox],
                "centre": [round(c, 2) for c in region.centre],
            }
            for region in conflict_regions(conflicts)
        ],
    }


def cmd_conflicts(args: argparse.Namespace) -> int:
    from segviewer.core.io.readers import open_dataset

    dataset = open_dataset(args.paths, class_axis=args.class_axis, warn=warn)
    samples = progress_bar(dataset, "finding conflicts", len(dataset))
    records = [sample_conflicts(sample) for sample in samples]
    totals: dict[tuple[str, ...], int] = {}
    for record in records:
        for combination in record["combinations"]:
            key = tuple(combination["classes"])
            totals[key] = totals.get(key, 0) + combination["pixels"]
    ordered = sorted(totals.items(), key=lambda kv: -kv[1])
    if args.json:
        combos = [{"classes": list(k), "pixels": n} for k, n in ordered]
        print(json.dumps({"combinations": combos, "samples": records}))
        return 0
    rows = [["classes", "pixels"], *([" + ".join(k), f"{n:,}"] for k, n in ordered)]
    print(f"{len(records)} samples; {sum(totals.values()):,} conflict pixels")
    print(columns(rows, left=1) if ordered else "no conflicts")
    for record in records:
        regions = record["regions"]
        shown = ", ".join(
            f"{r['size']:,} px of {' + '.join(r['classes'])} at "
            + "×".join(f"{a}:{b}" for a, b in r["bbox"])
            for r in regions[: args.regions]
        )
        largest = f"; largest: {shown}" if shown else ""
        print(f"{record['name']}: {len(regions)} regions{largest}")
    return 0
