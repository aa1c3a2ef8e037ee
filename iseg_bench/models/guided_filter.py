"""Guided filter with clipped box windows, computed with centred window statistics so that it
stays accurate in float32 on large images; the last layer of the 99%-accuracy network.

Source: He, Sun, Tang, "Guided Image Filtering", TPAMI 2013, Alg. 1 (box-filter form);
Forte et al. 2020, Sec. 3.1 and Fig. 2 ("a 5x5 Deep Guided Filter layer", Wu et al., CVPR
2018); the released network (MarcoForte/DeepInteractiveSegmentation, ``networks/models.py``)
calls ``guided_filter_pytorch``'s ``GuidedFilter(2, 1e-8)``, whose box sums are clipped at the
image border. Formulas and the numerical scheme: ``docs/models/acc99net.md``.

Constants: ``GF_RADIUS`` = 2 (the 5x5 window), ``GF_EPS`` = 1e-8 (the released value).
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
import torch.nn.functional as F

GF_RADIUS = 2
GF_EPS = 1e-8


def box_mean(x: torch.Tensor, r: int) -> torch.Tensor:
    """Mean over each (2r+1) x (2r+1) window clipped at the image border.

    x: (B, C, H, W) float. Returns (B, C, H, W) of the same dtype; every window value is
    summed directly (no running sums), so the rounding error does not grow with H or W.
    """
    return F.avg_pool2d(x, 2 * r + 1, stride=1, padding=r, count_include_pad=False)


def box_filter(x: torch.Tensor, r: int) -> torch.Tensor:
    """Sums over each (2r+1) x (2r+1) window clipped at the image border.

    x: (B, C, H, W) float. Returns (B, C, H, W), the sum of x over each clipped window.
    """
    return F.avg_pool2d(x, 2 * r + 1, stride=1, padding=r, divisor_override=1)


def _window_views(x: torch.Tensor, r: int) -> Iterator[torch.Tensor]:
    """The (2r+1)^2 views x[p + d] for the offsets d of the window, zero outside the image."""
    h, w = x.shape[-2:]
    padded = F.pad(x, (r, r, r, r))
    for dy in range(2 * r + 1):
        for dx in range(2 * r + 1):
            yield padded[..., dy:dy + h, dx:dx + w]


def guided_filter(guide: torch.Tensor, src: torch.Tensor, r: int = GF_RADIUS,
                  eps: float = GF_EPS) -> torch.Tensor:
    """Guided filter with a single-channel guide, windows clipped at the border.

    Mathematically the box-filter form of He et al. (Alg. 1): per window k, the variance and
    covariance of the guide I and input p, a_k = cov_k / (var_k + eps), b_k = mean(p)_k -
    a_k mean(I)_k, and q = mean over the windows containing a pixel of (a I + b). Computed as
    centred sums (var_k = mean_k (I - mean(I)_k)^2, q = mean(mean(p)) + mean_k a_k (I -
    mean(I)_k)) after removing I's global mean, so float32 results match float64 to ~1e-7 on
    images of any size (``docs/models/acc99net.md``).

    Args:
        guide: (B, 1, H, W) float guide image I.
        src: (B, C, H, W) float input p, same dtype and (H, W).
        r: window radius (>= 0); eps: regulariser (> 0).

    Returns:
        (B, C, H, W) float filtered output q, dtype of `src`.
    """
    guide = guide - guide.mean(dim=(-2, -1), keepdim=True)
    n = box_filter(torch.ones_like(guide[:1, :1]), r)
    mean_i = box_mean(guide, r)
    mean_p = box_mean(src, r)
    valid = torch.ones_like(guide[:1, :1])
    var = torch.zeros_like(guide)
    cov = torch.zeros_like(src)
    for v, i_d, p_d in zip(_window_views(valid, r), _window_views(guide, r),
                           _window_views(src, r)):
        d = (i_d - mean_i) * v
        var = var + d * d
        cov = cov + d * (p_d - mean_p)
    a = (cov / n) / (var / n + eps)
    acc = torch.zeros_like(src)
    for a_d, m_d in zip(_window_views(a, r), _window_views(mean_i, r)):
        acc = acc + a_d * (guide - m_d)  # zero outside the image: a_d is zero-padded
    return box_mean(mean_p, r) + acc / n

