"""Class weights against scikit-learn, MONAI and a direct, loop-by-loop reading of the README."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest
import torch
from monai.losses import GeneralizedDiceLoss
from sklearn.utils.class_weight import compute_class_weight

from segviewer.core.stats.classes import ClassStats, tally
from segviewer.core.stats.weights import SCHEMES, class_weights, normalized


def reference_weights(per_sample: list[list[int]], beta: float | None = None) -> dict:
    """The README's definitions, computed with plain Python floats, one class at a time."""
    K = len(per_sample[0])
    n = [sum(row[c] for row in per_sample) for c in range(K)]
    N = sum(n)
    present = [c for c in range(K) if n[c] > 0]
    Kp = len(present)
    out = {name: [0.0] * K for name in SCHEMES}
    out["uniform"] = [1.0] * K
    freq = {}
    for c in present:
        pixels_where_present = sum(sum(row) for row in per_sample if row[c] > 0)
        freq[c] = n[c] / pixels_where_present
    median = statistics.median(freq.values()) if freq else 0.0
    b = 1 - 1 / N if beta is None else beta
    effective = {c: (1 - b) / (1 - b ** n[c]) for c in present}
    for c in present:
        out["inverse_frequency"][c] = N / (Kp * n[c])
        out["median_frequency"][c] = median / freq[c]
        out["enet"][c] = 1 / math.log(1.02 + n[c] / N)
        out["effective_number"][c] = effective[c] * Kp / sum(effective.values())
        out["generalized_dice"][c] = 1 / n[c] ** 2
    largest = max(out["generalized_dice"])
    for c in range(K):
        if n[c] == 0:
            out["generalized_dice"][c] = largest
    return out


DATASETS = {
    "three samples": [[900, 80, 20], [700, 300, 0], [1000, 0, 1]],
    "absent class": [[50, 14, 0], [60, 4, 0]],
    "single pixel": [[0, 1, 0]],
    "one class only": [[0, 30], [0, 12]],
    "background only": [[64, 0, 0]],
    "huge counts": [[8192 * 8192 * 40, 5, 3_000_000_000]],
}


@pytest.mark.parametrize("name", DATASETS)
def test_every_scheme_follows_its_definition(name):
    per_sample = DATASETS[name]
    ours = class_weights(np.array(per_sample))
    expected = reference_weights(per_sample)
    for scheme in SCHEMES:
        np.testing.assert_allclose(ours[scheme], expected[scheme], rtol=1e-9, err_msg=scheme)


def test_effective_number_with_a_given_beta():
    per_sample = DATASETS["three samples"]
    for beta in (0.0, 0.5, 0.999, 0.9999999):
        ours = class_weights(np.array(per_sample), beta=beta)["effective_number"]
        np.testing.assert_allclose(ours, reference_weights(per_sample, beta)["effective_number"])
    with pytest.raises(ValueError, match="beta"):
        class_weights(np.array(per_sample), beta=1.0)


def test_inverse_frequency_is_sklearn_balanced_on_exclusive_labels():
    rng = np.random.default_rng(3)
    labels = rng.choice(4, size=(2, 40, 50), p=[0.7, 0.2, 0.09, 0.01])
    per_sample = [np.bincount(s.ravel(), minlength=4) for s in labels]
    ours = class_weights(np.array(per_sample))["inverse_frequency"]
    sklearn = compute_class_weight("balanced", classes=np.arange(4), y=labels.ravel())
    np.testing.assert_allclose(ours, sklearn, rtol=1e-12)


def test_inverse_frequency_with_an_absent_class_is_sklearn_on_the_present_ones():
    labels = np.array([0] * 90 + [2] * 10)  # class 1 absent
    ours = class_weights(np.array([np.bincount(labels, minlength=3)]))["inverse_frequency"]
    sklearn = compute_class_weight("balanced", classes=np.array([0, 2]), y=labels)
    np.testing.assert_allclose(ours[[0, 2]], sklearn)
    assert ours[1] == 0


def _monai_generalized_dice(prediction, target_onehot):
    loss = GeneralizedDiceLoss(batch=True, smooth_nr=1.0, smooth_dr=1.0)
    return float(loss(torch.from_numpy(prediction), torch.from_numpy(target_onehot)))


def _generalized_dice_with(weights, prediction, target_onehot):
    axes = (0, *range(2, prediction.ndim))
    intersection = (prediction * target_onehot).sum(axis=axes)
    denominator = (prediction + target_onehot).sum(axis=axes)
    return 1 - (2 * (weights * intersection).sum() + 1) / ((weights * denominator).sum() + 1)


@pytest.mark.parametrize("empty_class", [None, 2])
def test_generalized_dice_weights_are_monais(empty_class):
    """MONAI's loss (with smoothing 1, so the weights' scale matters) equals the GDL
    formula evaluated with our weights, including MONAI's rule for an empty class."""
    rng = np.random.default_rng(7)
    labels = rng.choice(3, size=(2, 6, 7), p=[0.6, 0.3, 0.1])
    if empty_class is not None:
        labels[labels == empty_class] = 0
    target = np.stack([labels == k for k in range(3)], axis=1).astype(np.float64)
    per_sample = target.sum(axis=(2, 3)).astype(np.int64)
    weights = class_weights(per_sample)["generalized_dice"]
    for _ in range(5):
        prediction = rng.random(target.shape)
        expected = _monai_generalized_dice(prediction, target)
        assert _generalized_dice_with(weights, prediction, target) == pytest.approx(expected, 1e-6)
    wrong = weights.copy()
    wrong[empty_class if empty_class is not None else 2] *= 0.5
    assert _generalized_dice_with(wrong, prediction, target) != pytest.approx(expected, 1e-6)


def test_normalized_weights_have_mean_one_over_present_classes():
    per_sample = np.array(DATASETS["absent class"])
    present = per_sample.sum(axis=0) > 0
    for scheme, weights in class_weights(per_sample).items():
        scaled = normalized(weights, present)
        assert scaled[present].mean() == pytest.approx(1.0), scheme
        np.testing.assert_allclose(scaled * weights[present].mean(), weights)


def test_class_stats_json_from_3d_masks():
    masks = np.zeros((2, 3, 4, 5), np.uint8)
    masks[0, 0] = 1  # 20 voxels of class a
    masks[1, 0, 0, 0] = 1  # one voxel, also in a: a conflict
    masks[1, 2, :2, :2] = 1  # 4 more voxels of b
    ignore = np.zeros((3, 4, 5), bool)
    ignore[1, 0, :3] = True  # 3 ignored voxels
    row = tally(masks, ignore)
    assert row.tolist() == [60 - 20 - 4 - 3, 20, 5, 1]
    stats = ClassStats(["a", "b"], ["vol"], row[None])
    report = stats.to_json()
    assert report["classes"] == ["background", "a", "b"]
    assert report["counts"] == [33, 20, 5]
    assert report["frequencies"] == pytest.approx([33 / 58, 20 / 58, 5 / 58])
    assert report["conflicts"] == 1 and report["samples"] == 1
    assert report["present_in"] == [1, 1, 1]
    assert report["per_sample"] == [
        {"name": "vol", "counts": [33, 20, 5], "conflicts": 1, "sampler_weight": 1.0}
    ]
    expected = reference_weights([[33, 20, 5]])
    for scheme in SCHEMES:
        assert report["weights"][scheme] == pytest.approx(expected[scheme], rel=1e-12)


def test_tally_of_regions_adds_up_to_the_whole():
    rng = np.random.default_rng(0)
    masks = (rng.random((3, 30, 40)) < 0.3).astype(np.uint8)
    ignore = (masks.sum(axis=0) == 0) & (rng.random((30, 40)) < 0.2)
    left = tally(masks, ignore, (slice(0, 30), slice(0, 17)))
    right = tally(masks, ignore, (slice(0, 30), slice(17, 40)))
    np.testing.assert_array_equal(left + right, tally(masks, ignore))
