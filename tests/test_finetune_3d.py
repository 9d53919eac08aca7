"""3D fine-tuning, fresh MONAI architectures, foreground oversampling and sampler weights."""

import json

import numpy as np
import pytest
import torch
from test_cli import run_cli

from segviewer.core.data.synthetic import make_sample
from segviewer.core.editing.rules import resolve_sample
from segviewer.core.errors import SegviewerError
from segviewer.core.io.writers import save_samples
from segviewer.core.model.files import ARCHITECTURES, fresh_model
from segviewer.core.model.finetune import (
    FinetuneSettings,
    finetune,
    run_label,
    run_settings,
    validation_dice,
)
from segviewer.core.model.patches import default_patch, patches
from segviewer.core.model.registry import open_model


def volumes(seed: int, count: int, shape=(32, 64, 64)):
    rng = np.random.default_rng(seed)
    samples = [make_sample(rng, shape, f"vol_{seed}_{i}") for i in range(count)]
    for sample in samples:
        resolve_sample(sample, "priority", [1, 0])
    return samples


def test_3d_patches_are_drawn_around_foreground_as_often_as_asked():
    label = np.zeros((20, 40, 40), np.int64)
    label[3:5, 30:33, 5:8] = 2  # one tiny object in a corner
    image = np.arange(label.size, dtype=np.float32).reshape(1, *label.shape)
    rng = np.random.default_rng(0)

    def share_with_object(foreground: float) -> float:
        data = patches([image], [label], (8, 16, 16), 50, rng, foreground)
        x, y = next(data)
        assert x.shape == (50, 1, 8, 16, 16) and y.shape == (50, 1, 8, 16, 16)
        return float((y == 2).flatten(1).any(1).float().mean())

    assert share_with_object(1.0) == 1.0
    assert share_with_object(0.0) < 0.3


def test_samples_are_drawn_by_their_sampler_weights():
    labels = [np.zeros((8, 8), np.int64), np.ones((8, 8), np.int64)]
    images = [np.zeros((1, 8, 8), np.float32), np.ones((1, 8, 8), np.float32)]
    data = patches(images, labels, (4, 4), 64, np.random.default_rng(1), 0.0, [0.0, 1.0])
    x, _ = next(data)
    assert bool((x == 1).all())
    data = patches(images, labels, (4, 4), 400, np.random.default_rng(1), 0.0, [0.25, 0.75])
    share = float(next(data)[0].flatten(1)[:, 0].mean())
    assert 0.68 < share < 0.82


def test_the_default_3d_patch_follows_voxel_spacing_and_volume_size():
    small = volumes(1, 1, (20, 64, 200))
    assert default_patch(small, 3) == (16, 64, 64)
    assert default_patch(small, 3, spacing=(3.0, 1.0, 1.0)) == (16, 64, 64)
    big = volumes(1, 1, (96, 96, 96))
    assert default_patch(big, 3) == (64, 64, 64)
    assert default_patch(big, 3, spacing=(1.0, 0.5, 0.5)) == (32, 64, 64)
    assert default_patch(big, 2) == (128, 128)


@pytest.mark.parametrize("arch", list(ARCHITECTURES))
@pytest.mark.parametrize("dims", [2, 3])
def test_every_architecture_builds_fresh_in_2d_and_3d(arch, dims):
    shape = (32,) * dims
    model = fresh_model(arch, ["background", "a", "b"], 2, dims, shape)
    with torch.no_grad():
        logits = model.network(torch.zeros((1, 2, *shape)))
    assert tuple(logits.shape) == (1, 3, *shape)
    assert model.info.architecture["name"] == ARCHITECTURES[arch]["name"]


def test_an_unknown_architecture_is_refused():
    with pytest.raises(SegviewerError, match="--arch 'vnet': unknown architecture"):
        fresh_model("vnet", ["background", "a"], 1, 3, (32, 32, 32))


def test_a_weakened_3d_model_is_repaired_by_3d_finetuning():
    torch.manual_seed(0)
    model = open_model("bundled").volume_model
    assert model.info.spatial_dims == 3
    train, validation = volumes(7, 3), volumes(8, 1)
    healthy = validation_dice(model, validation, "cpu")
    with torch.no_grad():  # weaken: noise of half each tensor's spread on every weight
        for parameter in model.network.parameters():
            parameter.add_(torch.randn_like(parameter) * parameter.std() * 0.5)
    weakened = validation_dice(model, validation, "cpu")
    assert weakened[2] < healthy[2] - 0.2, (weakened, healthy)
    settings = FinetuneSettings(
        steps=40, lr=1e-3, batch=2, patch=(32, 48, 48), validate_every=20, foreground=0.5
    )
    result = finetune(model, train, validation, settings)
    repaired = validation_dice(model, validation, "cpu")
    assert result.best_step > 0 and result.stopped is None
    assert repaired[1] > weakened[1] + 0.1 and repaired[2] > weakened[2] + 0.2, (
        weakened,
        repaired,
    )
    assert min(repaired[1:]) > 0.85


def test_a_3d_patch_larger_than_a_volume_is_refused(tmp_path):
    data = tmp_path / "vols"
    save_samples(volumes(2, 3, (16, 48, 48)), data, "masks")
    result = run_cli(
        "finetune", data, "--loss", "dice", "--steps", "1", "--patch", "32x48x48",
        "--out", tmp_path / "m.safetensors",
    )  # fmt: skip
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "the patch 32×48×48 is larger than the volume (16×48×48)" in result.stderr
    unknown = run_cli(
        "finetune", data, "--loss", "dice", "--arch", "vnet", "--out", tmp_path / "m.safetensors"
    )
    assert unknown.returncode == 2 and unknown.stderr.count("\n") == 1
    assert "--arch 'vnet'" in unknown.stderr and "basicunet" in unknown.stderr


def test_finetune_cli_trains_a_fresh_3d_network_that_predicts_volumes(tmp_path):
    data = tmp_path / "vols"
    save_samples(volumes(3, 3, (16, 32, 32)), data, "masks")
    out = tmp_path / "seg.safetensors"
    result = run_cli(
        "finetune", data, "--loss", "dicece", "--arch", "segresnet", "--steps", "4",
        "--batch", "1", "--patch", "16", "--sampler", "rarest_class", "--out", out,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    model = open_model(out)
    assert model.info.spatial_dims == 3 and model.info.architecture["name"] == "SegResNet"
    assert model.info.training["patch"] == [16, 16, 16]
    assert model.info.training["sampler"] == "rarest_class"
    predicted = run_cli("evaluate", data, "--model", out, "--json")
    assert predicted.returncode == 0, predicted.stderr
    assert len(json.loads(predicted.stdout)["per_sample"]) == 3


def test_run_specs_take_a_sampler_option():
    base = FinetuneSettings()
    settings = run_settings("dicece:uniform:sampler", base)
    assert settings.sampler == "rarest_class" and settings.weights == "uniform"
    assert run_label(settings) == "dicece (1:1), uniform, rarest_class sampler"
    both = run_settings("dice:inverse_frequency:nobg:sampler", base)
    assert both.loss.include_background is False and both.sampler == "rarest_class"
    assert run_settings("ce", base).sampler == "uniform"
    for bad in ("dice:sampler:sampler", "dice:uniform:enet", "dice:oops"):
        with pytest.raises(SegviewerError, match="LOSS"):
            run_settings(bad, base)


def test_a_fresh_arch_takes_the_datasets_classes_and_a_model_of_other_classes_is_refused(
    tmp_path,
):
    rng = np.random.default_rng(4)
    samples = []
    for i in range(3):
        sample = make_sample(rng, (16, 32, 32), f"v{i}")
        resolve_sample(sample, "priority", [1, 0])
        sample.class_names = ["nucleus", "granule"]
        samples.append(sample)
    save_samples(samples, tmp_path / "data", "masks")
    out = tmp_path / "m.safetensors"
    fresh = run_cli(
        "finetune", tmp_path / "data", "--arch", "basicunet", "--loss", "dice", "--steps", "1",
        "--batch", "1", "--patch", "16x32x32", "--out", out,
    )  # fmt: skip
    assert fresh.returncode == 0, fresh.stderr
    assert open_model(out).info.classes == ["background", "nucleus", "granule"]
    bundled = run_cli(
        "finetune", tmp_path / "data", "--loss", "dice", "--steps", "1", "--patch", "16",
        "--out", tmp_path / "b.safetensors",
    )  # fmt: skip
    assert bundled.returncode == 2 and bundled.stderr.count("\n") == 1
    assert "the model's classes ['background', 'cell', 'spot'] differ" in bundled.stderr
    odd = run_cli(
        "finetune", tmp_path / "data", "--arch", "unet", "--loss", "dice", "--patch", "12",
        "--out", out,
    )  # fmt: skip
    assert odd.returncode == 2 and "every side must be a multiple of 8" in odd.stderr
    small = run_cli(
        "finetune", tmp_path / "data", "--arch", "basicunet", "--loss", "dice", "--patch", "16",
        "--out", out,
    )  # fmt: skip
    assert small.returncode == 2 and "too small for BasicUNet" in small.stderr


def test_training_in_2d_leaves_the_bundled_3d_model_out():
    from segviewer.core.model.finetune import trained_part

    bundled = open_model("bundled")
    flat = trained_part(bundled, 2)
    assert flat.volume_model is None and flat.network is bundled.network
    assert trained_part(bundled, 3) is bundled.volume_model
    assert bundled.volume_model is not None  # the model asked for is not changed


def test_bf16_mixed_precision_trains_and_a_bad_precision_is_refused():
    """bf16's rounding differs between runs on 2 threads (once, in CI, the first step's
    gradients overflowed); what must hold: finite losses, finite kept weights, and either
    every step or a stop that says why."""
    torch.manual_seed(0)
    model = open_model("bundled").volume_model
    train, validation = volumes(9, 2), volumes(10, 1)
    settings = FinetuneSettings(steps=3, batch=2, patch=(32, 48, 48), precision="bf16")
    result = finetune(model, train, validation, settings)
    assert all(np.isfinite(result.losses))
    assert len(result.losses) == 3 or "overflowed" in (result.stopped or "")
    assert all(bool(torch.isfinite(p).all()) for p in model.network.parameters())
    x = torch.from_numpy(model.prepare(train[0].image, None)[None, :, :32, :48, :48].copy())
    with torch.no_grad():
        full = model.network(x)
        with torch.autocast("cpu", torch.bfloat16):
            half = model.network(x).float()
    difference = float((half - full).abs().max())
    assert 0 < difference < 0.1 * float(full.abs().max())  # ran in bf16, close to fp32
    with pytest.raises(SegviewerError, match="precision 'fp8'"):
        finetune(model, train, validation, FinetuneSettings(patch=(32, 48, 48), precision="fp8"))


def test_an_overflow_in_mixed_precision_stops_training_with_a_message_not_an_error():
    """Fresh UNets on 16×32×32 patches overflow in bf16 within a few steps for some seeds;
    whatever happens, training ends with a result and finite kept weights."""
    stopped = []  # which seeds overflow depends on the CPU's bf16 arithmetic
    for seed in range(3):
        torch.manual_seed(seed)
        model = fresh_model("unet", ["background", "cell", "spot"], 1, 3, (16, 32, 32))
        train, validation = volumes(9, 2, (16, 32, 32)), volumes(10, 1, (16, 32, 32))
        settings = FinetuneSettings(steps=3, batch=1, patch=(16, 32, 32), precision="bf16")
        result = finetune(model, train, validation, settings)
        assert (
            result.stopped is None
            or "overflowed" in result.stopped
            or "loss became" in (result.stopped)
        )
        weights = [p for p in model.network.parameters()]
        assert all(bool(torch.isfinite(p).all()) for p in weights)
        stopped.append(result.stopped)
    torch.manual_seed(0)  # an overflow made certain: infinite gradients on one weight
    model = fresh_model("unet", ["background", "cell", "spot"], 1, 3, (16, 32, 32))
    next(model.network.parameters()).register_hook(lambda grad: grad * float("inf"))
    result = finetune(model, train, validation, settings)
    assert "gradients overflowed in bf16 at step 1" in result.stopped
    assert all(bool(torch.isfinite(p).all()) for p in model.network.parameters())
