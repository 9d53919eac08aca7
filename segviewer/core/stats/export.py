"""Statistics for a training script: the JSON of ``segviewer stats --json`` and a loss snippet."""

from __future__ import annotations

import json

from segviewer.core.stats.classes import ClassStats


def stats_json(stats: ClassStats) -> str:
    """The exact text ``segviewer stats --json`` prints."""
    return json.dumps(stats.to_json())


def loss_snippet(stats: ClassStats, scheme: str, normalize: bool = True, source: str = "") -> str:
    """Python that builds PyTorch's CrossEntropyLoss and MONAI's DiceCELoss with the weights
    of ``scheme``, the class order spelled out."""
    weights = (stats.normalized_weights() if normalize else stats.weights())[scheme]
    order = "\n".join(f"#   {i} = {name}" for i, name in enumerate(stats.classes))
    values = ", ".join(f"{w:.6g}" for w in weights)
    scaling = "normalized: mean over present classes = 1" if normalize else "raw"
    origin = f"{source}, " if source else ""
    samples = len(stats.sample_names)
    return f"""\
# Class weights from segviewer: scheme '{scheme}' ({scaling}); {origin}{samples} samples.
# Channel / label order (logits channel c = label value c):
{order}
import torch
from monai.losses import DiceCELoss

CLASS_NAMES = {stats.classes!r}
CLASS_WEIGHTS = torch.tensor([{values}])

# logits (B, {len(weights)}, *spatial); target (B, *spatial) of label values
ce_loss = torch.nn.CrossEntropyLoss(weight=CLASS_WEIGHTS)
# logits (B, {len(weights)}, *spatial); target (B, 1, *spatial) of label values
dice_ce_loss = DiceCELoss(to_onehot_y=True, softmax=True, weight=CLASS_WEIGHTS)
"""
