"""What the command line prints: one-line errors and warnings, tables, progress bars.

Bad input prints one line on stderr and exits with status :data:`USAGE_ERROR`.
"""

from __future__ import annotations

import sys

USAGE_ERROR = 2


def one_line(message: str) -> str:
    """``message`` on one line, whatever the file names in it hold."""
    return message.strip().replace("\r", "\\r").replace("\n", "\\n")


def fail(message: str) -> int:
    print(f"segviewer: error: {one_line(message)}", file=sys.stderr)
    return USAGE_ERROR


def warn(message: str) -> None:
    print(f"segviewer: warning: {one_line(message)}", file=sys.stderr)


def columns(rows: list[list[str]], left: int) -> str:
    """Rows as aligned text columns under a rule: the first ``left`` columns flush left,
    the others (numbers) flush right."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(
            cell.ljust(w) if i < left else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def progress_bar(iterable, what: str, total: int | None = None):
    """A progress bar on stderr for datasets (only when stderr is a terminal)."""
    from tqdm import tqdm

    tqdm.monitor_interval = 0  # no monitor thread (stats forks its workers)
    return tqdm(iterable, desc=what, total=total, unit="sample", disable=None, file=sys.stderr)


def add_engine_arguments(parser, index: bool = False) -> None:
    """``--scheduler`` and ``--workers`` (and ``--no-index``) of the dataset commands."""
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS|synchronous",
        help="run on this Dask scheduler (e.g. tcp://host:8786), or 'synchronous' in this "
        "process (default: a local cluster, one worker per core; small jobs in-process)",
    )
    parser.add_argument(
        "--workers", type=int, metavar="N", help="worker processes of the local cluster"
    )
    if index:
        parser.add_argument(
            "--no-index",
            action="store_true",
            help="read every sample; neither use nor update the summary index",
        )


def engine_spec(args):
    """Where the command's dataset job runs (see ``segviewer.core.jobs.engine``); a bad
    ``--workers`` is refused here, before any work."""
    from segviewer.core.errors import SegviewerError
    from segviewer.core.jobs import EngineSpec

    if args.workers is not None and args.workers < 1:
        raise SegviewerError("--workers must be at least 1")
    return EngineSpec(args.scheduler, args.workers)


def summary_index(args):
    """The summary index, unless ``--no-index``."""
    from segviewer.core.stats.index import SummaryIndex

    return None if args.no_index else SummaryIndex(warn=warn)
