"""``segviewer`` command line: the same core functions as the napari panel, for whole datasets.

Bad input prints one line on stderr and exits with status 2; nothing is half-written.
SIGTERM stops a command like Ctrl+C (status 130, temporary files removed). Libraries' own
log lines and warnings are not shown: segviewer's messages say what matters, one line each.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import shutil
import signal
import sys
import threading
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

from segviewer import __version__
from segviewer.cli_conflicts import add_conflicts_command
from segviewer.cli_export import add_export_commands
from segviewer.cli_models import add_model_commands
from segviewer.cli_output import (
    add_engine_arguments,
    columns,
    engine_spec,
    fail,
    summary_index,
    warn,
)
from segviewer.cli_resolve import add_resolve_command
from segviewer.core.errors import SegviewerError
from segviewer.core.progress import tqdm_progress


# -- info -------------------------------------------------------------------------------------
def cmd_info(args: argparse.Namespace) -> int:
    from segviewer.core.io.readers import open_dataset
    from segviewer.core.jobs import dataset_summaries
    from segviewer.core.jobs.summaries import raise_failures

    dataset = open_dataset(args.paths, class_axis=args.class_axis, warn=warn)
    with tqdm_progress("reading") as progress:
        summaries = dataset_summaries(
            dataset, engine_spec(args), args.class_axis, summary_index(args), progress
        )
    raise_failures(summaries)
    records = []
    for summary in summaries:
        for warning in summary["warnings"]:
            warn(warning)
        records.append({k: v for k, v in summary.items() if k != "warnings"})
    if args.json:
        print(json.dumps({"samples": records}))
    else:
        print(_info_table(records))
    return 0


def _info_table(records: list[dict]) -> str:
    classes = sorted(
        {c for r in records for c in r["classes"]},
        key=lambda c: (min(r["classes"].index(c) for r in records if c in r["classes"]), c),
    )
    header = ["sample", "shape", *classes, "background", "conflicts"]
    rows = [header]
    for r in records:
        counts = dict(zip(r["classes"], r["counts"], strict=True))
        rows.append(
            [
                r["name"],
                "×".join(map(str, r["image_shape"])),
                *(f"{counts[c]:,}" if c in counts else "–" for c in classes),
                f"{r['background']:,}",
                f"{r['conflicts']:,}",
            ]
        )
    return columns(rows, left=2)


# -- stats ------------------------------------------------------------------------------------
def cmd_stats(args: argparse.Namespace) -> int:
    from segviewer.core.io.atomic import write_text
    from segviewer.core.io.readers import open_dataset
    from segviewer.core.jobs import dataset_stats
    from segviewer.core.stats.export import loss_snippet, stats_json
    from segviewer.core.stats.weights import SCHEMES, check_beta

    beta = None if args.beta is None else check_beta(args.beta)
    if args.workers is not None and args.workers < 1:
        return fail("--workers must be at least 1")
    if args.scheme not in SCHEMES:
        return fail(f"unknown scheme {args.scheme!r}; expected one of: {', '.join(SCHEMES)}")
    if args.snippet is not None and args.snippet.exists():
        return fail(f"{args.snippet}: already exists; choose a new file (nothing is overwritten)")
    stats = _big_stats(args.paths, summary_index(args), beta)
    if stats is None:
        dataset = open_dataset(args.paths, class_axis=args.class_axis, warn=warn)
        with tqdm_progress("counting") as progress:
            stats = dataset_stats(
                dataset,
                engine_spec(args),
                args.class_axis,
                beta,
                summary_index(args),
                progress,
                warn,
            )
    if args.snippet is not None:
        source = ", ".join(map(str, args.paths))
        write_text(args.snippet, loss_snippet(stats, args.scheme, source=source))
    print(stats_json(stats) if args.json else _stats_table(stats))
    return 0


def _big_stats(paths, index, beta):
    """Whole-sample statistics of one big sample (OME-Zarr, or a TIFF pair too big for
    memory), counted chunk by chunk once and then read from the summary index; None when
    ``paths`` is not one big sample."""
    from segviewer.core.io.big import is_big, open_big
    from segviewer.core.stats.big import big_stats

    if len(paths) != 1 or not is_big(paths[0]):
        return None
    return big_stats(open_big(paths[0]), index, beta)


def _stats_table(stats) -> str:
    from segviewer.core.stats.weights import SCHEMES

    weights = stats.normalized_weights()
    header = ["class", "pixels", "fraction", "in samples", *SCHEMES]
    rows = [header]
    for c, name in enumerate(stats.classes):
        rows.append(
            [
                name,
                f"{stats.counts[c]:,}",
                f"{stats.frequencies[c]:.4%}",
                f"{stats.present_in[c]}/{len(stats.sample_names)}",
                *(f"{weights[s][c]:.4g}" for s in SCHEMES),
            ]
        )
    return "\n".join(
        [
            f"{len(stats.sample_names)} samples; {stats.conflicts:,} conflict pixels "
            "(counted in each of their classes)",
            columns(rows, left=1),
            "weights normalized: mean over present classes = 1 "
            f"(effective_number β = {stats.effective_beta:.8g}; raw weights in --json)",
        ]
    )


# -- sample -----------------------------------------------------------------------------------
def cmd_sample(args: argparse.Namespace) -> int:
    from segviewer.core.data.synthetic import make_dataset_samples
    from segviewer.core.data.synthetic_many import make_many_samples
    from segviewer.core.io.writers import save_samples

    if args.big is not None:
        if args.kind != "cells":
            return fail("--big writes the cells kind only")
        return _big_sample(args)
    count = args.count if args.count is not None else {"cells": 8, "many": 5}[args.kind]
    if count < 0 or args.volumes < 0 or count + args.volumes == 0:
        return fail("--count and --volumes must be ≥ 0 and not both 0")
    make = make_many_samples if args.kind == "many" else make_dataset_samples
    samples = make(args.seed, count, args.volumes)
    out = save_samples(samples, args.out, "masks")
    print(f"wrote {len(samples)} samples (seed {args.seed}) to {out}")
    return 0


def _big_sample(args: argparse.Namespace) -> int:
    from segviewer.core.io.ome_zarr import write_big_sample

    with tqdm_progress("writing", unit="tile") as progress:
        write_big_sample(
            args.out,
            args.big,
            args.seed,
            version=args.ngff,
            progress=lambda done, total: progress.report(done, total, ""),
        )
    print(f"wrote a {args.big}×{args.big} OME-Zarr sample (NGFF {args.ngff}) to {args.out}")
    return 0


# -- demo -------------------------------------------------------------------------------------
def _has_display() -> bool:
    if sys.platform != "linux":
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def cmd_demo(args: argparse.Namespace) -> int:
    if not _has_display():
        if args.screenshot and shutil.which("xvfb-run") and not os.environ.get("SEGVIEWER_IN_XVFB"):
            os.environ["SEGVIEWER_IN_XVFB"] = "1"
            command = [sys.executable, "-m", "segviewer.cli", *sys.argv[1:]]
            os.execvp("xvfb-run", ["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24", *command])
        return fail(
            "no display found (DISPLAY is not set), so the napari window cannot open. On a "
            "headless machine render it to a PNG instead: "
            "segviewer demo --screenshot window.png (uses Xvfb)"
        )
    from segviewer._napari.demo import run_demo

    return run_demo(args.screenshot)


# -- entry point ------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="segviewer",
        description="One-hot multi-class segmentation datasets: inspect, fix, "
        "measure. Inputs: .npz (image, masks), TIFF pairs NAME.tif + NAME_masks.tif, NIfTI pairs, "
        "or dataset folders images/ + masks/CLASS/.",
    )
    parser.add_argument("--version", action="version", version=f"segviewer {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    info = commands.add_parser("info", help="shape, class pixels, background and conflicts")
    info.add_argument("paths", nargs="+", metavar="PATH", help="files or dataset folders")
    info.add_argument("--json", action="store_true", help="print one JSON object")
    info.add_argument(
        "--class-axis",
        choices=["auto", "first", "last"],
        default="auto",
        help="where the class axis of the masks is (default: found from the shape)",
    )
    add_engine_arguments(info, index=True)
    info.set_defaults(run=cmd_info)

    add_resolve_command(commands)

    stats = commands.add_parser("stats", help="class statistics and class weights")
    stats.add_argument("paths", nargs="+", metavar="PATH", help="files or dataset folders")
    stats.add_argument("--json", action="store_true", help="print one JSON object")
    stats.add_argument(
        "--beta", type=float, help="β of the effective_number scheme (default: 1 − 1/N)"
    )
    add_engine_arguments(stats, index=True)
    stats.add_argument(
        "--snippet",
        type=Path,
        metavar="FILE",
        help="also write Python that builds weighted CE and Dice+CE losses (new file)",
    )
    stats.add_argument(
        "--scheme",
        default="median_frequency",
        help="class-weight scheme of --snippet (default: median_frequency)",
    )
    stats.add_argument("--class-axis", choices=["auto", "first", "last"], default="auto")
    stats.set_defaults(run=cmd_stats)

    add_conflicts_command(commands)
    add_model_commands(commands)
    add_export_commands(commands)

    sample = commands.add_parser("sample", help="write the synthetic sample dataset")
    sample.add_argument("--out", required=True, type=Path, help="new folder to write")
    sample.add_argument("--seed", type=int, default=2024, help="random seed (default: 2024)")
    sample.add_argument(
        "--kind",
        choices=["cells", "many"],
        default="cells",
        help="cells: cell and spot; many: six overlapping classes (default: cells)",
    )
    sample.add_argument(
        "--count", type=int, help="2D samples (default: 8 with --kind cells, 5 with many)"
    )
    sample.add_argument("--volumes", type=int, default=1, help="3D samples (default: 1)")
    sample.add_argument(
        "--big",
        type=int,
        metavar="SIZE",
        help="instead: one synthetic SIZE×SIZE OME-Zarr sample, written tile by tile",
    )
    sample.add_argument(
        "--ngff",
        choices=["0.4", "0.5"],
        default="0.5",
        help="with --big: the OME-Zarr version (default: 0.5)",
    )
    sample.set_defaults(run=cmd_sample)

    demo = commands.add_parser("demo", help="napari with the SegViewer panel and the sample data")
    demo.add_argument(
        "--screenshot",
        type=Path,
        metavar="FILE",
        help="render the window to this PNG and exit (runs under Xvfb if needed)",
    )
    demo.set_defaults(run=cmd_demo)
    return parser


def _interrupt(signum: int, frame) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def _command_context() -> Iterator[None]:
    """SIGTERM acts as Ctrl+C (so temporary files are removed); library logs and warnings
    are silenced (tifffile's log lines, Pillow's DecompressionBombWarning, ...)."""
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _interrupt) if in_main else None
    logging.disable(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(logging.NOTSET)
        if in_main:
            signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        with _command_context():
            return args.run(args)
    except SegviewerError as error:
        return fail(str(error))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. `segviewer stats --json DIR | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
