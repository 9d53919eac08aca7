"""Fine-tuning: losses as the libraries define them, learning, NaN, cancel and bad input."""

import numpy as np
import pytest
import torch

from segviewer.core.errors import SegviewerError
from segviewer.core.finetune import FinetuneSettings, finetune
from segviewer.core.inference import predict
from segviewer.core.losses import LOSSES, LossSettings, make_loss
from segviewer.core.models import LoadedModel, load_model, save_model
from segviewer.core.registry import open_model
from segviewer.core.resolve import resolve_sample
from segviewer.core.synthetic import make_dataset_samples


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


def test_weighted_cross_entropy_is_the_documented_formula():
    torch.manual_seed(1)
    logits, target = torch.randn(2, 3, 6, 5), torch.randint(0, 3, (2, 1, 6, 5))
    weights = torch.tensor([0.2, 1.0, 3.0])
    ours = make_loss(LossSettings("ce"), weights)(logits, target)
    nll = -torch.log_softmax(logits, 1).gather(1, target)[:, 0]
    w = weights[target[:, 0]]
    assert float(ours) == pytest.approx(float((w * nll).sum() / w.sum()), rel=1e-6)


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
    result = finetune(model, resolved_samples(), settings)
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
    result = finetune(model, resolved_samples(3), settings)
    assert result.stopped.startswith("the loss became")
    assert "learning rate 1000000000000.0 too high?" in result.stopped
    assert all(torch.isfinite(p).all() for p in model.network.parameters())


def test_cancel_stops_at_once():
    model = weakened_bundled()
    calls = []
    settings = FinetuneSettings(steps=50, batch=2, patch=(64, 64))
    result = finetune(model, resolved_samples(3), settings, should_stop=lambda: len(calls) > 2,
                      progress=lambda step, loss: calls.append(step))  # fmt: skip
    assert result.stopped == "cancelled" and len(result.losses) == 3


def test_bad_input_is_explained():
    model = open_model("bundled")
    with pytest.raises(SegviewerError, match="at least 2 samples"):
        finetune(model, resolved_samples(1), FinetuneSettings(steps=1))
    conflicted = make_dataset_samples(3, count=3, volumes=0)
    with pytest.raises(SegviewerError, match="conflict pixels are not resolved"):
        finetune(model, conflicted, FinetuneSettings(steps=1))
    with pytest.raises(SegviewerError, match="the patch 4096×4096 is larger than the image"):
        finetune(model, resolved_samples(3), FinetuneSettings(steps=1, patch=(4096, 4096)))
