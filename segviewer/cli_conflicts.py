"""``segviewer conflicts``: the conflict regions and the pixels of each class combination."""

from __future__ import annotations

import argparse
import json

from segviewer.cli_output import add_engine_arguments, columns, engine_spec, warn


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
    add_engine_arguments(conflicts)
    conflicts.set_defaults(run=cmd_conflicts)


def cmd_conflicts(args: argparse.Namespace) -> int:
    from segviewer.core.editing.regions import conflict_record
    from segviewer.core.io.readers import open_dataset
    from segviewer.core.jobs import map_records
    from segviewer.core.progress import tqdm_progress

    dataset = open_dataset(args.paths, class_axis=args.class_axis, warn=warn)
    with tqdm_progress("finding conflicts") as progress:
        records = map_records(dataset, conflict_record, engine_spec(args), progress)
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
