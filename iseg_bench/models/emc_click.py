"""EMC-Click: a base segmentation network run at the first click and a mask correction
network (template selection, click-guided attention and correlation) run at every click.

Source: Du, Yuan, Wang, Wang, "Efficient Mask Correction for Click-Based Interactive Image
Segmentation", CVPR 2023, Sec. 3 and 4.1. Layer by layer, with the choices the paper leaves
open: ``docs/models/emc-click.md``.

Constants: ``IMAGENET_MEAN``, ``IMAGENET_STD`` (input normalisation), ``ATTENTION_HEADS`` =
4, ``CORRECTION_CHANNELS`` (C = 64 for MiT-b0, 96 for MiT-b3), ``PAD_MULTIPLE`` = 32 (the MiT
output stride; inputs are padded bottom/right to a multiple of it).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

from iseg_bench.models.hf_backbones import MIT_CONFIGS, build_segformer

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
ATTENTION_HEADS = 4
CORRECTION_CHANNELS = {"b0": 64, "b3": 96}
PAD_MULTIPLE = 32  # MiT output stride; inputs are padded bottom/right to a multiple of it


@dataclass
class EMCClickConfig:
    """Architecture of one EMC-Click variant (everything needed to rebuild it).

    Attributes:
        encoder: SegformerConfig keywords of the MiT encoder (see MIT_CONFIGS).
        channels: C, the correction network width (64 for b0, 96 for b3).
        num_templates: K per sign; None means K = C (Sec. 4.1).
        heads: attention heads (4).
        disk_radius: click disk radius in pixels (5).
        input_size: the image size the model is trained at, (h, w) (320 x 480, Sec. 4.1);
            adapters use its short side for zoom-in.
        decoder_groups: GroupNorm groups in the base decoder.
    """

    encoder: dict = field(default_factory=lambda: dict(MIT_CONFIGS["b0"]))
    channels: int = 64
    num_templates: int | None = None
    heads: int = ATTENTION_HEADS
    disk_radius: float = 5.0
    input_size: tuple[int, int] = (320, 480)
    decoder_groups: int = 8

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["input_size"] = list(self.input_size)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> EMCClickConfig:
        d = dict(d)
        if "input_size" in d:
            d["input_size"] = tuple(d["input_size"])
        return cls(**d)

    @classmethod
    def variant(cls, mit: str) -> EMCClickConfig:
        """The paper's variant on MiT-`mit` ("b0" or "b3")."""
        return cls(encoder=dict(MIT_CONFIGS[mit]), channels=CORRECTION_CHANNELS[mit])


def _gn(channels: int, groups: int) -> nn.GroupNorm:
    return nn.GroupNorm(math.gcd(groups, channels), channels)


class BaseSegmentationNet(nn.Module):
    """Phi_S of Eq. 1: MiT encoder + all-MLP decoder -> (F_t, M_c logits), both at stride 4."""

    def __init__(self, cfg: EMCClickConfig):
        super().__init__()
        enc = dict(cfg.encoder)
        dec = enc.pop("decoder_hidden_size", 256)
        self.encoder = build_segformer(num_channels=5, **enc)
        self.proj = nn.ModuleList(nn.Conv2d(c, dec, 1) for c in enc["hidden_sizes"])
        self.fuse = nn.Sequential(nn.Conv2d(4 * dec, dec, 1, bias=False),
                                  _gn(dec, cfg.decoder_groups), nn.ReLU(inplace=True))
        self.classifier = nn.Conv2d(dec, 1, 1)
        self.out_channels = dec

    def forward(self, image_n: torch.Tensor,
                disks: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """image_n: (B, 3, H, W) normalised; disks: (B, 2, H, W) of the first click.

        Returns F_t (B, D, ceil(H/4), ceil(W/4)) and M_c logits (B, 1, ceil(H/4), ceil(W/4)).
        """
        out = self.encoder(torch.cat([image_n, disks], 1), output_hidden_states=True)
        states = out.hidden_states
        size = states[0].shape[-2:]
        ups = [F.interpolate(p(s), size=size, mode="bilinear", align_corners=False) if i else p(s)
               for i, (p, s) in enumerate(zip(self.proj, states))]
        feats = self.fuse(torch.cat(ups[::-1], 1))
        return feats, self.classifier(feats)


def click_cells(clicks: torch.Tensor, image_hw: tuple[int, int],
                feat_hw: tuple[int, int]) -> torch.Tensor:
    """Map clicks (B, N, 3) [y, x, label] in image pixels to integer feature cells.

    label: 1 positive, 0 negative, -1 padding. Returns (B, N, 3) long [row, col, label],
    rows/cols clamped into the feature map (nearest cell, pixel-centre convention).
    """
    sy = feat_hw[0] / image_hw[0]
    sx = feat_hw[1] / image_hw[1]
    r = torch.floor((clicks[..., 0] + 0.5) * sy).clamp(0, feat_hw[0] - 1)
    c = torch.floor((clicks[..., 1] + 0.5) * sx).clamp(0, feat_hw[1] - 1)
    return torch.stack([r, c, clicks[..., 2]], -1).long()


def template_scores(feats: torch.Tensor, cells: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Score maps O_p, O_n of Eqs. 3-4.

    Args:
        feats: (B, C, h, w) fused features F_u.
        cells: (B, N, 3) long [row, col, label] (label 1 pos, 0 neg, -1 padding).

    Returns:
        (O_p, O_n), each (B, h, w) float.
    """
    b, c, h, w = feats.shape
    flat = F.normalize(feats.flatten(2), dim=1)  # (B, C, hw)
    idx = (cells[..., 0] * w + cells[..., 1]).clamp(0, h * w - 1)  # (B, N)
    click_feats = torch.gather(flat, 2, idx.unsqueeze(1).expand(b, c, idx.shape[1]))  # (B, C, N)
    cos = torch.einsum("bcn,bcp->bnp", click_feats, flat)  # (B, N, hw)
    rr = torch.arange(h, device=feats.device, dtype=feats.dtype).view(h, 1).expand(h, w).reshape(-1)
    cc = torch.arange(w, device=feats.device, dtype=feats.dtype).view(1, w).expand(h, w).reshape(-1)
    dist = torch.sqrt((rr.view(1, 1, -1) - cells[..., 0:1].to(feats.dtype)) ** 2
                      + (cc.view(1, 1, -1) - cells[..., 1:2].to(feats.dtype)) ** 2)
    dist = dist / math.sqrt(h * h + w * w)

    def reduce(label: int) -> tuple[torch.Tensor, torch.Tensor]:
        m = (cells[..., 2] == label).unsqueeze(-1)  # (B, N, 1)
        has = m.any(1)  # (B, 1)
        v = torch.where(m, cos, torch.full_like(cos, -2.0)).amax(1)
        d = torch.where(m, dist, torch.full_like(dist, 2.0)).amin(1)
        v = torch.where(has, v, torch.zeros_like(v))
        d = torch.where(has, d, torch.zeros_like(d))
        return v, d

    vp, dp = reduce(1)
    vn, dn = reduce(0)
    o_p = (vp + (1.0 - vn)) * (1.0 - dp)
    o_n = (vn + (1.0 - vp)) * (1.0 - dn)
    return o_p.view(b, h, w), o_n.view(b, h, w)


def select_templates(feats: torch.Tensor, scores: torch.Tensor, k: int) -> torch.Tensor:
    """Features at the top-k locations of `scores`.

    feats: (B, C, h, w); scores: (B, h, w). Returns (B, k', C), k' = min(k, h*w), best first.
    """
    b, c, h, w = feats.shape
    k = min(k, h * w)
    idx = scores.flatten(1).topk(k, dim=1).indices  # (B, k)
    return torch.gather(feats.flatten(2), 2, idx.unsqueeze(1).expand(b, c, k)).transpose(1, 2)


class ClickGuidedAttention(nn.Module):
    """Eqs. 5-6: pixels attend to the templates; F_s = F_u + MHA(Q(F_u), K(T), V(T))."""

    def __init__(self, channels: int, heads: int = ATTENTION_HEADS):
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(channels, channels)
        self.k = nn.Linear(channels, channels)
        self.v = nn.Linear(channels, channels)
        self.out = nn.Linear(channels, channels)

    def forward(self, feats: torch.Tensor, templates: torch.Tensor) -> torch.Tensor:
        """feats: (B, C, h, w); templates: (B, T, C). Returns (B, C, h, w)."""
        b, c, h, w = feats.shape
        x = feats.flatten(2).transpose(1, 2)  # (B, hw, C)
        dh = c // self.heads
        q = self.q(x).view(b, -1, self.heads, dh).transpose(1, 2)
        k = self.k(templates).view(b, -1, self.heads, dh).transpose(1, 2)
        v = self.v(templates).view(b, -1, self.heads, dh).transpose(1, 2)
        att = F.scaled_dot_product_attention(q, k, v)  # (B, heads, hw, dh)
        att = self.out(att.transpose(1, 2).reshape(b, -1, c))
        return feats + att.transpose(1, 2).view(b, c, h, w)


class ClickGuidedCorrelation(nn.Module):
    """Eqs. 7-9: correlation of the templates with F_u, shared phi_s, fusion phi_f."""

    def __init__(self, channels: int, num_templates: int):
        super().__init__()
        self.num_templates = num_templates
        self.phi_q = nn.Linear(channels, channels)
        self.phi_k = nn.Linear(channels, channels)
        self.phi_s = nn.Sequential(nn.Conv2d(num_templates, channels // 2, 1),
                                   nn.ReLU(inplace=True))
        self.phi_f = nn.Sequential(nn.Conv2d(2 * (channels // 2), channels, 1),
                                   nn.ReLU(inplace=True))

    def _similarity(self, keys: torch.Tensor, templates: torch.Tensor,
                    hw: tuple[int, int]) -> torch.Tensor:
        b, n, c = keys.shape
        s = torch.bmm(self.phi_q(templates), keys.transpose(1, 2)) / math.sqrt(c)  # (B, T, hw)
        s = s.view(b, -1, *hw)
        if s.shape[1] < self.num_templates:  # fewer feature pixels than K: zero-fill
            s = F.pad(s, (0, 0, 0, 0, 0, self.num_templates - s.shape[1]))
        return s

    def forward(self, feats: torch.Tensor, pos_t: torch.Tensor,
                neg_t: torch.Tensor) -> torch.Tensor:
        """feats: (B, C, h, w); pos_t/neg_t: (B, K, C). Returns F_c (B, C, h, w)."""
        hw = feats.shape[-2:]
        keys = self.phi_k(feats.flatten(2).transpose(1, 2))  # (B, hw, C)
        sp = self.phi_s(self._similarity(keys, pos_t, hw))
        sn = self.phi_s(self._similarity(keys, neg_t, hw))
        return self.phi_f(torch.cat([sp, sn], 1))


class MaskCorrectionNet(nn.Module):
    """Phi_R of Eq. 2 (Sec. 3.3)."""

    def __init__(self, cfg: EMCClickConfig, base_channels: int):
        super().__init__()
        c = cfg.channels
        self.k = cfg.num_templates or c
        self.low = nn.Sequential(nn.Conv2d(6, c // 2, 3, 2, 1), nn.ReLU(inplace=True),
                                 nn.Conv2d(c // 2, c, 3, 2, 1), nn.ReLU(inplace=True))
        self.proj = nn.Conv2d(base_channels, c, 1)
        self.fuse = nn.Sequential(nn.Conv2d(2 * c, c, 1), nn.ReLU(inplace=True))
        self.attention = ClickGuidedAttention(c, cfg.heads)
        self.correlation = ClickGuidedCorrelation(c, self.k)
        h = c // 2
        self.head = nn.Sequential(nn.Conv2d(2 * c, h, 3, 1, 1), nn.ReLU(inplace=True),
                                  nn.Conv2d(h, h, 3, 1, 1), nn.ReLU(inplace=True),
                                  nn.Conv2d(h, h, 3, 1, 1), nn.ReLU(inplace=True),
                                  nn.Conv2d(h, 1, 1))

    def forward(self, image_n: torch.Tensor, disks: torch.Tensor, prev: torch.Tensor,
                base_feats: torch.Tensor, clicks: torch.Tensor) -> torch.Tensor:
        """Corrected logits (B, 1, H, W).

        image_n: (B, 3, H, W) normalised image; disks: (B, 2, H, W) all clicks;
        prev: (B, 1, H, W) previous mask in [0, 1]; base_feats: F_t (B, D, h, w);
        clicks: (B, N, 3) float [y, x, label] in image pixels (label 1/0, -1 padding).
        """
        low = self.low(torch.cat([image_n, disks, prev], 1))
        hw = low.shape[-2:]
        ft = self.proj(base_feats)
        if ft.shape[-2:] != hw:
            ft = F.interpolate(ft, size=hw, mode="bilinear", align_corners=False)
        fu = self.fuse(torch.cat([low, ft], 1))
        cells = click_cells(clicks, tuple(image_n.shape[-2:]), tuple(hw))
        o_p, o_n = template_scores(fu, cells)
        pos_t = select_templates(fu, o_p, self.k)
        neg_t = select_templates(fu, o_n, self.k)
        fs = self.attention(fu, torch.cat([pos_t, neg_t], 1))
        fc = self.correlation(fu, pos_t, neg_t)
        logits = self.head(torch.cat([fs, fc], 1))
        return F.interpolate(logits, size=image_n.shape[-2:], mode="bilinear", align_corners=False)


class EMCClick(nn.Module):
    """EMC-Click = base segmentation network + mask correction network.

    Inputs everywhere: image (B, 3, H, W) float RGB in [0, 1]; disks (B, 2, H, W) float
    (positive, negative) binary disks; clicks (B, N, 3) float [y, x, label].
    """

    model_type = "emc-click"

    def __init__(self, config: EMCClickConfig | None = None):
        super().__init__()
        self.config = config or EMCClickConfig()
        self.base = BaseSegmentationNet(self.config)
        self.correction = MaskCorrectionNet(self.config, self.base.out_channels)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def normalize(self, image: torch.Tensor) -> torch.Tensor:
        return (image - self.mean) / self.std

    @staticmethod
    def _pad(x: torch.Tensor, replicate: bool = False) -> torch.Tensor:
        """Pad bottom/right to a multiple of PAD_MULTIPLE (the MiT encoder needs >= 32 px)."""
        h, w = x.shape[-2:]
        ph, pw = (-h) % PAD_MULTIPLE, (-w) % PAD_MULTIPLE
        if not (ph or pw):
            return x
        return F.pad(x, (0, pw, 0, ph), mode="replicate" if replicate else "constant")

    def encode(self, image: torch.Tensor,
               first_disks: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Phi_S: F_t (B, D, ceil(H/32)*8, ceil(W/32)*8) and M_c logits (B, 1, H, W).

        F_t belongs to the image padded to a multiple of 32; pass it unchanged to `correct`.
        """
        h, w = image.shape[-2:]
        feats, coarse = self.base(self._pad(self.normalize(image), True), self._pad(first_disks))
        coarse = F.interpolate(coarse, scale_factor=4, mode="bilinear", align_corners=False)
        return feats, coarse[..., :h, :w]

    def correct(self, image: torch.Tensor, disks: torch.Tensor, prev: torch.Tensor,
                feats: torch.Tensor, clicks: torch.Tensor) -> torch.Tensor:
        """Phi_R: corrected logits (B, 1, H, W) (inputs padded like `encode`, output cropped)."""
        h, w = image.shape[-2:]
        out = self.correction(self._pad(self.normalize(image), True), self._pad(disks),
                              self._pad(prev), feats, clicks)
        return out[..., :h, :w]

    def forward(self, image: torch.Tensor, first_disks: torch.Tensor, disks: torch.Tensor,
                clicks: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """First-click pass: (corrected logits, coarse logits), both (B, 1, H, W)."""
        feats, coarse = self.encode(image, first_disks)
        logits = self.correct(image, disks, torch.sigmoid(coarse), feats, clicks)
        return logits, coarse
