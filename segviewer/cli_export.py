"""``segviewer export nnunet|monai``: a dataset in the layout a training framework reads."""

from __future__ import annotations

import argparse
from pathlib import Path

from segviewer.cli_output import add_engine_arguments, engine_spec, fail, summary_index, warn


def add_export_commands(commands) -> None:
    export = commands.add_parser("export", help="write a dataset for nnU-Net or MONAI")
    kinds = export.add_subparsers(dest="framework", required=True, metavar="nnunet|monai")
    nnunet = kinds.add_parser("nnunet", help="an nnU-Net v2 raw dataset (overlaps as regions)")
    _common(nnunet)
    nnunet.add_argument("--id", type=int, required=True, help="nnU-Net dataset number (1-999)")
    nnunet.add_argument("--name", required=True, help="dataset name: DatasetNNN_NAME")
    add_engine_arguments(nnunet)
    nnunet.set_defaults(run=cmd_export_nnunet)

    monai = kinds.add_parser("monai", help="a Decathlon datalist, labels and a training snippet")
    _common(monai)
    monai.add_argument(
        "--scheme", default="median_frequency", help="class weights (default: median_frequency)"
    )
    monai.add_argument(
        "--validation", type=float, default=0.2, help="share of cases to validate on (0.2)"
    )
    monai.add_argument("--seed", type=int, default=0, help="validation split seed (0)")
    add_engine_arguments(monai, index=True)
    monai.set_defaults(run=cmd_export_monai)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files or dataset folders")
    parser.add_argument("--out", required=True, type=Path, help="the folder to write into")
    parser.add_argument("--class-axis", choices=["auto", "first", "last"], default="auto")
    parser.add_argument(
        "--dims", type=int, choices=(2, 3), help="export only the 2D or the 3D samples"
    )


def _open(args, out: Path):
    """The dataset, once ``out`` (the folder the export creates) is known not to touch it."""
    from segviewer.core.io.atomic import refuse_output_in_inputs
    from segviewer.core.io.readers import open_dataset

    refuse_output_in_inputs(out, args.paths)
    return open_dataset(args.paths, class_axis=args.class_axis, warn=warn)


def cmd_export_nnunet(args: argparse.Namespace) -> int:
    from segviewer.core.io.nnunet import dataset_folder_name
    from segviewer.core.jobs.exports import export_nnunet_dataset
    from segviewer.core.progress import tqdm_progress

    if args.workers is not None and args.workers < 1:
        return fail("--workers must be at least 1")
    folder = args.out / dataset_folder_name(args.id, args.name)  # a bad id or name: refused
    dataset = _open(args, folder)
    with tqdm_progress("nnU-Net export") as progress:
        folder = export_nnunet_dataset(
            dataset, args.out, args.id, args.name, engine_spec(args), args.dims, progress
        )
    cases = len(list((folder / "labelsTr").iterdir()))
    print(f"wrote {folder} ({cases} cases)")
    return 0


def cmd_export_monai(args: argparse.Namespace) -> int:
    from segviewer.core.jobs import dataset_stats
    from segviewer.core.jobs.exports import export_monai_dataset
    from segviewer.core.progress import tqdm_progress
    from segviewer.core.stats.weights import SCHEMES

    if args.scheme not in SCHEMES:
        return fail(f"unknown scheme {args.scheme!r}; expected one of: {', '.join(SCHEMES)}")
    if args.out.exists():
        return fail(f"{args.out}: already exists; choose a new --out folder")
    if not 0 <= args.validation < 1:
        return fail(f"--validation {args.validation}: expected a share from 0 to below 1")
    if args.workers is not None and args.workers < 1:
        return fail("--workers must be at least 1")
    dataset = _open(args, args.out)
    # one engine (one local cluster) for the statistics and both passes of the export
    with engine_spec(args).open(len(dataset)) as engine:
        stats = dataset_stats(
            dataset, engine, args.class_axis, None, summary_index(args), None, warn
        )
        with tqdm_progress("MONAI export") as progress:
            out = export_monai_dataset(
                dataset,
                args.out,
                stats.normalized_weights()[args.scheme].tolist(),
                stats.sampler_weights().tolist(),
                args.scheme,
                args.validation,
                args.seed,
                engine,
                args.dims,
                progress,
            )
    print(f"wrote {out} (datalist dataset.json, snippet train_monai.py)")
    return 0
