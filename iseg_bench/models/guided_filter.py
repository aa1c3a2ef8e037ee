"""Differentiable guided filter in box-filter form, the last layer of the 99%-accuracy
network.

Source: He, Sun, Tang, "Guided Image Filtering", TPAMI 2013, Alg. 1; Forte et al. 2020,
Sec. 3.1 and Fig. 2 (Wu et al., CVPR 2018). Formulas: ``docs/models/acc99net.md``.

Constants: ``GF_RADIUS`` = 2 (the 5x5 window), ``GF_EPS`` = 1e-2 (ours; the paper gives none).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

GF_RADIUS = 2
GF_EPS = 1e-2


def box_filter(x: torch.Tensor, r: int) -> torch.Tensor:
    """Window sums over (2r+1)^2 neighbourhoods clipped at the border.

    x: (B, C, H, W) float. Returns (B, C, H, W), the sum of x over each clipped window.
    """
    h, w = x.shape[-2:]
    c = F.pad(x, (1, 0, 1, 0)).cumsum(-2).cumsum(-1)  # (B, C, H+1, W+1), c[i, j] = sum x[:i, :j]
    ys = torch.arange(h, device=x.device)
    xs = torch.arange(w, device=x.device)
    y0, y1 = (ys - r).clamp(0, h), (ys + r + 1).clamp(0, h)
    x0, x1 = (xs - r).clamp(0, w), (xs + r + 1).clamp(0, w)
    rows1 = c[..., y1, :]
    rows0 = c[..., y0, :]
    return rows1[..., x1] - rows1[..., x0] - rows0[..., x1] + rows0[..., x0]


def guided_filter(guide: torch.Tensor, src: torch.Tensor, r: int = GF_RADIUS,
                  eps: float = GF_EPS) -> torch.Tensor:
    """Guided filter with a single-channel guide.

    Args:
        guide: (B, 1, H, W) float guide image I.
        src: (B, C, H, W) float input p.
        r: window radius; eps: regulariser.

    Returns:
        (B, C, H, W) float filtered output q.
    """
    n = box_filter(torch.ones_like(guide[:, :1]), r)
    mean_i = box_filter(guide, r) / n
    mean_p = box_filter(src, r) / n
    cov_ip = box_filter(guide * src, r) / n - mean_i * mean_p
    var_i = box_filter(guide * guide, r) / n - mean_i * mean_i
    a = cov_ip / (var_i + eps)
    b = mean_p - a * mean_i
    return (box_filter(a, r) / n) * guide + box_filter(b, r) / n


class GuidedFilterLayer(torch.nn.Module):
    """Guided filter with a learned single-channel guide (Deep Guided Filter, Wu et al. 2018).

    The guide is computed from the RGB image by two 1x1 convolutions (3 -> `hidden` ->
    1, LeakyReLU 0.2 between), then the box-filter guided filter above filters `src`.
    """

    def __init__(self, radius: int = GF_RADIUS, eps: float = GF_EPS, hidden: int = 8):
        super().__init__()
        self.radius, self.eps = radius, eps
        self.guide = torch.nn.Sequential(torch.nn.Conv2d(3, hidden, 1), torch.nn.LeakyReLU(0.2),
                                         torch.nn.Conv2d(hidden, 1, 1))

    def forward(self, image: torch.Tensor, src: torch.Tensor) -> torch.Tensor:
        """image: (B, 3, H, W) normalised RGB; src: (B, C, H, W). Returns (B, C, H, W)."""
        return guided_filter(self.guide(image), src, self.radius, self.eps)
