"""Segmentation losses for fine-tuning: MONAI's and torch's own, with class weights and
"ignore" pixels.

Logits are ``(B, K, *spatial)``, background first; targets are label values
``(B, 1, *spatial)``, with :data:`IGNORE_TARGET` (-1) for pixels that take no part (unresolved
conflicts when the user chose to skip them, and painted "ignore" pixels). Class weights (one
per class, background first; e.g. a scheme of core.weights) enter as the libraries define:

- ``dice``: MONAI ``DiceLoss``: the per-class Dice losses times w_c, then averaged;
- ``ce``: torch ``cross_entropy(weight=w)``: each pixel's loss times the weight of its class,
  summed, divided by the sum of those weights;
- ``dicece``: λ_dice · dice + λ_ce · ce, as MONAI ``DiceCELoss``;
- ``focal``: MONAI ``FocalLoss(use_softmax=True, gamma=γ, weight=w)``: each pixel's and
  class's term times w_c, averaged over pixels and classes;
- ``generalized_dice``: MONAI ``GeneralizedDiceLoss`` (its own weights 1/n_c² per sample;
  the given weights are not used).

``include_background=False`` drops the background channel (and its weight) from the Dice
and focal terms; cross-entropy always covers every class.

Ignored pixels are removed from every sum: the softmax output and the one-hot target are
multiplied by the valid-pixel mask before MONAI's Dice losses (what MONAI's own
``ignore_index`` does), cross-entropy uses torch's ``ignore_index``, and the focal mean runs
over valid pixels only. With no ignored pixel each loss equals the MONAI class called on the
logits (``softmax=True, to_onehot_y=True``); the tests check this to 1e-6.
"""

from __future__ import annotations

from dataclasses import dataclass

from segviewer.core.errors import SegviewerError

LOSSES = ("dice", "ce", "dicece", "focal", "generalized_dice")
IGNORE_TARGET = -1


@dataclass
class LossSettings:
    name: str = "dicece"
    include_background: bool = True  # the background channel takes part in Dice / focal terms
    lambda_dice: float = 1.0
    lambda_ce: float = 1.0
    gamma: float = 2.0

    def label(self) -> str:
        """A short name for tables and legends, e.g. ``dicece (1:1)``."""
        extra = {
            "dicece": f" ({self.lambda_dice:g}:{self.lambda_ce:g})",
            "focal": f" γ={self.gamma:g}",
        }
        no_background = "" if self.include_background or self.name == "ce" else ", no bg"
        return f"{self.name}{extra.get(self.name, '')}{no_background}"


class SegmentationLoss:
    """``loss(logits, target) -> scalar`` for ``settings`` and class ``weights`` (or None)."""

    def __init__(self, settings: LossSettings, weights=None):
        import torch
        from monai.losses import DiceLoss, FocalLoss, GeneralizedDiceLoss

        if settings.name not in LOSSES:
            raise SegviewerError(
                f"unknown loss {settings.name!r}; expected one of: {', '.join(LOSSES)}"
            )
        self.settings = settings
        weight = None if weights is None else torch.as_tensor(weights, dtype=torch.float32)
        self.weight = weight
        background = settings.include_background
        channel_weight = weight if weight is None or background else weight[1:]
        self.dice = DiceLoss(include_background=background, weight=channel_weight)
        self.generalized_dice = GeneralizedDiceLoss(include_background=background)
        self.focal = FocalLoss(
            include_background=background,
            use_softmax=True,
            gamma=settings.gamma,
            weight=channel_weight,
            reduction="none",
        )

    def __call__(self, logits, target):
        import torch

        name, settings = self.settings.name, self.settings
        target = target.long()
        valid = (target != IGNORE_TARGET).to(logits.dtype)  # (B, 1, *spatial)
        labels = target.clamp(min=0)
        if name in ("dice", "dicece", "generalized_dice", "focal"):
            one_hot = torch.zeros_like(logits).scatter_(1, labels, 1.0)
        if name == "focal":
            terms = self.focal(logits, one_hot) * valid
            return terms.sum() / (valid.sum() * terms.shape[1]).clamp(min=1)
        if name == "ce":
            return self._cross_entropy(logits, target)
        probabilities = torch.softmax(logits, 1) * valid
        one_hot = one_hot * valid
        if name == "generalized_dice":
            return self.generalized_dice(probabilities, one_hot)
        dice = self.dice(probabilities, one_hot)
        if name == "dice":
            return dice
        cross_entropy = self._cross_entropy(logits, target)
        return settings.lambda_dice * dice + settings.lambda_ce * cross_entropy

    def _cross_entropy(self, logits, target):
        """torch's weighted mean, as its sum over the weights; 0 where every pixel is
        ignored (torch's mean would be NaN). No host sync: a GPU step runs on without
        waiting."""
        import torch.nn.functional as F

        target = target[:, 0]
        if self.weight is not None and self.weight.device != logits.device:
            self.weight = self.weight.to(logits.device)
        total = F.cross_entropy(
            logits, target, weight=self.weight, ignore_index=IGNORE_TARGET, reduction="sum"
        )
        valid = target != IGNORE_TARGET
        if self.weight is None:
            weights = valid.sum()
        else:
            weights = (self.weight[target.clamp(min=0)] * valid).sum()
        return total / weights.clamp(min=1e-12)


def make_loss(settings: LossSettings, weights=None) -> SegmentationLoss:
    """The loss function ``(logits, target) -> scalar`` for ``settings``."""
    return SegmentationLoss(settings, weights)
