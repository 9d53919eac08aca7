"""Equivalent layers that train faster, for fine-tuning.

MONAI's networks normalise with ``InstanceNorm``, which torch runs as a batch norm over a
``(1, B·C, …)`` view with its weights repeated B times: forward and backward launch about
twice the kernels of a ``GroupNorm`` with one group per channel, which computes the same
thing (each channel of each sample normalised, then the channel's affine map). Dropout of
probability 0 still runs in training. A small network trained on a GPU is bound by kernel
launches, so :func:`training_twin` trains an equivalent network that shares the original's
parameters: its updates are the original's, and nothing else changes.

Measured (H100, the bundled model, 200 steps of batch 8 at 128², a fresh process): 2.9 s
instead of 5.9 s with CUDA graphs; on 16 CPU threads 14.3 s instead of 17.8 s. Inference
keeps the original: at batch 128 in fp16 cuDNN's fused instance norm is faster (223 Mpx/s
against 157 Mpx/s for GroupNorm on an H100).
"""

from __future__ import annotations

import copy


def training_twin(network):
    """A copy of ``network`` that shares its parameters and buffers, :func:`streamline`d."""
    shared = {id(t): t for t in (*network.parameters(), *network.buffers())}
    return streamline(copy.deepcopy(network, memo=shared))


def streamline(network):
    """``network`` with every running-stats-free ``InstanceNorm`` replaced by the
    equivalent ``GroupNorm`` and every ``Dropout(p=0)`` by ``Identity``, in place."""
    from torch import nn
    from torch.nn.modules.instancenorm import _InstanceNorm

    for parent in list(network.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, _InstanceNorm) and not child.track_running_stats:
                setattr(parent, name, _group_norm_of(child))
            elif type(child) in (nn.Dropout, nn.Dropout2d, nn.Dropout3d) and child.p == 0:
                setattr(parent, name, nn.Identity())
    return network


def _group_norm_of(norm):
    """A ``GroupNorm`` with one group per channel, sharing ``norm``'s parameters."""
    from torch import nn

    channels = norm.num_features
    group = nn.GroupNorm(channels, channels, eps=norm.eps, affine=norm.affine)
    if norm.affine:
        group.weight, group.bias = norm.weight, norm.bias
    return group
