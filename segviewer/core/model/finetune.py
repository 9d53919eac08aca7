"""Fine-tune a model on a dataset's (fixed) labels with a chosen loss and class weights.

Training and validation samples are given (:func:`split` draws them by seed). Training
draws 2D or 3D patches (core.model.patches), samples drawn uniformly or by sampler weights.
Every ``validate_every`` steps the per-class validation Dice (MONAI's definition,
core.scores) is computed. The best weights so far, by mean Dice over the present
non-background classes, are kept. A loss that becomes NaN or infinite stops training and
restores the best weights; so does a cancel, which is seen between steps and between
validation windows.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from segviewer.core.data.sample import Sample
from segviewer.core.errors import SegviewerError
from segviewer.core.model.evaluation import channel_axis_of, check_classes
from segviewer.core.model.files import LoadedModel, ModelInfo, build_network, fresh_model
from segviewer.core.model.inference import Cancelled, choose_device, predict_labels
from segviewer.core.model.losses import IGNORE_TARGET, LOSSES, LossSettings, make_loss
from segviewer.core.model.patches import Prefetched, check_patch, check_patch_fits, patches
from segviewer.core.model.scores import mean_scores, score_sample
from segviewer.core.model.streamline import training_twin
from segviewer.core.stats.classes import ClassStats, tally
from segviewer.core.stats.weights import SCHEMES


@dataclass
class FinetuneSettings:
    loss: LossSettings = field(default_factory=LossSettings)
    weights: str = "uniform"  # a scheme of core.weights, computed on the training samples
    steps: int = 200
    lr: float = 1e-4  # fine-tuning trained weights; fresh weights learn faster at ~3e-3
    batch: int = 8
    patch: tuple[int, ...] = (128, 128)
    seed: int = 0
    validation_fraction: float = 0.25
    validate_every: int = 50
    conflicts: str = "refuse"  # or "ignore": conflict pixels take no part in the loss
    foreground: float = 0.33  # share of patches centred on a foreground voxel (nnU-Net's)
    sampler: str = "uniform"  # how samples are drawn: core.stats.sampler's schemes
    precision: str = "fp32"  # or "bf16": the network runs under bfloat16 autocast


@dataclass
class FinetuneResult:
    losses: list[float]  # training loss per step
    validation: list[tuple[int, list[float | None]]]  # (step, per-class Dice)
    best_step: int
    stopped: str | None = None  # None, "cancelled" or why it stopped early
    class_weights: list[float] | None = None
    train_names: list[str] = field(default_factory=list)
    validation_names: list[str] = field(default_factory=list)


CONFLICT_CHOICES = ("refuse", "ignore")
# bf16: mixed precision (autocast), ~2x faster 3D steps on CPU; a fresh network on tiny
# patches may overflow, which stops training with a message (the best weights are kept)
PRECISIONS = ("fp32", "bf16")


def training_labels(sample: Sample, conflicts: str = "refuse") -> np.ndarray:
    """0 background, c + 1 for class c, IGNORE_TARGET for painted "ignore" pixels and, when
    ``conflicts`` is "ignore", for conflict pixels; "refuse" refuses unresolved conflicts
    (naming the sample)."""
    if conflicts not in CONFLICT_CHOICES:
        raise SegviewerError(f"conflicts: expected one of {CONFLICT_CHOICES}, got {conflicts!r}")
    claims = sample.masks.sum(axis=0, dtype=np.uint16)
    conflicted = claims > 1
    count = int(np.count_nonzero(conflicted))
    if count and conflicts == "refuse":
        raise SegviewerError(
            f"{sample.name}: {count:,} conflict pixels are not resolved; resolve them first "
            "(Resolve tab or `segviewer resolve`) or choose to ignore them in training"
        )
    labels = np.zeros(sample.masks.shape[1:], np.int64)
    for c, mask in enumerate(sample.masks):
        labels[mask > 0] = c + 1
    labels[conflicted] = IGNORE_TARGET
    if sample.ignore is not None:
        labels[sample.ignore > 0] = IGNORE_TARGET
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


def default_split(
    spatial_dims: Sequence[int], fraction: float = 0.25, seed: int = 0, dims: int = 2
) -> tuple[list[int], list[int]]:
    """Sample indices ``(train, validation)`` that the panel and the CLI both start from: a
    seeded split of the samples with ``dims`` spatial axes (a 2D model trains on 2D patches,
    a 3D one on 3D patches). A 2D model also validates on the 3D samples (slice by slice);
    a 3D model cannot run on 2D samples, so they are in neither list."""
    flat = [i for i, n in enumerate(spatial_dims) if n == dims]
    try:
        train = [flat[i] for i in split(range(len(flat)), fraction, seed)[0]]
    except SegviewerError:  # too few samples to split: all of them train
        train = flat
    chosen = set(train)
    usable = (2, 3) if dims == 2 else (3,)
    validation = [i for i, n in enumerate(spatial_dims) if i not in chosen and n in usable]
    return train, validation


def fresh_model_for(arch: str, sample: Sample, dims: int) -> LoadedModel:
    """Fresh weights of ``arch`` for ``sample``'s classes and channels, in ``dims`` dims."""
    channels = 1 if channel_axis_of(sample) is None else sample.image.shape[-1]
    return fresh_model(arch, ["background", *sample.class_names], channels, dims)


def trained_part(model: LoadedModel, dims: int) -> LoadedModel:
    """The network of ``model`` that trains in ``dims`` dimensions: a bundled pair's 2D or
    3D model, alone (validation then scores the network being trained, and nothing else)."""
    if model.info.spatial_dims != dims and model.volume_model is not None:
        return model.volume_model
    return dataclasses.replace(model, volume_model=None) if model.volume_model else model


def validation_dice(model: LoadedModel, samples: Sequence[Sample], device: str, should_stop=None):
    """Per-class Dice (background first) averaged over ``samples``; raises Cancelled."""
    model.network.eval()
    scores = []
    try:
        for sample in samples:
            labels = predict_labels(
                model, sample.image, channel_axis_of(sample), device, should_stop=should_stop
            )
            scores.append(score_sample(sample.masks, labels, sample.ignore))
    finally:
        model.network.train()
    return mean_scores(scores).dice


def _quality(dice: list) -> float:
    foreground = [d for d in dice[1:] if d is not None]
    return float(np.mean(foreground)) if foreground else 0.0


def finetune(
    model: LoadedModel,
    train: Sequence[Sample],
    validation: Sequence[Sample],
    settings: FinetuneSettings,
    device: str = "cpu",
    progress: Callable[[int, float], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    validated: Callable[[int, list], None] | None = None,
) -> FinetuneResult:
    """Train ``model.network`` in place; on return it holds the best weights found.

    ``progress(step, loss)`` follows each step, ``validated(step, dice)`` each validation.
    """
    import torch

    device = choose_device(device)
    if settings.weights not in SCHEMES:
        raise SegviewerError(f"unknown weights {settings.weights!r}: one of {', '.join(SCHEMES)}")
    if len(settings.patch) != model.info.spatial_dims:
        raise SegviewerError(
            f"model '{model.info.name}' is {model.info.spatial_dims}D; the patch "
            f"{'×'.join(map(str, settings.patch))} is {len(settings.patch)}D"
        )
    if not 0 <= settings.foreground <= 1:
        raise SegviewerError(f"foreground share {settings.foreground}: expected 0 to 1")
    if settings.precision not in PRECISIONS:
        raise SegviewerError(
            f"precision {settings.precision!r}: expected one of {', '.join(PRECISIONS)}"
        )
    if not train or not validation:
        raise SegviewerError(
            f"fine-tuning needs at least one training and one validation sample; got "
            f"{len(train)} to train on and {len(validation)} to validate on"
        )
    check_patch(train, settings.patch)
    check_patch_fits(model, settings.patch)
    for sample in (*train, *validation):
        check_classes(model.info.classes, sample)
    labels = [training_labels(s, settings.conflicts) for s in train]
    images = [model.prepare(s.image, channel_axis_of(s)) for s in train]
    stats = ClassStats(
        train[0].class_names, [s.name for s in train], np.stack([tally(s.masks) for s in train])
    )
    weights = stats.normalized_weights()[settings.weights]
    sample_weights = stats.sampler_weights(settings.sampler)
    torch.manual_seed(settings.seed)
    network = model.network.to(device).train()
    loss_function = make_loss(settings.loss, torch.as_tensor(weights, dtype=torch.float32))
    optimizer = torch.optim.Adam(network.parameters(), lr=settings.lr, fused=device == "cuda")
    rng = np.random.default_rng(settings.seed)
    data = patches(
        images, labels, settings.patch, settings.batch, rng, settings.foreground, sample_weights
    )
    result = FinetuneResult([], [], 0)
    result.class_weights = [float(w) for w in weights]
    result.train_names = [s.name for s in train]
    result.validation_names = [s.name for s in validation]
    best_state = copy.deepcopy(network.state_dict())
    best_quality = None

    def validate(step: int) -> None:
        nonlocal best_state, best_quality
        dice = validation_dice(model, validation, device, should_stop)
        result.validation.append((step, dice))
        if validated is not None:
            validated(step, dice)
        if best_quality is None or _quality(dice) > best_quality:
            best_quality, result.best_step = _quality(dice), step
            best_state = copy.deepcopy(network.state_dict())

    sync_every = SYNC_EVERY[device]
    pending: list = []  # (step, loss, gradients finite) on the device, not yet read

    def read_pending() -> bool:
        """Read the losses of the steps since the last read (one host sync); False when
        one of them went wrong, with ``result.stopped`` saying where."""
        values = torch.stack([torch.stack([loss.float(), ok.float()]) for _, loss, ok in pending])
        for (step, _, _), (loss, ok) in zip(pending, values.tolist(), strict=True):
            problem = _step_problem(step, loss, ok, settings)
            if problem:
                result.stopped = problem
                return False
            result.losses.append(loss)
            if progress is not None:
                progress(step, loss)
        pending.clear()
        return True

    if device == "cuda":
        torch.backends.cudnn.benchmark = CUDNN_BENCHMARK
        data = Prefetched(data)
    trainee = training_twin(network) if STREAMLINE else network
    step_network = trainee
    try:
        validate(0)
        if device == "cuda" and settings.precision == "fp32" and settings.steps >= GRAPH_STEPS:
            step_network = _graphed(trainee, settings, images[0].shape[0])
        for step in range(1, settings.steps + 1):
            if should_stop is not None and should_stop():
                raise Cancelled
            x, y = next(data)
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            with torch.autocast(device, torch.bfloat16, enabled=settings.precision == "bf16"):
                logits = step_network(x)
            loss = loss_function(logits.float(), y)
            optimizer.zero_grad()
            loss.backward()
            finite = torch.isfinite(loss)
            if settings.precision != "fp32":
                finite = finite & _finite_gradients(network)
            if sync_every == 1 and not bool(finite):
                pending.append((step, loss.detach(), finite))
                read_pending()
                break
            # on CUDA a step that went wrong is seen at the next read of the losses (before
            # any validation), which stops training and restores the best weights
            optimizer.step()
            pending.append((step, loss.detach(), finite))
            last = step % settings.validate_every == 0 or step == settings.steps
            if (len(pending) >= sync_every or last) and not read_pending():
                break
            if last:
                validate(step)
    except Cancelled:
        result.stopped = "cancelled"
    finally:
        if isinstance(data, Prefetched):
            data.close()
        trainee.__dict__.pop("forward", None)  # the graphed forward, if any
    network.load_state_dict(best_state)
    network.eval()
    return result


# Training runs an equivalent network with fewer kernel launches (core/model/streamline.py).
STREAMLINE = True
# CUDA graphs from this many steps. A cold 200-step run of the bundled model on an H100 took
# 2.9 s graphed and 4.5 s eagerly (with cuDNN's algorithm search off; with it, capture cost
# seconds more than it saved).
GRAPH_STEPS = 0


def _graphed(network, settings: FinetuneSettings, channels: int):
    """``network`` with its training forward and backward replayed as CUDA graphs (one
    launch instead of hundreds: a small network is otherwise bound by kernel launches);
    the network itself where it cannot be captured. Eval mode still runs eagerly."""
    import torch

    x = torch.zeros((settings.batch, channels, *settings.patch), device="cuda")
    try:
        return torch.cuda.make_graphed_callables(network, (x,))
    except Exception:  # a user's network may hold what a graph cannot (host syncs, hooks)
        network.__dict__.pop("forward", None)
        return network


# cuDNN's algorithm search for each new shape: off, it cost a cold 200-step run on an H100
# 5 to 12 s and saved nothing measurable
CUDNN_BENCHMARK = False

# steps between reads of the loss (on CUDA each read waits for the GPU to catch up)
SYNC_EVERY = {"cpu": 1, "cuda": 25}


def _finite_gradients(network):
    """A device boolean: whether every gradient is finite (no host sync)."""
    import torch

    grads = [p.grad for p in network.parameters() if p.grad is not None]
    return torch.isfinite(torch.stack([torch.linalg.vector_norm(g) for g in grads])).all()


def _step_problem(step: int, loss: float, finite: float, settings: FinetuneSettings) -> str:
    """Why training stops at ``step``, or "" when it went well."""
    if not np.isfinite(loss):
        return (
            f"the loss became {loss} at step {step} (learning rate {settings.lr} too high?); "
            "the best weights so far are kept"
        )
    if not finite:
        return (
            f"the gradients overflowed in {settings.precision} at step {step}; the best "
            "weights so far are kept (train in fp32, or with a larger patch)"
        )
    return ""


def load_libraries() -> None:
    """Import what predicting and training need, by one training step of a tiny network:
    torch, MONAI, and what torch imports at an optimizer's first step (torch._dynamo, sympy),
    3-4 s on 2 CPU cores the first time. A GUI calls it in a worker ahead of the first run:
    while a thread imports, the GUI thread waits for Python's GIL up to ~0.3 s at a time."""
    import monai.networks.nets  # noqa: F401  (the bundled model's architecture)
    import safetensors.torch  # noqa: F401  (model files)
    import torch

    network = torch.nn.Conv2d(1, 2, 1)
    optimizer = torch.optim.Adam(network.parameters())
    target = torch.zeros((1, 1, 4, 4), dtype=torch.long)
    make_loss(LossSettings("dicece"))(network(torch.zeros((1, 1, 4, 4))), target).backward()
    optimizer.step()


def untrained_copy(model: LoadedModel, seed: int = 0) -> LoadedModel:
    """A new network of ``model``'s architecture with fresh random weights."""
    import torch

    torch.manual_seed(seed)
    info = ModelInfo.from_json(model.info.to_json())
    info.name, info.training, info.scores = f"{info.name} (untrained)", {}, {}
    return LoadedModel(info, build_network(info))


def compare_losses(
    model: LoadedModel,
    train: Sequence[Sample],
    validation: Sequence[Sample],
    runs: Sequence[FinetuneSettings],
    device: str = "cpu",
    progress: Callable[[int, int, float], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    validated: Callable[[int, int, list], None] | None = None,
) -> list[FinetuneResult]:
    """One fine-tune per settings in ``runs``, each from ``model``'s weights as given (same
    seed, samples and patches), leaving ``model`` unchanged. ``progress(run, step, loss)``."""
    start = copy.deepcopy(model.network.state_dict())
    results = []
    for index, settings in enumerate(runs):
        model.network.load_state_dict(start)
        run_progress = None if progress is None else lambda s, v, i=index: progress(i, s, v)
        run_validated = None if validated is None else lambda s, d, i=index: validated(i, s, d)
        result = finetune(
            model, train, validation, settings, device, run_progress, should_stop, run_validated
        )
        results.append(result)
        if results[-1].stopped == "cancelled":
            break
    model.network.load_state_dict(start)
    return results


def run_settings(spec: str, base: FinetuneSettings) -> FinetuneSettings:
    """``base`` with the loss, weights and sampling of ``spec``:
    ``LOSS[:SCHEME][:nobg][:sampler]``, e.g. ``dicece:inverse_frequency``,
    ``dice:uniform:nobg`` or ``dicece:uniform:sampler`` (samples drawn by rarest-class
    sampler weights)."""
    loss_name, *options = spec.split(":")
    flags = {"nobg", "sampler"}
    schemes = [o for o in options if o not in flags]
    if (
        loss_name not in LOSSES
        or len(schemes) > 1
        or any(o not in SCHEMES for o in schemes)
        or len(set(options)) != len(options)
    ):
        raise SegviewerError(
            f"{spec!r}: expected LOSS[:SCHEME][:nobg][:sampler] with a loss of "
            f"{', '.join(LOSSES)} and a scheme of {', '.join(SCHEMES)}"
        )
    loss = dataclasses.replace(base.loss, name=loss_name, include_background="nobg" not in options)
    return dataclasses.replace(
        base,
        loss=loss,
        weights=schemes[0] if schemes else "uniform",
        sampler="rarest_class" if "sampler" in options else base.sampler,
    )


def run_label(settings: FinetuneSettings) -> str:
    """A short name for one run, e.g. ``dicece (1:1), inverse_frequency``."""
    sampler = "" if settings.sampler == "uniform" else f", {settings.sampler} sampler"
    return f"{settings.loss.label()}, {settings.weights}{sampler}"


def best_dice(result: FinetuneResult) -> list | None:
    """Per-class validation Dice of the kept (best) weights; None if cancelled before the
    first validation."""
    return dict(result.validation).get(result.best_step)


def training_record(settings: FinetuneSettings, result: FinetuneResult, source: str) -> dict:
    """What a model file's ``info.training`` says about a fine-tune."""
    return {
        "finetuned_from": source,
        "loss": vars(settings.loss),
        "weights": settings.weights,
        "class_weights": result.class_weights,
        "conflicts": settings.conflicts,
        "steps": len(result.losses),
        "best_step": result.best_step,
        "lr": settings.lr,
        "batch": settings.batch,
        "patch": list(settings.patch),
        "foreground": settings.foreground,
        "sampler": settings.sampler,
        "precision": settings.precision,
        "seed": settings.seed,
        "train": result.train_names,
        "validation": result.validation_names,
    }


def record_finetune(
    model: LoadedModel, name: str, settings: FinetuneSettings, result: FinetuneResult
) -> list:
    """Rename a fine-tuned model and record how it was made and its best validation Dice in
    its metadata (what its model file will say); return that Dice, background first."""
    dice = best_dice(result)
    info = model.info
    info.training = training_record(settings, result, info.name)
    info.name = name
    info.scores = {"validation_dice": dict(zip(info.classes, dice, strict=True))}
    return dice
