"""The interactive full-image segmentation model ("ifis"): a Mask R-CNN-style region model
without a region proposal network. Every region's box comes from its extreme points; its
RoI features are concatenated with its RoI-aligned annotation maps F_i = (S_i, sum_{j!=i}
S_j); a mask head predicts 41 x 41 logits per region, which are pasted into the image canvas
where all regions compete through a per-pixel softmax; training uses the per-pixel cross
entropy weighted by 1 / area of the smallest box containing the pixel.

Source: Agustsson, Uijlings and Ferrari, "Interactive Full Image Segmentation by Considering
All Regions Jointly", CVPR 2019: Sec. 3.1 and Fig. 2 (architecture, Eq. 1), Sec. 3.2 and
Eq. 2 (annotation maps), Sec. 3.3 and Eq. 3 (pixel-wise loss and its box weighting), Sec. 5.2
(ResNet-50, RoI features and masks of 41 x 41). RoIAlign: He et al., "Mask R-CNN", ICCV 2017,
Sec. 3. No code was released; every choice the paper leaves open is listed, and marked as
ours, in ``docs/models/ifis.md``.

Constants: ``ROI_SIZE`` = 41 (Sec. 5.2), ``IMAGENET_MEAN`` / ``IMAGENET_STD`` (input
normalisation, ours), ``RESNET50_C4`` (the first three ResNet-50 stages, ours: C4).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

from iseg_bench.models.hf_backbones import RESNET_CONFIGS, build_bit_trunk

ROI_SIZE = 41
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
RESNET50_C4: dict[str, Any] = dict(
    hidden_sizes=RESNET_CONFIGS["resnet50"]["hidden_sizes"][:3],
    depths=RESNET_CONFIGS["resnet50"]["depths"][:3],
    embedding_size=RESNET_CONFIGS["resnet50"]["embedding_size"],
    num_groups=RESNET_CONFIGS["resnet50"]["num_groups"])


# -- RoIAlign -------------------------------------------------------------------------------

def _interpolation_rows(coords: torch.Tensor, size: int) -> torch.Tensor:
    """(P, size) bilinear weights of P sample coordinates on a grid of `size` cells.

    coords: (P,) float, in cell units with cell c centred at c. A coordinate below -1 or
    above `size` weighs nothing (the sample falls outside the map); otherwise it is clamped
    to [0, size - 1] and split between its two neighbouring cells (Mask R-CNN's RoIAlign).
    """
    valid = (coords >= -1.0) & (coords <= size)
    c = coords.clamp(0.0, size - 1.0)
    low = c.floor().long().clamp(max=size - 1)
    high = (low + 1).clamp(max=size - 1)
    frac = c - low.to(c.dtype)
    rows = torch.zeros(coords.shape[0], size, dtype=coords.dtype, device=coords.device)
    rows.scatter_add_(1, low[:, None], ((1.0 - frac) * valid)[:, None])
    rows.scatter_add_(1, high[:, None], (frac * valid)[:, None])
    return rows


def _bin_weights(start: float, end: float, bins: int, size: int, scale: float,
                 sampling_ratio: int, device: torch.device) -> torch.Tensor:
    """(bins, size) weights: row i averages the bilinear rows of the sample points of bin i
    of the interval [start, end) (input pixel edges), mapped to cells by ``x * scale - 0.5``.
    """
    length = (end - start) / bins
    s = sampling_ratio if sampling_ratio > 0 else max(1, math.ceil(length * scale))
    offsets = (torch.arange(bins * s, dtype=torch.float64, device=device) + 0.5) / s
    coords = (start + offsets * length) * scale - 0.5
    return _interpolation_rows(coords, size).reshape(bins, s, size).mean(dim=1)


def roi_align(features: torch.Tensor, boxes: torch.Tensor, batch_index: torch.Tensor,
              output_size: int = ROI_SIZE, spatial_scale: float = 1.0,
              sampling_ratio: int = 0) -> torch.Tensor:
    """RoIAlign (He et al. 2017, Sec. 3), our own implementation.

    Box k is the continuous rectangle [y0, y1) x [x0, x1) in input pixel edges; it is cut
    into output_size x output_size bins; each bin's value is the mean of s x s regularly
    spaced sample points (s = `sampling_ratio`, or ceil(bin side x spatial_scale) per axis
    when it is <= 0), each bilinearly interpolated from feature map ``batch_index[k]``, the
    input point p falling at cell coordinate ``p * spatial_scale - 0.5`` (cell c centred at
    c; torchvision's ``aligned=True``). Samples further than one cell outside the map weigh 0.
    Bilinear sampling is separable, so each bin is ``Wy @ feature @ Wx^T`` with one row of
    averaged interpolation weights per bin.

    Args:
        features: (B, C, H, W) float.
        boxes: (K, 4) float (y0, x0, y1, x1), input pixels.
        batch_index: (K,) int, the feature map of each box.
        output_size: bins per side.
        spatial_scale: feature cells per input pixel (1 / stride).
        sampling_ratio: samples per bin and axis; <= 0 for the adaptive count.

    Returns:
        (K, C, output_size, output_size), the dtype of `features`.
    """
    _, _, h, w = features.shape
    out = []
    for k in range(boxes.shape[0]):
        y0, x0, y1, x1 = (float(v) for v in boxes[k])
        wy = _bin_weights(y0, y1, output_size, h, spatial_scale, sampling_ratio,
                          features.device).to(features.dtype)
        wx = _bin_weights(x0, x1, output_size, w, spatial_scale, sampling_ratio,
                          features.device).to(features.dtype)
        out.append(wy @ features[int(batch_index[k])] @ wx.T)
    if not out:
        return features.new_zeros((0, features.shape[1], output_size, output_size))
    return torch.stack(out)


# -- the canvas -----------------------------------------------------------------------------

def edge_boxes(boxes: torch.Tensor) -> torch.Tensor:
    """(K, 4) float continuous boxes [y0, y1 + 1) x [x0, x1 + 1) of (K, 4) inclusive integer
    pixel boxes (y0, x0, y1, x1)."""
    return boxes.to(torch.float64) + torch.tensor([0.0, 0.0, 1.0, 1.0], dtype=torch.float64,
                                                  device=boxes.device)


def paste_logits(logits: torch.Tensor, boxes: torch.Tensor,
                 shape: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Paste each region's mask logits into the image canvas (Sec. 3.1: the maps L_i).

    Region k's (m, m) logits are resized bilinearly (pixel centres, ``align_corners=False``,
    edges replicated) onto its inclusive box, clipped to the image; outside its box the
    region has no logit.

    Args:
        logits: (N, m, m) float.
        boxes: (N, 4) int inclusive (y0, x0, y1, x1) pixels.
        shape: (H, W) of the canvas.

    Returns:
        (canvas, inside): (N, H, W) logits (0 outside the box) and (N, H, W) bool boxes.
    """
    n = logits.shape[0]
    h, w = shape
    canvas = logits.new_zeros((n, h, w))
    inside = torch.zeros((n, h, w), dtype=torch.bool, device=logits.device)
    for k in range(n):
        y0, x0, y1, x1 = (int(v) for v in boxes[k])
        resized = F.interpolate(logits[k][None, None], size=(y1 - y0 + 1, x1 - x0 + 1),
                                mode="bilinear", align_corners=False)[0, 0]
        cy0, cx0, cy1, cx1 = max(0, y0), max(0, x0), min(h, y1 + 1), min(w, x1 + 1)
        if cy1 <= cy0 or cx1 <= cx0:
            continue
        canvas[k, cy0:cy1, cx0:cx1] = resized[cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0]
        inside[k, cy0:cy1, cx0:cx1] = True
    return canvas, inside


def region_log_probabilities(canvas: torch.Tensor, inside: torch.Tensor) -> torch.Tensor:
    """(N, H, W) log-probabilities of Eq. 1: the softmax over the regions whose box covers
    the pixel (a region outside its box has probability 0, log -inf); at a pixel that no box
    covers every entry is -inf (no region)."""
    masked = canvas.masked_fill(~inside, float("-inf"))
    covered = inside.any(dim=0, keepdim=True)
    logp = torch.log_softmax(masked.masked_fill(~covered, 0.0), dim=0)
    return logp.masked_fill(~covered, float("-inf"))


def region_probabilities(canvas: torch.Tensor, inside: torch.Tensor) -> torch.Tensor:
    """(N, H, W) probabilities P of Eq. 1: they sum to 1 at every pixel inside at least one
    box and are all 0 elsewhere; a region is 0 outside its own box."""
    return region_log_probabilities(canvas, inside).exp()


def box_areas(boxes: torch.Tensor) -> torch.Tensor:
    """(N,) float64 pixel areas of (N, 4) inclusive integer boxes."""
    b = boxes.to(torch.float64)
    return (b[:, 2] - b[:, 0] + 1) * (b[:, 3] - b[:, 1] + 1)


def box_weighted_loss(canvas: torch.Tensor, inside: torch.Tensor, target: torch.Tensor,
                      boxes: torch.Tensor) -> torch.Tensor:
    """The pixel-wise loss (Eq. 3) with the paper's box weighting (Sec. 3.3).

    Every pixel p with a target region t(p) whose box contains p contributes
    w(p) * -log P_t(p)(p), where w(p) = 1 / area of the smallest box containing p; the loss
    is sum(w * CE) / sum(w) over those pixels (the normalisation is ours; the paper writes
    the sum). Pixels with target -1 (ignored or unlabelled), and pixels outside their own
    region's box (P would be 0), do not count.

    Args:
        canvas, inside: (N, H, W) from :func:`paste_logits`.
        target: (H, W) int64 region index in 0..N-1, or -1.
        boxes: (N, 4) int inclusive boxes, the same as pasted.

    Returns:
        A scalar float tensor (0 when no pixel counts).
    """
    logp = region_log_probabilities(canvas, inside)
    area = box_areas(boxes).to(canvas.dtype)[:, None, None].expand_as(canvas)
    smallest = torch.where(inside, area, torch.full_like(area, float("inf"))).amin(dim=0)
    idx = target.clamp(min=0)[None]
    own_inside = inside.gather(0, idx)[0] & (target >= 0)
    weight = torch.where(own_inside, 1.0 / smallest, torch.zeros_like(smallest))
    ce = -logp.gather(0, idx)[0]
    ce = torch.where(own_inside, ce, torch.zeros_like(ce))
    total = weight.sum()
    if total <= 0:
        return canvas.sum() * 0.0
    return (weight * ce).sum() / total


# -- the network ----------------------------------------------------------------------------

@dataclass
class IFISConfig:
    """Architecture of one ifis variant (choices: ``docs/models/ifis.md``).

    Attributes:
        backbone: BitConfig keywords of the ResNet trunk (hidden_sizes, depths,
            embedding_size, num_groups); the output of its last stage is Z.
        feature_channels: 1 x 1 convolution width applied to Z before RoIAlign.
        head_channels / head_convs: the mask head's 3 x 3 convolutions (+ ReLU).
        roi_size: RoI features and mask logits per side (41, Sec. 5.2).
        sampling_ratio: RoIAlign samples per bin and axis (<= 0: adaptive).
    """

    backbone: dict = field(default_factory=lambda: dict(RESNET50_C4))
    feature_channels: int = 256
    head_channels: int = 256
    head_convs: int = 4
    roi_size: int = ROI_SIZE
    sampling_ratio: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> IFISConfig:
        return cls(**dict(d))

    @property
    def stride(self) -> int:
        """Input pixels per cell of Z: the stem's 4, doubled by every stage after the first."""
        return int(4 * 2 ** (len(self.backbone["depths"]) - 1))


class IFIS(nn.Module):
    """The full-image region model (Fig. 2).

    ``features(image)`` runs the backbone once per image; ``region_logits(Z, boxes, pos,
    neg)`` runs the mask branch, the only part re-run after a correction (Sec. 1);
    ``forward`` chains both and pastes the logits into the canvas.
    """

    model_type = "ifis"

    def __init__(self, config: IFISConfig | None = None):
        super().__init__()
        self.config = config or IFISConfig()
        c = self.config
        self.backbone = build_bit_trunk(3, **c.backbone)
        self.reduce = nn.Conv2d(c.backbone["hidden_sizes"][-1], c.feature_channels, 1)
        layers: list[nn.Module] = []
        width = c.feature_channels + 2
        for _ in range(c.head_convs):
            layers += [nn.Conv2d(width, c.head_channels, 3, padding=1), nn.ReLU(inplace=True)]
            width = c.head_channels
        self.head = nn.Sequential(*layers)
        self.predictor = nn.Conv2d(width, 1, 1)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1),
                             persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1),
                             persistent=False)

    def features(self, image: torch.Tensor) -> torch.Tensor:
        """Z, (1, feature_channels, ~H/stride, ~W/stride), of a (1, 3, H, W) float image in
        [0, 1] (normalised with the ImageNet mean and std)."""
        z = self.backbone((image - self.mean) / self.std).feature_maps[0]
        out: torch.Tensor = self.reduce(z)
        return out

    def region_logits(self, feats: torch.Tensor, boxes: torch.Tensor, pos: torch.Tensor,
                      neg: torch.Tensor) -> torch.Tensor:
        """(N, roi_size, roi_size) mask logits l_i.

        Args:
            feats: Z from :meth:`features`.
            boxes: (N, 4) int inclusive (y0, x0, y1, x1) boxes b_i, image pixels.
            pos, neg: (N, H, W) float annotation maps S_i and sum_{j != i} S_j (binary).
        """
        c = self.config
        n = boxes.shape[0]
        edges = edge_boxes(boxes)
        z = roi_align(feats, edges, torch.zeros(n, dtype=torch.long), c.roi_size,
                      1.0 / c.stride, c.sampling_ratio)
        maps = torch.stack([pos, neg], dim=1).to(z.dtype)
        s = roi_align(maps, edges, torch.arange(n), c.roi_size, 1.0, c.sampling_ratio)
        out: torch.Tensor = self.predictor(self.head(torch.cat([z, s], dim=1)))[:, 0]
        return out

    def forward(self, image: torch.Tensor, boxes: torch.Tensor, pos: torch.Tensor,
                neg: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(canvas logits (N, H, W), inside (N, H, W) bool) of a (1, 3, H, W) image in
        [0, 1]; see :func:`paste_logits`."""
        logits = self.region_logits(self.features(image), boxes, pos, neg)
        return paste_logits(logits, boxes, (image.shape[-2], image.shape[-1]))
