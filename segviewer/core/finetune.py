"""Fine-tune a model on a dataset's (fixed) labels with a chosen loss and class weights.

Samples are split once, by seed, into training and validation samples. Training draws
random patches with 90° rotations and flips. Every ``validate_every`` steps the per-class
validation Dice (MONAI's definition, core.scores) is computed. The best weights so far, by
mean Dice over the present non-background classes, are kept. A loss that becomes NaN or
infinite stops training and restores the last good weights; so does a cancel.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from segviewer.core.errors import SegviewerError
from segviewer.core.evaluation import channel_axis_of
from segviewer.core.inference import labels_of, predict
from segviewer.core.losses import LossSettings, make_loss
from segviewer.core.models import LoadedModel
from segviewer.core.sample import Sample
from segviewer.core.scores import mean_scores, score_sample
from segviewer.core.stats import ClassStats, tally
from segviewer.core.weights import SCHEMES


@dataclass
class FinetuneSettings:
    loss: LossSettings = field(default_factory=LossSettings)
    weights: str = "uniform"  # a scheme of core.weights, computed on the training samples
    steps: int = 200
    lr: float = 1e-3
    batch: int = 8
    patch: tuple[int, ...] = (128, 128)
    seed: int = 0
    validation_fraction: float = 0.25
    validate_every: int = 50


@dataclass
class FinetuneResult:
    losses: list[float]  # training loss per step
    validation: list[tuple[int, list[float | None]]]  # (step, per-class Dice)
    best_step: int
    stopped: str | None = None  # None, "cancelled" or why it stopped early
    class_weights: list[float] | None = None
    train_names: list[str] = field(default_factory=list)
    validation_names: list[str] = field(default_factory=list)


def exclusive_labels(sample: Sample) -> np.ndarray:
    """0 background, c + 1 for class c; refuses unresolved conflicts (say which sample)."""
    claims = sample.masks.sum(axis=0, dtype=np.uint16)
    conflicts = int(np.count_nonzero(claims > 1))
    if conflicts:
        raise SegviewerError(
            f"{sample.name}: {conflicts:,} conflict pixels are not resolved; resolve them "
            "first (Resolve tab or `segviewer resolve`) so each pixel has one class"
        )
    labels = np.zeros(sample.masks.shape[1:], np.int64)
    for c, mask in enumerate(sample.masks):
        labels[mask > 0] = c + 1
    return labels


def split(samples: Sequence[Sample], fraction: float, seed: int):
    """(training, validation) samples: a seeded shuffle, at least one of each."""
    if len(samples) < 2:
        raise SegviewerError(
            f"fine-tuning needs at least 2 samples (one to train on, one to validate); "
            f"got {len(samples)}"
        )
    order = np.random.default_rng(seed).permutation(len(samples))
    n_val = min(len(samples) - 1, max(1, round(fraction * len(samples))))
    return [samples[i] for i in order[n_val:]], [samples[i] for i in order[:n_val]]


def patches(images, labels, patch, batch: int, rng: np.random.Generator) -> Iterator:
    """Endless ``(x, y)`` batches of random 2D patches with 90° rotations and flips."""
    import torch

    h, w = patch
    while True:
        xs, ys = [], []
        for index in rng.integers(0, len(images), batch):
            image, label = images[index], labels[index]
            y0 = rng.integers(0, label.shape[0] - h + 1)
            x0 = rng.integers(0, label.shape[1] - w + 1)
            x = image[:, y0 : y0 + h, x0 : x0 + w]
            y = label[None, y0 : y0 + h, x0 : x0 + w]
            k = int(rng.integers(4)) if h == w else 2 * int(rng.integers(2))
            x, y = np.rot90(x, k, (1, 2)), np.rot90(y, k, (1, 2))
            if rng.integers(2):
                x, y = x[:, ::-1], y[:, ::-1]
            xs.append(np.ascontiguousarray(x))
            ys.append(np.ascontiguousarray(y))
        yield torch.from_numpy(np.stack(xs)), torch.from_numpy(np.stack(ys))


def validation_dice(model: LoadedModel, samples: Sequence[Sample], device: str) -> list:
    model.network.eval()
    scores = []
    for sample in samples:
        probabilities = predict(model, sample.image, channel_axis_of(sample), device)
        scores.append(score_sample(sample.masks, labels_of(probabilities), sample.ignore))
    model.network.train()
    return mean_scores(scores).dice


def _quality(dice: list) -> float:
    foreground = [d for d in dice[1:] if d is not None]
    return float(np.mean(foreground)) if foreground else 0.0


def finetune(
    model: LoadedModel,
    samples: Sequence[Sample],
    settings: FinetuneSettings,
    device: str = "cpu",
    progress: Callable[[int, float], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> FinetuneResult:
    """Train ``model.network`` in place; on return it holds the best weights found."""
    import torch

    if settings.weights not in SCHEMES:
        raise SegviewerError(f"unknown weights {settings.weights!r}: one of {', '.join(SCHEMES)}")
    if model.info.spatial_dims != 2 or len(settings.patch) != 2:
        raise SegviewerError("fine-tuning supports 2D models and 2D patches")
    train, val = split(list(samples), settings.validation_fraction, settings.seed)
    for sample in train:
        if any(s < p for s, p in zip(sample.spatial_shape, settings.patch, strict=False)):
            raise SegviewerError(
                f"{sample.name}: the patch {'×'.join(map(str, settings.patch))} is larger "
                f"than the image ({'×'.join(map(str, sample.spatial_shape))}); choose a "
                "smaller patch"
            )
    labels = [exclusive_labels(s) for s in train]
    images = [model.prepare(s.image, channel_axis_of(s)) for s in train]
    stats = ClassStats(
        train[0].class_names, [s.name for s in train], np.stack([tally(s.masks) for s in train])
    )
    weights = stats.normalized_weights()[settings.weights]
    torch.manual_seed(settings.seed)
    network = model.network.to(device).train()
    loss_function = make_loss(settings.loss, torch.as_tensor(weights, dtype=torch.float32))
    optimizer = torch.optim.Adam(network.parameters(), lr=settings.lr)
    data = patches(
        images, labels, settings.patch, settings.batch, np.random.default_rng(settings.seed)
    )
    best_state = copy.deepcopy(network.state_dict())
    initial = validation_dice(model, val, device)
    best_quality, best_step = _quality(initial), 0
    result = FinetuneResult([], [(0, initial)], 0)
    result.class_weights = [float(w) for w in weights]
    result.train_names, result.validation_names = [s.name for s in train], [s.name for s in val]
    for step in range(1, settings.steps + 1):
        if should_stop is not None and should_stop():
            result.stopped = "cancelled"
            break
        x, y = next(data)
        loss = loss_function(network(x.to(device)), y.to(device))
        if not torch.isfinite(loss):
            result.stopped = (
                f"the loss became {loss.item()} at step {step} (learning rate {settings.lr} "
                "too high?); the last good weights are kept"
            )
            break
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        result.losses.append(float(loss.item()))
        if progress is not None:
            progress(step, result.losses[-1])
        if step % settings.validate_every == 0 or step == settings.steps:
            dice = validation_dice(model, val, device)
            result.validation.append((step, dice))
            if _quality(dice) > best_quality:
                best_quality, best_step = _quality(dice), step
                best_state = copy.deepcopy(network.state_dict())
    network.load_state_dict(best_state)
    network.eval()
    result.best_step = best_step
    return result
