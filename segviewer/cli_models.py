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
        labels_for = predictions_from(open_dataset([args.pred]), dataset)
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
