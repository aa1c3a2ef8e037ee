"""Training losses of the two click models: the normalised focal loss (Sofiiuk et al.,
AdaptIS, ICCV 2019, Sec. 3.3; EMC-Click) and the soft-IoU + click-location loss (Forte et
al. 2020, Sec. 3.2, Eq. 1). Formulas: ``docs/models/emc-click.md``,
``docs/models/acc99net.md``.

Constants: ``NFL_ALPHA`` = 0.5, ``NFL_GAMMA`` = 2, ``EPS`` = 1e-8.
"""

from __future__ import annotations

import torch

NFL_ALPHA = 0.5
NFL_GAMMA = 2.0
EPS = 1e-8


def normalized_focal_loss(logits: torch.Tensor, target: torch.Tensor,
                          ignore: torch.Tensor | None = None, alpha: float = NFL_ALPHA,
                          gamma: float = NFL_GAMMA, eps: float = EPS) -> torch.Tensor:
    """Normalised focal loss on logits.

    Args:
        logits: (B, 1, H, W) float raw scores.
        target: (B, 1, H, W) float/bool ground truth in {0, 1}.
        ignore: optional (B, 1, H, W) bool, True where pixels do not count.
        alpha, gamma: focal constants (0.5, 2 by default).

    Returns:
        0-d float tensor, the batch mean.
    """
    logits = logits.float()
    target = target.float()
    prob = torch.sigmoid(logits)
    valid = torch.ones_like(prob) if ignore is None else (~ignore.bool()).float()
    pt = torch.where(target > 0.5, prob, 1.0 - prob)
    alpha_t = torch.where(target > 0.5, torch.full_like(prob, alpha),
                          torch.full_like(prob, 1.0 - alpha))
    beta = (1.0 - pt) ** gamma * valid
    norm = beta.flatten(1).sum(1).detach().clamp_min(eps).view(-1, 1, 1, 1)
    log_pt = torch.log(torch.clamp(pt + eps, max=1.0))
    per_sample = -(alpha_t * beta / norm * log_pt).flatten(1).sum(1)
    return per_sample.mean()


def sigmoid_bce(logits: torch.Tensor, target: torch.Tensor,
                ignore: torch.Tensor | None = None) -> torch.Tensor:
    """Binary cross-entropy on logits, averaged over the valid pixels of each sample, then
    over the batch (the EMC-Click HRNet variants' auxiliary loss, released
    isegm/model/losses.py SigmoidBinaryCrossEntropyLoss, whose labels carry no ignore there).

    Args:
        logits: (B, 1, H, W) float raw scores.
        target: (B, 1, H, W) float/bool ground truth in {0, 1}.
        ignore: optional (B, 1, H, W) bool, True where pixels do not count.

    Returns:
        0-d float tensor.
    """
    loss = torch.nn.functional.binary_cross_entropy_with_logits(
        logits.float(), target.float(), reduction="none")
    valid = torch.ones_like(loss) if ignore is None else (~ignore.bool()).float()
    per_sample = (loss * valid).flatten(1).sum(1) / valid.flatten(1).sum(1).clamp_min(1.0)
    return per_sample.mean()


def soft_iou_click_loss(prob: torch.Tensor, target: torch.Tensor, click_mask: torch.Tensor,
                        ignore: torch.Tensor | None = None, eps: float = EPS) -> torch.Tensor:
    """Forte et al. Eq. 1: soft-IoU loss plus squared error at the click pixels.

    Args:
        prob: (B, 1, H, W) float predicted mask in [0, 1].
        target: (B, 1, H, W) ground truth in [0, 1].
        click_mask: (B, 1, H, W) bool, True at click pixels.
        ignore: optional (B, 1, H, W) bool.

    Returns:
        0-d float tensor, the batch mean.
    """
    prob = prob.float()
    target = target.float()
    valid = torch.ones_like(prob) if ignore is None else (~ignore.bool()).float()
    inter = (prob * target * valid).flatten(1).sum(1)
    union = (torch.maximum(prob, target) * valid).flatten(1).sum(1)
    soft_iou = 1.0 - inter / union.clamp_min(eps)
    click = (((prob - target) ** 2) * click_mask.float()).flatten(1).sum(1)
    return (soft_iou + click).mean()
