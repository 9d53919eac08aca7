"""Predict a dataset with a model, and score predictions against the ground truth."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace

import numpy as np

from segviewer.core.data.sample import Dataset, Sample
from segviewer.core.errors import SegviewerError
from segviewer.core.model.files import LoadedModel
from segviewer.core.model.inference import predict_labels
from segviewer.core.model.scores import Scores, mean_scores, score_sample


def channel_axis_of(sample: Sample) -> int | None:
    return -1 if sample.rgb else None


def prediction_sample(sample: Sample, labels: np.ndarray, classes: list[str]) -> Sample:
    """``sample`` with its masks replaced by the predicted labels (classes = background + C)."""
    masks = np.stack([labels == c for c in range(1, len(classes))]).astype(np.uint8)
    return replace(sample, masks=masks, class_names=list(classes[1:]), ignore=None, warnings=[])


def predict_samples(
    samples: Iterable[Sample],
    model: LoadedModel,
    device: str = "cpu",
    precision: str = "auto",
    should_stop: Callable[[], bool] | None = None,
) -> Iterator[tuple[Sample, np.ndarray]]:
    """Yield ``(sample, index labels)`` for every sample."""
    for sample in samples:
        labels = predict_labels(
            model,
            sample.image,
            channel_axis_of(sample),
            device,
            precision,
            should_stop=should_stop,
            where=sample.name,
        )
        yield sample, labels


def check_classes(model_classes: list[str], sample: Sample) -> None:
    expected = ["background", *sample.class_names]
    if list(model_classes) != expected:
        raise SegviewerError(
            f"{sample.name}: the model's classes {list(model_classes)} differ from the "
            f"ground truth's {expected} (background first)"
        )


def evaluation_json(classes: list[str], names: list[str], per_sample: list[Scores]) -> dict:
    """The object ``segviewer evaluate --json`` prints; None where a score is undefined."""
    total = mean_scores(per_sample)
    return {
        "classes": list(classes),
        "dice": total.dice,
        "iou": total.iou,
        "precision": total.precision,
        "recall": total.recall,
        "confusion": total.confusion.tolist(),
        "per_sample": [
            {"name": name, "dice": scores.dice}
            for name, scores in zip(names, per_sample, strict=True)
        ],
    }


def score_pairs(pairs: Iterable[tuple[Sample, np.ndarray]]) -> tuple[list[str], list[Scores]]:
    names, scores = [], []
    for sample, labels in pairs:
        if labels.shape != sample.spatial_shape:
            raise SegviewerError(
                f"{sample.name}: prediction of shape {labels.shape} for an image of "
                f"{sample.spatial_shape}"
            )
        names.append(sample.name)
        scores.append(score_sample(sample.masks, labels, sample.ignore))
    return names, scores


def predictions_from(dataset: Dataset) -> Callable[[Sample], np.ndarray]:
    """Index labels of a saved prediction dataset, looked up by sample name."""
    index = {name: i for i, name in enumerate(dataset.names)}

    def labels_for(sample: Sample) -> np.ndarray:
        if sample.name not in index:
            raise SegviewerError(f"{sample.name}: no prediction of this name in the --pred data")
        predicted = dataset.sample(index[sample.name])
        labels = np.zeros(predicted.spatial_shape, np.uint8)
        for c, mask in enumerate(predicted.masks):
            labels[mask > 0] = c + 1
        return labels

    return labels_for
