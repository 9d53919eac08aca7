"""The streamlined networks compute what MONAI's own do, with the same parameters."""

from __future__ import annotations

import copy

import pytest
import torch
from monai.networks import nets
from torch import nn

from segviewer.core.model.streamline import streamline, training_twin


def _layers(network) -> set[str]:
    return {type(m).__name__ for m in network.modules()}


@pytest.mark.parametrize(
    ("network", "shape"),
    [
        (nets.BasicUNet(2, 1, 3, features=(8, 8, 16, 16, 32, 8)), (2, 1, 64, 48)),
        (nets.BasicUNet(3, 2, 4, features=(4, 4, 8, 8, 8, 4)), (2, 2, 16, 32, 32)),
        (nets.UNet(2, 1, 3, channels=(8, 16, 32), strides=(2, 2), num_res_units=1), (3, 1, 32, 32)),
    ],
)
@pytest.mark.parametrize("training", [True, False])
def test_same_outputs_and_gradients_as_monai(network, shape, training):
    torch.manual_seed(0)
    for parameter in network.parameters():  # not the initial weights 1 and 0 of the norms
        parameter.data.normal_(0, 0.3)
    original = network.train(training)
    fast = streamline(copy.deepcopy(original))
    assert "InstanceNorm2d" not in _layers(fast) and "InstanceNorm3d" not in _layers(fast)
    assert "Dropout" not in _layers(fast)
    assert fast.state_dict().keys() == original.state_dict().keys()
    x = torch.randn(shape) * 3 + 1
    expected, got = original(x), fast(x)
    torch.testing.assert_close(got, expected, atol=2e-5, rtol=1e-4)
    if training:
        expected.square().mean().backward()
        got.square().mean().backward()
        for (name, a), b in zip(original.named_parameters(), fast.parameters(), strict=True):
            torch.testing.assert_close(b.grad, a.grad, atol=1e-5, rtol=1e-3, msg=name)


def test_parameters_are_shared_not_copied():
    network = nets.BasicUNet(2, 1, 2, features=(4, 4, 4, 4, 4, 4))
    norm_weights = [m.weight for m in network.modules() if isinstance(m, nn.InstanceNorm2d)]
    streamline(network)
    group_weights = [m.weight for m in network.modules() if isinstance(m, nn.GroupNorm)]
    assert len(group_weights) == len(norm_weights) > 0
    assert all(a is b for a, b in zip(group_weights, norm_weights, strict=True))


def test_norms_with_running_stats_and_real_dropout_are_kept():
    network = nn.Sequential(
        nn.InstanceNorm2d(4, track_running_stats=True), nn.Dropout(0.2), nn.BatchNorm2d(4)
    )
    streamline(network)
    assert [type(m) for m in network] == [nn.InstanceNorm2d, nn.Dropout, nn.BatchNorm2d]


def test_the_training_twin_trains_the_original():
    torch.manual_seed(1)
    network = nets.BasicUNet(2, 1, 3, features=(4, 4, 8, 8, 8, 4))
    reference = copy.deepcopy(network)
    twin = training_twin(network)
    assert "InstanceNorm2d" in _layers(network) and "InstanceNorm2d" not in _layers(twin)
    assert all(a is b for a, b in zip(twin.parameters(), network.parameters(), strict=True))
    x, y = torch.randn(2, 1, 32, 32), torch.randint(0, 3, (2, 32, 32))
    for trained in (twin, reference):  # one SGD step each, from the same weights
        optimizer = torch.optim.SGD(trained.parameters(), lr=0.1)
        nn.functional.cross_entropy(trained(x), y).backward()
        optimizer.step()
    for name, a in reference.state_dict().items():
        torch.testing.assert_close(network.state_dict()[name], a, atol=1e-5, rtol=1e-4, msg=name)
