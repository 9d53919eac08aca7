"""``segviewer resolve``: resolve conflicts by rule, by a winners table, or by a precedence
learned from the user's own fixes (``--examples``), and compare the rules (``--compare``)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from segviewer.cli_output import add_engine_arguments, columns, engine_spec, fail, warn
from segviewer.core.progress import tqdm_progress

RULES_HELP = "priority, smallest, largest, nearest, model, table, learned, ignore or background"


def add_resolve_command(commands) -> None:
    resolve = commands.add_parser("resolve", help="resolve conflicts by rule and save labels")
    resolve.add_argument("paths", nargs="+", metavar="PATH", help="files or dataset folders")
    resolve.add_argument("--rule", help=RULES_HELP)
    resolve.add_argument(
        "--precedence",
        type=Path,
        metavar="FILE.json",
        help="winners per combination of classes for --rule table (e.g. an earlier "
        "run's precedence.json)",
    )
    resolve.add_argument(
        "--examples",
        type=Path,
        metavar="DIR",
        help="resolved versions of some samples (same names, any format) to learn from, "
        "for --rule learned and --compare",
    )
    resolve.add_argument(
        "--compare",
        action="store_true",
        help="print every rule's agreement with --examples and the learned order; write nothing",
    )
    resolve.add_argument("--json", action="store_true", help="--compare as one JSON object")
    resolve.add_argument(
        "--per-region",
        action="store_true",
        help="give each connected conflict region of one combination whole to one class",
    )
    resolve.add_argument(
        "--model", default="bundled", metavar="NAME|FILE", help="the model of --rule model"
    )
    resolve.add_argument("--device", default="cpu", help="cpu or cuda, for --rule model")
    resolve.add_argument(
        "--priority",
        metavar="NAME,NAME,...",
        help="class order for 'priority' and for ties (default: class order)",
    )
    resolve.add_argument(
        "--format",
        choices=["onehot", "index"],
        default="onehot",
        help="onehot: background as channel 0; index: 0 background, 1..C, "
        "255 ignore (default: onehot)",
    )
    resolve.add_argument(
        "--container",
        choices=["same", "ome-zarr"],
        default="same",
        help="same: each sample in its own container (default); ome-zarr: NAME.zarr each",
    )
    resolve.add_argument("--out", type=Path, help="new folder to write")
    resolve.add_argument("--class-axis", choices=["auto", "first", "last"], default="auto")
    add_engine_arguments(resolve)
    resolve.set_defaults(run=cmd_resolve)


def cmd_resolve(args: argparse.Namespace) -> int:
    from segviewer.core.editing.rules import RULES
    from segviewer.core.io.atomic import refuse_output_in_inputs
    from segviewer.core.io.readers import open_dataset

    problem = _check_arguments(args, RULES)
    if problem:
        return fail(problem)
    if args.out is not None:
        refuse_output_in_inputs(args.out, args.paths)
    dataset = open_dataset(args.paths, class_axis=args.class_axis, warn=warn)
    priority = args.priority.split(",") if args.priority else None
    examples, learned = {}, None
    if args.examples is not None:
        examples, learned = _learn(args, dataset, priority)
    if args.compare:
        return _print_comparison(args, learned, priority)
    precedence = learned.precedence if learned else None
    if args.rule == "table":
        from segviewer.core.editing.precedence import Precedence

        precedence = Precedence.load(args.precedence)
        precedence.check_classes(dataset.sample(0).class_names, str(args.precedence))
    return _resolve(args, dataset, priority, precedence, examples)


def _check_arguments(args: argparse.Namespace, rules) -> str | None:
    if args.compare:
        return None if args.examples else "--compare needs --examples DIR"
    if not args.rule:
        return "give --rule (" + RULES_HELP + ") or --compare"
    if args.rule not in rules:
        return f"unknown rule {args.rule!r}; expected one of: {', '.join(rules)}"
    if args.out is None:
        return "give --out, a new folder to write"
    if args.rule == "table" and args.precedence is None:
        return "--rule table needs --precedence FILE.json (winners per combination of classes)"
    if args.rule == "learned" and args.examples is None:
        return "--rule learned needs --examples DIR (resolved versions of some of the samples)"
    return None


def _learn(args: argparse.Namespace, dataset, priority):
    """The examples by sample index, and what they teach."""
    from segviewer.core.editing.examples import read_examples
    from segviewer.core.editing.learning import learn

    examples = read_examples(args.examples, dataset, args.class_axis, warn)
    learned = learn(examples.values(), priority)
    for contradiction in learned.contradictions:
        warn(contradiction)
    if learned.elsewhere:
        warn(
            f"{learned.elsewhere:,} fixed conflict pixels went to a class outside their "
            "combination; they are not used"
        )
    return examples, learned


def _resolve(args, dataset, priority, precedence, examples) -> int:
    from segviewer.core.jobs import resolve_dataset

    probabilities = _model_probabilities(args, dataset) if args.rule == "model" else None
    fixes = {e.name: (e.fixed, e.fixed_ignore) for e in examples.values()}
    with tqdm_progress("resolving") as progress:
        records = resolve_dataset(
            dataset,
            args.out,
            args.format,
            args.rule,
            engine_spec(args),
            priority,
            precedence,
            args.per_region,
            fixes,
            probabilities,
            progress,
            args.container,
        )
    moved: dict[tuple[str, str], int] = {}
    for record in records:
        if record["conflicts"] == 0:
            warn(f"{record['name']}: no conflicts, nothing to resolve")
        for loser, winner, pixels in record["moved"]:
            moved[loser, winner] = moved.get((loser, winner), 0) + pixels
    summary = "; ".join(f"{a} → {b}: {n:,} px" for (a, b), n in sorted(moved.items()))
    print(f"resolved {len(dataset)} samples with rule '{args.rule}' into {args.out}")
    if examples:
        print(f"{len(examples)} samples keep the fixes of {args.examples}")
    print(f"pixels moved: {summary or 'none (no conflicts)'}")
    return 0


def _print_comparison(args: argparse.Namespace, learned, priority) -> int:
    from segviewer.core.editing.learning import compare_rules, comparison_line

    agreements = compare_rules(learned, priority, args.per_region)
    if args.json:
        print(json.dumps(comparison_json(learned, agreements)))
        return 0
    order = " > ".join(learned.precedence.order)
    print(f"learned order (first wins): {order}")
    print(comparison_line(learned, agreements))
    combinations = sorted(agreements[0].per_combination, key=lambda c: sorted(c))
    rows = [["classes", "pixels", *(a.rule for a in agreements)]]
    for combination in combinations:
        total = agreements[0].per_combination[combination][1]
        cells = [_percent(*a.per_combination[combination]) for a in agreements]
        rows.append([" + ".join(sorted(combination)), f"{total:,}", *cells])
    overall = [_percent(a.agreeing, a.total) for a in agreements]
    rows.append(["all", f"{learned.pixels:,}", *overall])
    print(columns(rows, left=1))
    return 0


def comparison_json(learned, agreements) -> dict:
    """``resolve --compare --json``: the learned precedence and every rule's agreement."""
    return {
        "order": learned.precedence.order,
        "winners": json.loads(learned.precedence.to_json())["winners"],
        "fixed_pixels": learned.pixels,
        "elsewhere_pixels": learned.elsewhere,
        "contradictions": learned.contradictions,
        "rules": {
            a.rule: {
                "agreeing": a.agreeing,
                "total": a.total,
                "fraction": round(a.fraction, 6) if a.total else None,
                "per_combination": [
                    {"classes": sorted(c), "agreeing": n, "total": t}
                    for c, (n, t) in sorted(a.per_combination.items(), key=lambda kv: sorted(kv[0]))
                ],
            }
            for a in agreements
        },
    }


def _percent(agreeing: int, total: int) -> str:
    return f"{100 * agreeing / total:.1f} %" if total else "–"


def _model_probabilities(args: argparse.Namespace, dataset):
    """For ``resolve --rule model``: a function giving a sample's class probabilities."""
    from segviewer.core.model.evaluation import channel_axis_of, check_classes
    from segviewer.core.model.inference import choose_device, predict
    from segviewer.core.model.registry import open_model

    choose_device(args.device)
    classes = ["background", *dataset.sample(0).class_names]
    model = open_model(args.model, classes)

    def probabilities(sample, _index=None):
        check_classes(model.info.classes, sample)
        return predict(model, sample.image, channel_axis_of(sample), args.device, where=sample.name)

    return probabilities
