"""Fine-tuning: losses as the libraries define them, learning, NaN, cancel and bad input."""

import numpy as np
import pytest
import torch

from segviewer.core.data.synthetic import make_dataset_samples
from segviewer.core.editing.rules import resolve_sample
from segviewer.core.errors import SegviewerError
from segviewer.core.model import finetune as tuning
from segviewer.core.model.files import LoadedModel, load_model, save_model
from segviewer.core.model.finetune import FinetuneSettings, compare_losses, finetune, run_settings
from segviewer.core.model.inference import predict
from segviewer.core.model.losses import IGNORE_TARGET, LOSSES, LossSettings, make_loss
from segviewer.core.model.registry import open_model


def resolved_samples(count=4, seed=77):
    samples = make_dataset_samples(seed, count=count, volumes=0)
    for sample in samples:
        resolve_sample(sample, "priority", [1, 0])  # spot wins, as the bundled model learned
    return samples


def weakened_bundled() -> LoadedModel:
    model = open_model("bundled")
    torch.manual_seed(0)
    with torch.no_grad():  # scramble the last layer: the model forgets its classes
        for parameter in list(model.network.parameters())[-2:]:
            parameter.normal_(0, 0.5)
    return model


def split(samples):
    return tuning.split(samples, 0.25, 0)


WEIGHTS = [0.3, 1.0, 2.5]


def monai_loss(settings: LossSettings, weights):
    """The MONAI class itself on logits (or torch's CrossEntropyLoss for ce)."""
    from monai.losses import DiceCELoss, DiceLoss, FocalLoss, GeneralizedDiceLoss

    background, w = settings.include_background, torch.tensor(weights)
    channel_w = w if background else w[1:]
    common = dict(include_background=background, to_onehot_y=True)
    if settings.name == "ce":
        ce = torch.nn.CrossEntropyLoss(weight=w)
        return lambda logits, target: ce(logits, target[:, 0])
    return {
        "dice": lambda: DiceLoss(softmax=True, weight=channel_w, **common),
        "dicece": lambda: DiceCELoss(
            softmax=True,
            weight=w,
            lambda_dice=settings.lambda_dice,
            lambda_ce=settings.lambda_ce,
            **common,
        ),
        "focal": lambda: FocalLoss(
            use_softmax=True, gamma=settings.gamma, weight=channel_w, **common
        ),
        "generalized_dice": lambda: GeneralizedDiceLoss(softmax=True, **common),
    }[settings.name]()


@pytest.mark.parametrize("background", [True, False])
@pytest.mark.parametrize("name", LOSSES)
def test_every_loss_equals_monai_on_random_inputs(name, background):
    torch.manual_seed(3)
    settings = LossSettings(name, background, lambda_dice=0.7, lambda_ce=1.6, gamma=1.5)
    for shape in [(2, 3, 9, 7), (1, 3, 5, 4, 6)]:  # 2D and 3D
        logits = torch.randn(*shape) * 3
        target = torch.randint(0, 3, (shape[0], 1, *shape[2:]))
        target[0, 0].flatten()[:5] = 2  # a class with a few pixels; others may be absent
        ours = make_loss(settings, WEIGHTS)(logits, target)
        theirs = monai_loss(settings, WEIGHTS)(logits, target)
        assert float(ours) == pytest.approx(float(theirs), abs=1e-6, rel=1e-6)
    empty = torch.zeros(1, 1, 6, 6, dtype=torch.long)  # background only: classes absent
    logits = torch.randn(1, 3, 6, 6)
    assert float(make_loss(settings, WEIGHTS)(logits, empty)) == pytest.approx(
        float(monai_loss(settings, WEIGHTS)(logits, empty)), abs=1e-6
    )


@pytest.mark.parametrize("name", LOSSES)
def test_ignored_pixels_take_no_part(name):
    torch.manual_seed(4)
    loss = make_loss(LossSettings(name), WEIGHTS)
    logits, target = torch.randn(2, 3, 8, 10), torch.randint(0, 3, (2, 1, 8, 10))
    masked = target.clone()
    masked[..., 6:] = IGNORE_TARGET  # the same as cropping the last 4 columns away
    expected = loss(logits[..., :6], target[..., :6])
    assert float(loss(logits, masked)) == pytest.approx(float(expected), rel=1e-6)
    logits[..., 6:] = 1e3 * torch.randn(2, 3, 8, 4)  # what the model says there is irrelevant
    assert float(loss(logits, masked)) == pytest.approx(float(expected), rel=1e-6)
    all_ignored = torch.full_like(target, IGNORE_TARGET)
    assert torch.isfinite(loss(logits, all_ignored))


def test_training_labels_mark_conflicts_and_ignore_pixels():
    sample = make_dataset_samples(3, count=1, volumes=0)[0]
    conflicts = sample.masks.sum(0) > 1
    assert conflicts.any()
    with pytest.raises(SegviewerError, match=f"{sample.name}: .* conflict pixels"):
        tuning.training_labels(sample, "refuse")
    sample.ignore = np.zeros(sample.spatial_shape, np.uint8)
    sample.ignore[:3, :3] = 1
    labels = tuning.training_labels(sample, "ignore")
    expected = np.where(sample.masks[1] > 0, 2, np.where(sample.masks[0] > 0, 1, 0))
    expected[conflicts | (sample.ignore > 0)] = IGNORE_TARGET
    np.testing.assert_array_equal(labels, expected)


def test_weighted_cross_entropy_is_the_documented_formula():
    torch.manual_seed(1)
    logits, target = torch.randn(2, 3, 6, 5), torch.randint(0, 3, (2, 1, 6, 5))
    weights = torch.tensor([0.2, 1.0, 3.0])
    ours = make_loss(LossSettings("ce"), weights)(logits, target)
    nll = -torch.log_softmax(logits, 1).gather(1, target)[:, 0]
    w = weights[target[:, 0]]
    assert float(ours) == pytest.approx(float((w * nll).sum() / w.sum()), rel=1e-6)
    nothing = torch.full_like(target, IGNORE_TARGET)  # every pixel ignored: nothing to learn
    logits.requires_grad_(True)
    empty = make_loss(LossSettings("ce"), weights)(logits, nothing)
    empty.backward()
    assert float(empty) == 0 and not logits.grad.any()


@pytest.mark.parametrize("name", LOSSES)
def test_every_loss_is_finite_and_uses_its_settings(name):
    torch.manual_seed(2)
    logits, target = torch.randn(2, 3, 8, 8), torch.randint(0, 3, (2, 1, 8, 8))
    loss = make_loss(LossSettings(name), torch.tensor([0.5, 1.0, 2.0]))(logits, target)
    assert torch.isfinite(loss)
    perfect = torch.nn.functional.one_hot(target[:, 0], 3).movedim(-1, 1).float() * 50
    assert make_loss(LossSettings(name))(perfect, target) < loss


def test_a_short_finetune_repairs_a_weakened_model(tmp_path):
    model = weakened_bundled()
    settings = FinetuneSettings(
        LossSettings("dicece"), "median_frequency", steps=40, lr=3e-3, batch=4,
        patch=(96, 96), validate_every=20,
    )  # fmt: skip
    result = finetune(model, *split(resolved_samples()), settings)
    before = result.validation[0][1]
    after = dict(result.validation)[result.best_step]
    assert np.mean(result.losses[-5:]) < np.mean(result.losses[:5])
    assert np.nanmean(after[1:]) > np.nanmean([d or 0 for d in before[1:]]) + 0.1
    assert result.stopped is None and len(result.class_weights) == 3

    save_model(tmp_path / "tuned.safetensors", model.network, model.info)
    network, info = load_model(tmp_path / "tuned.safetensors")
    image = resolved_samples(1, seed=5)[0].image
    np.testing.assert_array_equal(
        predict(LoadedModel(info, network), image, None), predict(model, image, None)
    )


def test_nan_stops_with_a_message_and_keeps_good_weights():
    model = weakened_bundled()
    settings = FinetuneSettings(steps=20, lr=1e12, batch=2, patch=(64, 64), validate_every=5)
    result = finetune(model, *split(resolved_samples(3)), settings)
    assert result.stopped.startswith("the loss became")
    assert "learning rate 1000000000000.0 too high?" in result.stopped
    assert all(torch.isfinite(p).all() for p in model.network.parameters())


def test_cancel_stops_at_once():
    model = weakened_bundled()
    calls = []
    settings = FinetuneSettings(steps=50, batch=2, patch=(64, 64))
    result = finetune(model, *split(resolved_samples(3)), settings,
                      should_stop=lambda: len(calls) > 2,
                      progress=lambda step, loss: calls.append(step))  # fmt: skip
    assert result.stopped == "cancelled" and len(result.losses) == 3


def test_cancel_is_seen_inside_a_validation():
    model, calls = weakened_bundled(), []
    settings = FinetuneSettings(steps=5, batch=2, patch=(64, 64), validate_every=1)
    result = finetune(model, *split(resolved_samples(3)), settings,
                      should_stop=lambda: bool(calls),  # set after step 1, before validating
                      progress=lambda step, loss: calls.append(step))  # fmt: skip
    assert result.stopped == "cancelled"
    assert len(result.losses) == 1 and [step for step, _ in result.validation] == [0]


def test_conflicts_can_be_ignored_instead_of_refused():
    model = weakened_bundled()
    conflicted = make_dataset_samples(3, count=3, volumes=0)
    settings = FinetuneSettings(steps=3, batch=2, patch=(64, 64), conflicts="ignore")
    result = finetune(model, *split(conflicted), settings)
    assert result.stopped is None and len(result.losses) == 3


def test_compare_losses_runs_each_setting_from_the_same_start():
    model = weakened_bundled()
    start = {k: v.clone() for k, v in model.network.state_dict().items()}
    base = FinetuneSettings(steps=4, batch=2, patch=(64, 64), validate_every=2)
    runs = [run_settings(s, base) for s in ["dice", "dice", "ce:inverse_frequency"]]
    results = compare_losses(model, *split(resolved_samples(3)), runs)
    assert results[0].losses == results[1].losses  # same seed, samples and patches
    assert results[0].validation == results[1].validation
    assert results[2].losses != results[0].losses
    assert results[2].class_weights != results[0].class_weights == [1.0, 1.0, 1.0]
    for key, value in model.network.state_dict().items():
        torch.testing.assert_close(value, start[key])


def test_run_settings_are_read_from_short_specs():
    base = FinetuneSettings(steps=7)
    settings = run_settings("dicece:median_frequency:nobg", base)
    assert (settings.loss.name, settings.weights, settings.loss.include_background) == (
        "dicece", "median_frequency", False
    )  # fmt: skip
    assert settings.steps == 7 and run_settings("focal", base).weights == "uniform"
    for bad in ["dise", "dice:often", "dice:uniform:x", ""]:
        with pytest.raises(SegviewerError, match="expected LOSS"):
            run_settings(bad, base)


def test_bad_input_is_explained():
    model = open_model("bundled")
    with pytest.raises(SegviewerError, match="at least 2 samples"):
        split(resolved_samples(1))
    with pytest.raises(SegviewerError, match="got 2 to train on and 0 to validate on"):
        finetune(model, resolved_samples(2), [], FinetuneSettings(steps=1))
    conflicted = make_dataset_samples(3, count=3, volumes=0)
    with pytest.raises(SegviewerError, match="conflict pixels are not resolved"):
        finetune(model, *split(conflicted), FinetuneSettings(steps=1))
    volume = make_dataset_samples(5, count=0, volumes=1)[0]
    resolve_sample(volume, "priority", [1, 0])
    with pytest.raises(
        SegviewerError, match="volume_000: a 3D sample; this fine-tune trains on 2D"
    ):
        finetune(model, [volume], resolved_samples(1), FinetuneSettings(steps=1))
    if not torch.cuda.is_available():
        with pytest.raises(SegviewerError, match="CUDA was requested but no GPU"):
            finetune(model, *split(resolved_samples(3)), FinetuneSettings(steps=1), "cuda")
    with pytest.raises(SegviewerError, match="the patch 4096×4096 is larger than the image"):
        finetune(model, *split(resolved_samples(3)), FinetuneSettings(steps=1, patch=(4096, 4096)))


def test_the_default_split_is_seeded_and_lets_3d_samples_validate():
    from segviewer.core.model.finetune import default_split

    dims = [2, 2, 3, 2, 2, 2, 2, 2, 2]
    train, validation = default_split(dims, 0.25, 0)
    assert (train, validation) == default_split(dims, 0.25, 0)
    assert sorted(train + validation) == list(range(9))
    assert 2 in validation and all(dims[i] == 2 for i in train)
    assert len([i for i in validation if dims[i] == 2]) == round(0.25 * 8)
    assert default_split([2, 3], 0.25, 0) == ([0], [1])  # one 2D sample trains


def test_reading_losses_in_bursts_changes_nothing(monkeypatch):
    """On CUDA the losses are read every 25 steps (no host sync per step): the same run
    read in bursts of 7 reports the same losses, steps and weights, and a loss that becomes
    NaN inside a burst still stops training at that step with the best weights kept."""
    samples = split(resolved_samples(3))
    settings = FinetuneSettings(steps=20, batch=2, patch=(64, 64), validate_every=10)
    runs = []
    for every in (1, 7):
        monkeypatch.setitem(tuning.SYNC_EVERY, "cpu", every)
        model, steps = weakened_bundled(), []
        result = finetune(
            model, *samples, settings, progress=lambda s, v, steps=steps: steps.append(s)
        )
        runs.append((result.losses, steps, result.validation, model.network.state_dict()))
    assert runs[0][:3] == runs[1][:3] and runs[0][1] == list(range(1, 21))
    assert all(torch.equal(runs[0][3][k], runs[1][3][k]) for k in runs[0][3])
    monkeypatch.setitem(tuning.SYNC_EVERY, "cpu", 7)
    model = weakened_bundled()
    nan = FinetuneSettings(steps=20, lr=1e12, batch=2, patch=(64, 64), validate_every=5)
    result = finetune(model, *samples, nan)
    assert result.stopped.startswith("the loss became")
    bad_step = int(result.stopped.split(" at step ")[1].split()[0])
    assert bad_step == len(result.losses) + 1
    assert all(torch.isfinite(p).all() for p in model.network.parameters())


def test_prefetched_batches_are_the_same_batches_and_errors_come_through():
    from segviewer.core.model.patches import Prefetched

    def batches(fail_at=None):
        for i in range(6):
            if i == fail_at:
                raise ValueError("broken sample")
            yield torch.full((2,), i), torch.full((1,), -i)

    direct = list(batches())
    ahead = Prefetched(batches(), depth=2, pin=False)
    got = [next(ahead) for _ in range(6)]
    ahead.close()
    assert all(
        torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
        for a, b in zip(direct, got, strict=True)
    )
    failing = Prefetched(batches(fail_at=3), depth=2, pin=False)
    assert [int(next(failing)[0][0]) for _ in range(3)] == [0, 1, 2]
    with pytest.raises(ValueError, match="broken sample"):
        next(failing)
