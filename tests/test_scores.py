"""Prediction scores against MONAI and scikit-learn; the error map against its definition."""

import numpy as np
import pytest
import torch
from monai.metrics import DiceMetric, compute_iou
from sklearn.metrics import confusion_matrix, precision_score, recall_score

from segviewer.core.model.scores import (
    CORRECT,
    EXTRA,
    MISSED,
    WRONG_CLASS,
    error_map,
    mean_scores,
    score_sample,
    truth_channels,
)


def random_case(seed, shape=(40, 50), classes=2, overlap=True):
    rng = np.random.default_rng(seed)
    masks = (rng.random((classes, *shape)) < 0.3).astype(np.uint8)
    if not overlap:  # exclusive: each pixel keeps only its last class
        labels = np.zeros(shape, np.int64)
        for c in range(classes):
            labels[masks[c] > 0] = c + 1
        masks = np.stack([labels == c + 1 for c in range(classes)]).astype(np.uint8)
    predicted = rng.integers(0, classes + 1, shape)
    return masks, predicted


def monai_dice_and_iou(masks, predicted):
    truth = torch.from_numpy(truth_channels(masks)[None].astype(np.float32))
    onehot = torch.nn.functional.one_hot(torch.from_numpy(predicted), truth.shape[1])
    onehot = onehot.movedim(-1, 0)[None].float()
    metric = DiceMetric(include_background=True, reduction="none", ignore_empty=True)
    dice = metric(onehot, truth)[0]
    iou = compute_iou(onehot, truth, include_background=True, ignore_empty=True)[0]
    as_list = lambda t: [None if np.isnan(v) else float(v) for v in t.tolist()]  # noqa: E731
    return as_list(dice), as_list(iou)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dice_and_iou_are_monais_with_overlapping_truth(seed):
    masks, predicted = random_case(seed)
    scores = score_sample(masks, predicted)
    dice, iou = monai_dice_and_iou(masks, predicted)
    assert scores.dice == pytest.approx(dice, abs=1e-6)
    assert scores.iou == pytest.approx(iou, abs=1e-6)


def test_an_empty_class_has_no_score_like_monai_and_3d_works():
    masks, predicted = random_case(3, shape=(6, 10, 12), classes=3)
    masks[2] = 0  # class 3 absent from the ground truth
    scores = score_sample(masks, predicted)
    dice, iou = monai_dice_and_iou(masks, predicted)
    assert scores.dice[3] is None and dice[3] is None
    assert scores.dice == pytest.approx(dice, abs=1e-6)
    assert scores.iou == pytest.approx(iou, abs=1e-6)
    assert scores.recall[3] is None and scores.precision[3] == 0.0


def test_precision_recall_and_confusion_are_sklearns_on_exclusive_truth():
    masks, predicted = random_case(4, classes=3, overlap=False)
    truth = np.zeros(predicted.shape, np.int64)
    for c, mask in enumerate(masks):
        truth[mask > 0] = c + 1
    scores = score_sample(masks, predicted)
    labels = [0, 1, 2, 3]
    y, p = truth.ravel(), predicted.ravel()
    np.testing.assert_array_equal(scores.confusion, confusion_matrix(y, p, labels=labels))
    sk_precision = precision_score(y, p, labels=labels, average=None, zero_division=np.nan)
    sk_recall = recall_score(y, p, labels=labels, average=None, zero_division=np.nan)
    assert scores.precision == pytest.approx(sk_precision.tolist())
    assert scores.recall == pytest.approx(sk_recall.tolist())


def test_a_single_pixel_and_a_perfect_prediction():
    masks = np.zeros((2, 5, 5), np.uint8)
    masks[1, 2, 2] = 1
    predicted = np.zeros((5, 5), np.int64)
    predicted[2, 2] = 2
    scores = score_sample(masks, predicted)
    assert scores.dice == [1.0, None, 1.0]
    assert scores.precision == [1.0, None, 1.0]


def test_dataset_scores_are_means_over_samples_that_have_one():
    a_masks, a_pred = random_case(5)
    b_masks, b_pred = random_case(6)
    b_masks[1] = 0  # spot absent in b: b has no spot score
    a, b = score_sample(a_masks, a_pred), score_sample(b_masks, b_pred)
    both = mean_scores([a, b])
    assert both.dice[0] == pytest.approx((a.dice[0] + b.dice[0]) / 2)
    assert both.dice[2] == pytest.approx(a.dice[2])
    np.testing.assert_array_equal(both.confusion, a.confusion + b.confusion)


def test_error_map_by_its_definition():
    masks = np.zeros((2, 1, 6), np.uint8)
    masks[0, 0, :3] = 1  # cell at x 0..2
    masks[1, 0, 2:4] = 1  # spot at x 2..3 (x = 2 is a conflict)
    predicted = np.array([[1, 0, 2, 1, 2, 0]])
    expected = [CORRECT, MISSED, CORRECT, WRONG_CLASS, EXTRA, CORRECT]
    assert error_map(masks, predicted)[0].tolist() == expected
