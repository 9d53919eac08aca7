"""Segmentation losses for fine-tuning, all MONAI's or torch's own, with class weights.

Logits are ``(B, K, *spatial)``, background first; targets are label values
``(B, 1, *spatial)``. Class weights (one per class, e.g. a scheme of core.weights) enter
as the libraries define:

- ``dice``: MONAI ``DiceLoss(softmax=True, to_onehot_y=True, weight=w)``: the per-class
  Dice losses are multiplied by w_c, then averaged;
- ``ce``: torch ``CrossEntropyLoss(weight=w)``: the per-pixel loss times the weight of the
  pixel's class, summed and divided by the sum of those weights;
- ``dicece``: MONAI ``DiceCELoss(weight=w, lambda_dice, lambda_ce)``: λ_dice · dice + λ_ce · ce
  as above;
- ``focal``: MONAI ``FocalLoss(use_softmax=True, gamma=γ, weight=w)``;
- ``generalized_dice``: MONAI ``GeneralizedDiceLoss`` (its own weights 1/n_c², per batch;
  the given weights are not used).

``include_background`` says whether the background class takes part in the Dice terms.
"""

from __future__ import annotations

from dataclasses import dataclass

from segviewer.core.errors import SegviewerError

LOSSES = ("dice", "ce", "dicece", "focal", "generalized_dice")


@dataclass
class LossSettings:
    name: str = "dicece"
    include_background: bool = True
    lambda_dice: float = 1.0
    lambda_ce: float = 1.0
    gamma: float = 2.0


def make_loss(settings: LossSettings, weights=None):
    """The loss function ``(logits, target) -> scalar`` for ``settings``."""
    import torch
    from monai.losses import DiceCELoss, DiceLoss, FocalLoss, GeneralizedDiceLoss

    name, background = settings.name, settings.include_background
    weight = None if weights is None else torch.as_tensor(weights, dtype=torch.float32)
    if name == "dice":
        return DiceLoss(
            include_background=background, to_onehot_y=True, softmax=True, weight=weight
        )
    if name == "ce":
        cross_entropy = torch.nn.CrossEntropyLoss(weight=weight)
        return lambda logits, target: cross_entropy(logits, target[:, 0].long())
    if name == "dicece":
        return DiceCELoss(
            include_background=background,
            to_onehot_y=True,
            softmax=True,
            weight=weight,
            lambda_dice=settings.lambda_dice,
            lambda_ce=settings.lambda_ce,
        )
    if name == "focal":
        return FocalLoss(
            include_background=background,
            to_onehot_y=True,
            use_softmax=True,
            gamma=settings.gamma,
            weight=weight,
        )
    if name == "generalized_dice":
        return GeneralizedDiceLoss(include_background=background, to_onehot_y=True, softmax=True)
    raise SegviewerError(f"unknown loss {name!r}; expected one of: {', '.join(LOSSES)}")
