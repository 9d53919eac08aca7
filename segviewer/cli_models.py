"""``segviewer predict``, ``evaluate``, ``finetune`` and ``compare-losses``: models on datasets."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from segviewer.cli_output import add_engine_arguments


def add_model_commands(commands) -> None:
    predict = commands.add_parser("predict", help="run a model and save its index labels")
    _inference_arguments(predict)
    predict.add_argument("--out", required=True, type=Path, help="new folder to write")
    add_engine_arguments(predict)
    predict.set_defaults(run=cmd_predict)

    evaluate = commands.add_parser("evaluate", help="per-class scores of a model's predictions")
    _inference_arguments(evaluate)
    evaluate.add_argument(
        "--pred", type=Path, metavar="DIR", help="score saved predictions instead of a model"
    )
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.add_argument(
        "--error-maps",
        type=Path,
        metavar="DIR",
        help="also write each sample's error map (0 correct, 1 missed, 2 extra, 3 wrong class) "
        "into this new folder",
    )
    add_engine_arguments(evaluate)
    evaluate.set_defaults(run=cmd_evaluate)

    tune = commands.add_parser("finetune", help="fine-tune a model on the (resolved) labels")
    _model_arguments(tune)
    tune.add_argument("--loss", required=True, help="dice, ce, dicece, focal or generalized_dice")
    tune.add_argument("--weights", default="uniform", help="class-weight scheme (default: uniform)")
    tune.add_argument("--lambda-dice", type=float, default=1.0, help="dicece: Dice factor (1)")
    tune.add_argument("--lambda-ce", type=float, default=1.0, help="dicece: CE factor (1)")
    tune.add_argument("--gamma", type=float, default=2.0, help="focal: γ (default: 2)")
    tune.add_argument(
        "--no-background-dice", action="store_true", help="leave background out of Dice terms"
    )
    _training_arguments(tune)
    tune.add_argument("--out", required=True, type=Path, help="the model file to write")
    tune.set_defaults(run=cmd_finetune)

    compare = commands.add_parser(
        "compare-losses", help="the same short fine-tune under several losses, side by side"
    )
    _model_arguments(compare)
    compare.add_argument(
        "--runs",
        nargs="+",
        default=list(DEFAULT_RUNS),
        metavar="LOSS[:SCHEME][:nobg][:sampler]",
        help=f"loss settings to compare (default: {' '.join(DEFAULT_RUNS)})",
    )
    compare.add_argument(
        "--from-scratch", action="store_true", help="start each run from fresh random weights"
    )
    _training_arguments(compare, steps=100)
    compare.add_argument("--json", action="store_true", help="print one JSON object")
    compare.set_defaults(run=cmd_compare)


DEFAULT_RUNS = ("dice", "dice:inverse_frequency", "ce", "dicece", "dicece:inverse_frequency")


def _training_arguments(parser: argparse.ArgumentParser, steps: int = 200) -> None:
    from segviewer.core.model.files import ARCHITECTURES
    from segviewer.core.model.finetune import CONFLICT_CHOICES, PRECISIONS
    from segviewer.core.stats.sampler import SAMPLERS

    parser.add_argument("--steps", type=int, default=steps, help=f"optimizer steps ({steps})")
    parser.add_argument(
        "--lr", type=float, help="learning rate (default: 1e-4, or 3e-3 with --arch)"
    )
    parser.add_argument("--batch", type=int, default=8, help="patches per step (default: 8)")
    parser.add_argument(
        "--patch",
        default="auto",
        help="patch: auto (128² in 2D; ~64³ by voxel spacing in 3D), a side, or 64x64x32",
    )
    parser.add_argument(
        "--arch",
        help=f"start from fresh weights of a MONAI network ({', '.join(ARCHITECTURES)}), "
        "2D or 3D, instead of --model's",
    )
    parser.add_argument(
        "--dims",
        type=int,
        choices=(2, 3),
        help="train on 2D or 3D patches (default: 3 if every sample is 3D, else 2)",
    )
    parser.add_argument(
        "--foreground",
        type=float,
        default=0.33,
        help="share of patches centred on a foreground voxel (default: 0.33, as nnU-Net)",
    )
    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        default="fp32",
        help="fp32, or bf16 mixed precision (about 2x faster 3D training on a modern CPU)",
    )
    parser.add_argument(
        "--sampler",
        default="uniform",
        help=f"how samples are drawn: {' or '.join(SAMPLERS)} (sampler weights)",
    )
    parser.add_argument(
        "--conflicts",
        choices=CONFLICT_CHOICES,
        default="refuse",
        help="unresolved conflict pixels: refuse the data, or leave them out of the loss",
    )
    parser.add_argument("--seed", type=int, default=0, help="split and sampling seed (default: 0)")


def _inference_arguments(parser: argparse.ArgumentParser) -> None:
    from segviewer.core.model.sliding import PRECISIONS

    _model_arguments(parser)
    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        default="auto",
        help="the network's arithmetic: auto (fp16 on CUDA, fp32 on CPU), fp32, fp16 or bf16",
    )


def _model_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files or dataset folders")
    parser.add_argument(
        "--model",
        default="bundled",
        metavar="NAME|FILE",
        help="a registered model, a segviewer .safetensors file or a TorchScript file "
        "(default: bundled)",
    )
    parser.add_argument(
        "--classes",
        metavar="NAME,NAME,...",
        help="a TorchScript model's classes, background first (default: the data's)",
    )
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")
    parser.add_argument("--class-axis", choices=["auto", "first", "last"], default="auto")


def _open(args):
    from segviewer.core.model.registry import open_model

    dataset, classes = _dataset_and_classes(args)
    return dataset, open_model(args.model, classes)


def _dataset_and_classes(args):
    """The dataset, and the classes to give the model (a TorchScript file's)."""
    from segviewer.cli_output import warn
    from segviewer.core.io.readers import open_dataset
    from segviewer.core.model.inference import choose_device

    choose_device(args.device)
    dataset = open_dataset(args.paths, class_axis=args.class_axis, warn=warn)
    classes = args.classes.split(",") if args.classes else None
    if classes is None and not str(args.model).endswith(".safetensors"):
        classes = ["background", *dataset.sample(0).class_names]
    return dataset, classes


def _model_job(args):
    """(dataset, model spec, model) of a dataset job: the model opened here through the
    cache the tasks use, so that a job run in this process opens it once."""
    from segviewer.core.jobs.models import ModelSpec, model_for

    dataset, classes = _dataset_and_classes(args)
    chosen = tuple(classes) if classes is not None else None
    spec = ModelSpec(str(args.model), chosen, args.device, args.precision)
    return dataset, spec, model_for(spec)


def cmd_predict(args: argparse.Namespace) -> int:
    from segviewer.cli_output import engine_spec
    from segviewer.core.io.atomic import refuse_output_in_inputs
    from segviewer.core.io.big import is_big
    from segviewer.core.jobs.models import predict_dataset
    from segviewer.core.progress import tqdm_progress

    engine = engine_spec(args)
    refuse_output_in_inputs(args.out, args.paths)
    if len(args.paths) == 1 and is_big(args.paths[0]):
        return _predict_big(args)  # one image, streamed window by window in this process
    dataset, spec, model = _model_job(args)
    with tqdm_progress("predicting") as progress:
        predict_dataset(dataset, args.out, spec, engine, progress)
    print(f"wrote the predictions of '{model.info.name}' for {len(dataset)} samples to {args.out}")
    return 0


def _predict_big(args: argparse.Namespace) -> int:
    """One big image (OME-Zarr or a big TIFF pair): labels streamed into a new OME-Zarr
    label image."""
    from segviewer.core.io.big import open_big
    from segviewer.core.model.big import predict_big
    from segviewer.core.model.inference import choose_device
    from segviewer.core.model.registry import open_model
    from segviewer.core.progress import tqdm_progress

    choose_device(args.device)
    sample = open_big(args.paths[0])
    classes = args.classes.split(",") if args.classes else ["background", *sample.class_names]
    model = open_model(args.model, None if str(args.model).endswith(".safetensors") else classes)
    with tqdm_progress("predicting", unit="window") as progress:
        predict_big(
            sample,
            model,
            args.out,
            args.device,
            args.precision,
            progress=lambda done, total: progress.report(done, total, ""),
        )
    print(f"wrote the predictions of '{model.info.name}' for {args.paths[0]} to {args.out}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from segviewer.cli_output import engine_spec, warn
    from segviewer.core.io.atomic import refuse_output_in_inputs
    from segviewer.core.io.readers import open_dataset
    from segviewer.core.jobs.models import SavedPredictions, evaluate_dataset
    from segviewer.core.model.evaluation import check_classes, evaluation_json
    from segviewer.core.progress import tqdm_progress

    engine = engine_spec(args)
    if args.pred is not None:
        dataset = open_dataset(args.paths, class_axis=args.class_axis, warn=warn)
        open_dataset([args.pred], warn=warn)  # an unreadable folder: refused here, once
        spec = SavedPredictions((str(args.pred),))
        classes = ["background", *dataset.sample(0).class_names]
    else:
        dataset, spec, model = _model_job(args)
        classes = model.info.classes
        check_classes(classes, dataset.sample(0))
    if args.error_maps is not None:
        refuse_output_in_inputs(args.error_maps, [*args.paths, *([args.pred] if args.pred else [])])
    with tqdm_progress("scoring" if args.pred else "predicting") as progress:
        names, scores = evaluate_dataset(dataset, spec, engine, args.error_maps, progress)
    report = evaluation_json(classes, names, scores)
    print(json.dumps(report) if args.json else _table(report))
    return 0


def _finetune_inputs(args: argparse.Namespace, loss, weights: str):
    """(model, training samples, validation samples, base settings) or an exit status."""
    from segviewer.cli_output import fail, warn
    from segviewer.core.errors import SegviewerError
    from segviewer.core.model.files import ARCHITECTURES
    from segviewer.core.model.finetune import (
        FinetuneSettings,
        default_split,
        split,
        training_labels,
    )
    from segviewer.core.model.patches import check_patch, check_patch_fits, default_patch
    from segviewer.core.stats.sampler import SAMPLERS

    if args.steps < 1 or args.batch < 1 or (args.lr is not None and not args.lr > 0):
        return fail("--steps and --batch must be ≥ 1 and --lr > 0")
    if not 0 <= args.foreground <= 1:
        return fail(f"--foreground {args.foreground}: expected a share from 0 to 1")
    if args.arch is not None and args.arch not in ARCHITECTURES:
        return fail(f"--arch {args.arch!r}: expected one of {', '.join(ARCHITECTURES)}")
    if args.sampler not in SAMPLERS:
        return fail(f"--sampler {args.sampler!r}: expected one of {', '.join(SAMPLERS)}")
    dataset, model = _open(args)
    samples = list(dataset)
    dims = [len(sample.spatial_shape) for sample in samples]
    wanted = args.dims or (3 if all(n == 3 for n in dims) else 2)
    model = _trainable_model(args, model, samples, wanted)
    chosen = default_split(dims, 0.25, args.seed, wanted)
    train, validation = ([samples[i] for i in part] for part in chosen)
    if not train:
        raise SegviewerError(f"fine-tuning a {wanted}D model needs {wanted}D samples to train on")
    if not validation:
        split(train, 0.25, args.seed)  # says why: too few samples
    others = sum(1 for n in dims if n != wanted)
    if others and wanted == 2:
        warn(f"{others} 3D sample(s) validate only (the model trains on 2D patches)")
    elif others:
        warn(f"{others} 2D sample(s) left out (a 3D model trains and validates on volumes)")
    scales = [s.scale for s in train if s.scale is not None]
    spacing = np.median(scales, axis=0) if scales else None
    patch = _patch(args.patch, wanted) or default_patch(train, wanted, spacing)
    check_patch_fits(model, patch)
    lr = args.lr if args.lr is not None else (3e-3 if args.arch else 1e-4)
    settings = FinetuneSettings(
        loss, weights, args.steps, lr, args.batch, patch, args.seed, conflicts=args.conflicts,
        foreground=args.foreground, sampler=args.sampler, precision=args.precision,
    )  # fmt: skip
    check_patch(train, settings.patch)
    for sample in train:  # refuse bad labels before any training starts
        training_labels(sample, args.conflicts)
    return model, train, validation, settings


def _trainable_model(args: argparse.Namespace, model, samples, dims: int):
    """The model to train: fresh weights of ``--arch``, the bundled pair's model of ``dims``,
    or the model given when it is one of segviewer's architectures of those dimensions."""
    from segviewer.core.errors import SegviewerError
    from segviewer.core.model.evaluation import check_classes
    from segviewer.core.model.files import ARCHITECTURES
    from segviewer.core.model.finetune import fresh_model_for, trained_part

    first = samples[0]
    if args.arch:
        return fresh_model_for(args.arch, first, dims)
    model = trained_part(model, dims)
    check_classes(model.info.classes, first)
    names = {a["name"] for a in ARCHITECTURES.values()}
    if model.info.architecture.get("name") not in names:
        raise SegviewerError(
            f"model '{model.info.name}': only segviewer model files can be fine-tuned "
            "(or start from fresh weights with --arch)"
        )
    if model.info.spatial_dims != dims:
        raise SegviewerError(
            f"model '{model.info.name}' is {model.info.spatial_dims}D and the training samples "
            f"are {dims}D; pass --arch to train a fresh {dims}D network"
        )
    return model


def _patch(text: str, dims: int) -> tuple[int, ...] | None:
    """``--patch``: ``auto`` (None), one side, or one side per axis (``64x64x32``)."""
    from segviewer.core.errors import SegviewerError

    if text == "auto":
        return None
    try:
        sides = tuple(int(side) for side in text.lower().split("x"))
    except ValueError:
        sides = ()
    if len(sides) == 1:
        sides = sides * dims
    if len(sides) != dims or min(sides) < 8:
        raise SegviewerError(
            f"--patch {text!r}: expected auto, one side ≥ 8 or {dims} sides like "
            f"{'x'.join(['64'] * dims)}"
        )
    return sides


def cmd_finetune(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from segviewer.cli_output import fail
    from segviewer.core.model.files import save_model
    from segviewer.core.model.finetune import finetune, record_finetune
    from segviewer.core.model.losses import LOSSES, LossSettings
    from segviewer.core.model.scores import score_line

    if args.loss not in LOSSES:
        return fail(f"unknown loss {args.loss!r}; expected one of: {', '.join(LOSSES)}")
    if args.out.suffix != ".safetensors":
        return fail(f"{args.out}: the output must be a .safetensors file")
    loss = LossSettings(
        args.loss, not args.no_background_dice, args.lambda_dice, args.lambda_ce, args.gamma
    )
    inputs = _finetune_inputs(args, loss, args.weights)
    if isinstance(inputs, int):
        return inputs
    model, train, validation, settings = inputs
    with tqdm(
        total=args.steps, desc="fine-tuning", unit="step", disable=None, file=sys.stderr
    ) as bar:
        result = finetune(
            model,
            train,
            validation,
            settings,
            args.device,
            progress=lambda step, loss: (bar.update(1), bar.set_postfix(loss=f"{loss:.4f}")),
        )
    if result.stopped:
        print(f"segviewer: warning: stopped early: {result.stopped}", file=sys.stderr)
    dice = record_finetune(model, args.out.stem, settings, result)
    save_model(args.out, model.network, model.info)
    print(
        f"validation Dice (best, step {result.best_step}): {score_line(model.info.classes, dice)}"
    )
    print(f"wrote {args.out}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from segviewer.core.model.finetune import (
        best_dice,
        compare_losses,
        run_label,
        run_settings,
        untrained_copy,
    )
    from segviewer.core.model.losses import LossSettings
    from segviewer.core.model.scores import format_score

    inputs = _finetune_inputs(args, LossSettings(), "uniform")  # each run sets its own
    if isinstance(inputs, int):
        return inputs
    model, train, validation, base = inputs
    runs = [run_settings(spec, base) for spec in args.runs]  # SegviewerError: exit 2
    if args.from_scratch:
        model = untrained_copy(model, args.seed)
    with tqdm(
        total=args.steps * len(runs), desc="comparing", unit="step", disable=None, file=sys.stderr
    ) as bar:
        results = compare_losses(
            model, train, validation, runs, args.device, progress=lambda *_: bar.update(1)
        )
    classes = model.info.classes
    report = {
        "classes": classes,
        "steps": args.steps,
        "from_scratch": args.from_scratch,
        "train": results[0].train_names,
        "validation": results[0].validation_names,
        "runs": [
            {
                "run": spec,
                "label": run_label(settings),
                "class_weights": result.class_weights,
                "best_step": result.best_step,
                "stopped": result.stopped,
                "dice": best_dice(result),
                "final_loss": result.losses[-1] if result.losses else None,
            }
            for spec, settings, result in zip(args.runs, runs, results, strict=False)
        ],
    }
    if args.json:
        print(json.dumps(report))
        return 0
    from segviewer.cli_output import columns

    rows = [
        [
            run["run"],
            *(format_score(d) for d in run["dice"]),
            f"{run['best_step']}",
        ]
        for run in report["runs"]
    ]
    print(columns([["run", *(f"dice {c}" for c in classes), "best step"], *rows], left=1))
    print(f"validation Dice of the best weights; validated on {', '.join(report['validation'])}")
    return 0


def _table(report: dict) -> str:
    from segviewer.core.model.scores import format_score, worst_dice

    lines = [f"{'class':<12} {'dice':>6} {'iou':>6} {'precision':>9} {'recall':>6}"]
    for c, name in enumerate(report["classes"]):
        lines.append(
            f"{name:<12} {format_score(report['dice'][c]):>6} {format_score(report['iou'][c]):>6} "
            f"{format_score(report['precision'][c]):>9} {format_score(report['recall'][c]):>6}"
        )
    worst = sorted(
        report["per_sample"],
        key=lambda s: (worst_dice(s["dice"]) is None, worst_dice(s["dice"]) or 0.0),
    )[:3]
    lines.append("worst samples (lowest class Dice): " + ", ".join(s["name"] for s in worst))
    print(
        f"{len(report['per_sample'])} samples; – = undefined (empty ground truth)", file=sys.stderr
    )
    return "\n".join(lines)
