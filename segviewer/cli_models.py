"""``segviewer predict`` and ``segviewer evaluate``: models on whole datasets."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add_model_commands(commands) -> None:
    predict = commands.add_parser("predict", help="run a model and save its index labels")
    _model_arguments(predict)
    predict.add_argument("--out", required=True, type=Path, help="new folder to write")
    predict.set_defaults(run=cmd_predict)

    evaluate = commands.add_parser("evaluate", help="per-class scores of a model's predictions")
    _model_arguments(evaluate)
    evaluate.add_argument(
        "--pred", type=Path, metavar="DIR", help="score saved predictions instead of a model"
    )
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.set_defaults(run=cmd_evaluate)

    tune = commands.add_parser("finetune", help="fine-tune a model on the (resolved) labels")
    _model_arguments(tune)
    tune.add_argument("--loss", required=True, help="dice, ce, dicece, focal or generalized_dice")
    tune.add_argument("--weights", default="uniform", help="class-weight scheme (default: uniform)")
    tune.add_argument("--steps", type=int, default=200, help="optimizer steps (default: 200)")
    tune.add_argument("--lr", type=float, default=1e-3, help="learning rate (default: 1e-3)")
    tune.add_argument("--batch", type=int, default=8, help="patches per step (default: 8)")
    tune.add_argument("--patch", type=int, default=128, help="patch side in px (default: 128)")
    tune.add_argument(
        "--no-background-dice", action="store_true", help="leave background out of Dice terms"
    )
    tune.add_argument("--seed", type=int, default=0, help="split and sampling seed (default: 0)")
    tune.add_argument("--out", required=True, type=Path, help="the model file to write")
    tune.set_defaults(run=cmd_finetune)


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
    from segviewer.core.inference import choose_device
    from segviewer.core.readers import open_dataset
    from segviewer.core.registry import open_model

    choose_device(args.device)
    dataset = open_dataset(args.paths, class_axis=args.class_axis)
    classes = args.classes.split(",") if args.classes else None
    if classes is None and not str(args.model).endswith(".safetensors"):
        classes = ["background", *dataset.sample(0).class_names]
    return dataset, open_model(args.model, classes)


def cmd_predict(args: argparse.Namespace) -> int:
    from segviewer.cli import _progress
    from segviewer.core.evaluation import predict_samples, prediction_sample
    from segviewer.core.writers import save_samples

    dataset, model = _open(args)
    classes = model.info.classes
    predicted = (
        prediction_sample(sample, labels, classes)
        for sample, labels in predict_samples(
            _progress(dataset, "predicting", len(dataset)), model, args.device
        )
    )
    save_samples(predicted, args.out, "index")
    print(f"wrote the predictions of '{model.info.name}' for {len(dataset)} samples to {args.out}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from segviewer.cli import _progress
    from segviewer.core.evaluation import (
        check_classes,
        evaluation_json,
        predict_samples,
        predictions_from,
        score_pairs,
    )
    from segviewer.core.readers import open_dataset

    if args.pred is not None:
        dataset = open_dataset(args.paths, class_axis=args.class_axis)
        labels_for = predictions_from(open_dataset([args.pred]))
        classes = ["background", *dataset.sample(0).class_names]
        pairs = ((s, labels_for(s)) for s in _progress(dataset, "scoring", len(dataset)))
    else:
        dataset, model = _open(args)
        classes = model.info.classes
        check_classes(classes, dataset.sample(0))
        pairs = predict_samples(_progress(dataset, "predicting", len(dataset)), model, args.device)
    names, scores = score_pairs(pairs)
    report = evaluation_json(classes, names, scores)
    print(json.dumps(report) if args.json else _table(report))
    return 0


def cmd_finetune(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from segviewer.cli import _fail
    from segviewer.core.finetune import FinetuneSettings, finetune
    from segviewer.core.losses import LOSSES, LossSettings
    from segviewer.core.models import save_model

    if args.loss not in LOSSES:
        return _fail(f"unknown loss {args.loss!r}; expected one of: {', '.join(LOSSES)}")
    if args.steps < 1 or args.batch < 1 or args.patch < 8 or not args.lr > 0:
        return _fail("--steps and --batch must be ≥ 1, --patch ≥ 8 and --lr > 0")
    if args.out.suffix != ".safetensors":
        return _fail(f"{args.out}: the output must be a .safetensors file")
    dataset, model = _open(args)
    if model.info.architecture.get("name") != "BasicUNet":
        return _fail(f"model '{model.info.name}': only segviewer model files can be fine-tuned")
    settings = FinetuneSettings(
        LossSettings(args.loss, not args.no_background_dice),
        args.weights,
        args.steps,
        args.lr,
        args.batch,
        (args.patch, args.patch),
        args.seed,
    )
    with tqdm(
        total=args.steps, desc="fine-tuning", unit="step", disable=None, file=sys.stderr
    ) as bar:
        result = finetune(
            model,
            list(dataset),
            settings,
            args.device,
            progress=lambda step, loss: (bar.update(1), bar.set_postfix(loss=f"{loss:.4f}")),
        )
    if result.stopped:
        print(f"segviewer: warning: stopped early: {result.stopped}", file=sys.stderr)
    dice = dict(result.validation)[result.best_step]
    info = model.info
    info.name = args.out.stem
    info.training = {
        "finetuned_from": args.model,
        "loss": vars(settings.loss),
        "weights": args.weights,
        "class_weights": result.class_weights,
        "steps": len(result.losses),
        "lr": args.lr,
        "batch": args.batch,
        "patch": [args.patch, args.patch],
        "seed": args.seed,
        "train": result.train_names,
        "validation": result.validation_names,
    }
    info.scores = {"validation_dice": dict(zip(info.classes, dice, strict=True))}
    save_model(args.out, model.network, info)
    print(
        f"validation Dice (best, step {result.best_step}): "
        + ", ".join(
            f"{name} {'–' if d is None else f'{d:.3f}'}"
            for name, d in zip(info.classes, dice, strict=True)
        )
    )
    print(f"wrote {args.out}")
    return 0


def _table(report: dict) -> str:
    def cell(value) -> str:
        return "–" if value is None else f"{value:.3f}"

    lines = [f"{'class':<12} {'dice':>6} {'iou':>6} {'precision':>9} {'recall':>6}"]
    for c, name in enumerate(report["classes"]):
        lines.append(
            f"{name:<12} {cell(report['dice'][c]):>6} {cell(report['iou'][c]):>6} "
            f"{cell(report['precision'][c]):>9} {cell(report['recall'][c]):>6}"
        )
    worst = sorted(
        report["per_sample"],
        key=lambda s: min((d for d in s["dice"][1:] if d is not None), default=1.0),
    )[:3]
    lines.append("worst samples (lowest class Dice): " + ", ".join(s["name"] for s in worst))
    print(
        f"{len(report['per_sample'])} samples; – = undefined (empty ground truth)", file=sys.stderr
    )
    return "\n".join(lines)
