"""EMC-Click: a base segmentation network run at the first click and a mask correction
network (template selection, click-guided attention and correlation) run at every click,
built to the architecture of the authors' released models so their checkpoints load.

Sources: Du, Yuan, Wang, Wang, "Efficient Mask Correction for Click-Based Interactive Image
Segmentation", CVPR 2023, Sec. 3 and 4.1; the authors' released code (github
feiaxyt/EMC-Click: isegm/model/is_refine_model.py (correction network),
is_refine_segformer_model.py, modeling/segformer/ (MiT with the click patch embedding, head),
models/emcclick/segformerB*_att_cclvis.py (widths)), read for layer types, widths and orders
only. Layer by layer, with the choices that are ours: ``docs/models/emc-click.md``.

Constants: ``IMAGENET_MEAN``, ``IMAGENET_STD`` (input normalisation), ``ATTENTION_HEADS`` =
4, ``CORRECTION_CHANNELS`` (C = 64 for MiT-b0, 96 for MiT-b3), ``DECODER_CHANNELS`` (256 for
b0, 512 for b3), ``DECODER_DROPOUT`` = 0.1, ``MIT_BLOCK_EPS`` = 1e-6 (LayerNorm epsilon of the
MiT blocks and stage norms; patch-embedding and reduction norms keep 1e-5), ``DISK_RADIUS`` =
5 px, ``FEATURE_STRIDE`` = 4, ``MIN_SIDE`` = 32 px (the MiT reductions need it).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

from iseg_bench.models.hf_backbones import MIT_CONFIGS, build_segformer, transformers_modules
from iseg_bench.models.hrnet import HRNET_SPECS, HRNetBaseNet, HRNetSpec

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
ATTENTION_HEADS = 4
CORRECTION_CHANNELS = {"b0": 64, "b3": 96, "hr18s": 64, "hr18": 96, "hr32": 96}
DECODER_CHANNELS = {"b0": 256, "b3": 512}
DECODER_DROPOUT = 0.1
MIT_BLOCK_EPS = 1e-6
DISK_RADIUS = 5.0
FEATURE_STRIDE = 4
MIN_SIDE = 32


@dataclass
class EMCClickConfig:
    """Architecture of one EMC-Click variant (everything needed to rebuild it).

    Attributes:
        encoder: SegformerConfig keywords of the MiT encoder (see MIT_CONFIGS); a
            ``decoder_hidden_size`` key there is ignored (the width is ``decoder_channels``).
        channels: C, the correction network width (64 for b0, 96 for b3).
        num_templates: K per sign; None means K = C (the released models: K = C).
        heads: attention heads (4).
        disk_radius: click disk radius in pixels (5).
        input_size: the training crop (h, w) (320 x 480, Sec. 4.1).
        decoder_channels: width D of the base decoder and of F_t (256 b0, 512 b3).
        hrnet: None for the MiT base network; else the HRNet+OCR base (models/hrnet.py)
            as HRNetSpec keywords (width, ocr_width, small); F_t then has 2 * ocr_width
            channels and ``encoder``/``decoder_channels`` are unused.
    """

    encoder: dict = field(default_factory=lambda: dict(MIT_CONFIGS["b0"]))
    channels: int = 64
    num_templates: int | None = None
    heads: int = ATTENTION_HEADS
    disk_radius: float = DISK_RADIUS
    input_size: tuple[int, int] = (320, 480)
    decoder_channels: int = 256
    hrnet: dict | None = None

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
        """The released variant on MiT-`mit` ("b0" or "b3") or HRNet `mit` ("hr18s",
        "hr18", "hr32"; models/emcclick/hrnet*_att_cclvis.py). KeyError for other names."""
        if mit in HRNET_SPECS:
            return cls(channels=CORRECTION_CHANNELS[mit], hrnet=asdict(HRNET_SPECS[mit]))
        return cls(encoder=dict(MIT_CONFIGS[mit]), channels=CORRECTION_CHANNELS[mit],
                   decoder_channels=DECODER_CHANNELS[mit])


class ConvNormReLU(nn.Module):
    """k x k convolution (with bias) -> BatchNorm -> ReLU. (B, Cin, h, w) -> (B, Cout, h, w)."""

    def __init__(self, cin: int, cout: int, kernel: int = 1, bias: bool = True):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, 1, kernel // 2, bias=bias)
        self.norm = nn.BatchNorm2d(cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.norm(self.conv(x)))


class SeparableBlock(nn.Module):
    """The released correction network's block: depthwise 3x3 -> BN -> depthwise 3x3 ->
    pointwise 1x1 -> BN -> ReLU (convolutions with bias). (B, Cin, h, w) -> (B, Cout, h, w)."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv3x3_1 = nn.Conv2d(cin, cin, 3, 1, 1, groups=cin)
        self.norm1 = nn.BatchNorm2d(cin)
        self.conv3x3_2 = nn.Conv2d(cin, cin, 3, 1, 1, groups=cin)
        self.conv1x1 = nn.Conv2d(cin, cout, 1)
        self.norm2 = nn.BatchNorm2d(cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv3x3_2(self.norm1(self.conv3x3_1(x)))
        return F.relu(self.norm2(self.conv1x1(x)))


class MLPDecoder(nn.Module):
    """SegFormer all-MLP head as released: per-stage linear projection to D, bilinear
    upsampling (align_corners False) to stride 4, concatenation (deepest first), 1x1
    convolution without bias + BN + ReLU, Dropout2d(0.1) -> F_t; 1x1 classifier -> M_c."""

    def __init__(self, in_channels: list[int], width: int):
        super().__init__()
        for i, c in enumerate(in_channels, 1):
            setattr(self, f"linear_c{i}", _Linear(c, width))
        self.linear_fuse = ConvNormReLU(4 * width, width, 1, bias=False)
        self.dropout = nn.Dropout2d(DECODER_DROPOUT)
        self.linear_pred = nn.Conv2d(width, 1, 1)

    def forward(self, states: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """states: four (B, C_i, h_i, w_i). Returns (F_t (B, D, h_1, w_1), M_c logits (B, 1,
        h_1, w_1))."""
        size = states[0].shape[-2:]
        ups = []
        for i in (4, 3, 2, 1):
            s = getattr(self, f"linear_c{i}")(states[i - 1])
            ups.append(s if i == 1 else F.interpolate(s, size=size, mode="bilinear",
                                                      align_corners=False))
        feats = self.dropout(self.linear_fuse(torch.cat(ups, 1)))
        return feats, self.linear_pred(feats)


class _Linear(nn.Module):
    """A token-wise nn.Linear applied to a (B, C, h, w) map -> (B, D, h, w)."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.proj = nn.Linear(cin, cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, h, w = x.shape
        return self.proj(x.flatten(2).transpose(1, 2)).transpose(1, 2).reshape(b, -1, h, w)


class BaseSegmentationNet(nn.Module):
    """Phi_S of Eq. 1 as released: MiT encoder on the RGB image; the first click's positive
    disk (1 channel) through its own 7x7 stride-4 patch embedding, added to the stage-1
    output before stage 2 (the stage-1 feature sent to the decoder excludes it); the MLP
    decoder gives F_t and M_c at stride 4."""

    def __init__(self, cfg: EMCClickConfig):
        super().__init__()
        enc = {k: v for k, v in cfg.encoder.items() if k != "decoder_hidden_size"}
        self.encoder = build_segformer(num_channels=3, **enc)
        for stage in self.encoder.stages:  # the released MiT blocks use LayerNorm eps 1e-6
            stage.layer_norm.eps = MIT_BLOCK_EPS
            for block in stage.blocks:
                block.layernorm_before.eps = MIT_BLOCK_EPS
                block.layernorm_after.eps = MIT_BLOCK_EPS
        seg, _, _, _ = transformers_modules()
        self.side_embed = seg.SegformerOverlapPatchEmbeddings(
            patch_size=7, stride=4, num_channels=1, hidden_size=enc["hidden_sizes"][0])
        self.decode_head = MLPDecoder(list(enc["hidden_sizes"]), cfg.decoder_channels)
        self.out_channels = cfg.decoder_channels

    def forward(self, image_n: torch.Tensor,
                first_disk: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """image_n: (B, 3, H, W) normalised; first_disk: (B, 1, H, W) the first click's disk.

        Returns F_t (B, D, H/4, W/4) and M_c logits (B, 1, H/4, W/4)."""
        side, h, w = self.side_embed(first_disk)
        side = side.transpose(1, 2).reshape(side.shape[0], -1, h, w)
        states = []
        x = image_n
        for i, stage in enumerate(self.encoder.stages):
            x = stage(x)
            states.append(x)
            if i == 0:
                x = x + side
        return self.decode_head(states)


def click_cells(clicks: torch.Tensor, feat_hw: tuple[int, int]) -> torch.Tensor:
    """Map clicks (B, N, 3) [y, x, label] in image pixels to stride-4 cells as released:
    round(y / 4) (torch.round, half to even), clamped to h - 1 / w - 1; padding rows (label
    -1) go to cell (0, 0). Returns (B, N) long flat indices row * w + col."""
    r = torch.round(clicks[..., 0] / FEATURE_STRIDE).clamp(max=feat_hw[0] - 1)
    c = torch.round(clicks[..., 1] / FEATURE_STRIDE).clamp(max=feat_hw[1] - 1)
    idx = (r * feat_hw[1] + c).long()
    return torch.where(clicks[..., 2] < 0, torch.zeros_like(idx), idx.clamp(min=0))


def distance_maps(clicks: torch.Tensor, image_hw: tuple[int, int],
                  feat_hw: tuple[int, int]) -> torch.Tensor:
    """D_p, D_n of Eqs. 3-4 as released: per sign the Euclidean distance (pixels) to the
    nearest click over the image grid (rows/cols 0..H-1), 1 px where the sign has no click,
    divided by the image diagonal sqrt(H^2 + W^2), then resized bilinearly (align_corners
    True) to the feature grid. clicks: (B, N, 3). Returns (B, 2, h * w) float32."""
    hh, ww = image_hw
    rows = torch.arange(hh, device=clicks.device, dtype=torch.float32).view(1, 1, hh, 1)
    cols = torch.arange(ww, device=clicks.device, dtype=torch.float32).view(1, 1, 1, ww)
    c = clicks.float()
    maps = []
    for label in (1.0, 0.0):
        d2 = ((rows - c[..., 0, None, None]) ** 2 + (cols - c[..., 1, None, None]) ** 2)
        d2 = torch.where((c[..., 2] == label)[..., None, None], d2, torch.full_like(d2, 1e6))
        d2 = d2.amin(1)
        maps.append(torch.where(d2 == 1e6, torch.ones_like(d2), d2))
    d = torch.stack(maps, 1).sqrt() / float(hh * hh + ww * ww) ** 0.5
    if (hh, ww) != tuple(feat_hw):
        d = F.interpolate(d, size=feat_hw, mode="bilinear", align_corners=True)
    return d.flatten(2)


def template_scores(feats: torch.Tensor, clicks: torch.Tensor,
                    image_hw: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Score maps O_p, O_n of Eqs. 3-4 as released, computed in float32 (autocast off, so
    bf16 runs pick the same templates) without gradients.

    V_p (V_n) is the maximum cosine similarity of a cell's feature to the positive
    (negative) click cells; as in the released code clicks are held in two slot lists of
    n = max over the batch of max(#pos, #neg) (at least 1) and an empty slot's similarity is
    0, so a sign with fewer than n clicks takes max(..., 0).

    Args:
        feats: (B, C, h, w) fused features F_u (any float dtype).
        clicks: (B, N, 3) [y, x, label] in image pixels, label 1 pos, 0 neg, -1 padding.
        image_hw: (H, W) of the image the clicks belong to.

    Returns:
        (O_p, O_n), each (B, h * w) float32.
    """
    with torch.no_grad(), torch.autocast(feats.device.type, enabled=False):
        b, c, h, w = feats.shape
        flat = F.normalize(feats.detach().float().flatten(2), dim=1)  # (B, C, hw)
        idx = click_cells(clicks, (h, w))
        click_feats = torch.gather(flat, 2, idx.unsqueeze(1).expand(b, c, idx.shape[1]))
        sim = torch.einsum("bcn,bcm->bnm", click_feats, flat)  # (B, N, hw)
        labels = clicks[..., 2]
        counts = torch.stack([(labels == 1).sum(1), (labels == 0).sum(1)], 1)  # (B, 2)
        slots = int(max(1, counts.max().item()))
        v = []
        for j, label in enumerate((1.0, 0.0)):
            m = (labels == label).unsqueeze(-1)
            best = torch.where(m, sim, torch.full_like(sim, -2.0)).amax(1)
            padded = (counts[:, j] < slots).unsqueeze(-1)
            v.append(torch.where(padded, best.clamp(min=0.0), best))
        dist = distance_maps(clicks, image_hw, (h, w))
        o_p = (v[0] + (1 - v[1])) * (1 - dist[:, 0])
        o_n = (v[1] + (1 - v[0])) * (1 - dist[:, 1])
    return o_p, o_n


class MaskCorrectionNet(nn.Module):
    """Phi_R of Eq. 2 (Sec. 3.3) with the released layers (attribute names are the
    released ones, so its state dict keys match theirs)."""

    def __init__(self, cfg: EMCClickConfig, base_channels: int):
        super().__init__()
        c = cfg.channels
        self.k = cfg.num_templates or c
        self.image_conv1 = nn.Sequential(nn.PixelUnshuffle(FEATURE_STRIDE),
                                         SeparableBlock(6 * FEATURE_STRIDE ** 2, c))
        self.image_conv2 = SeparableBlock(c, c)
        self.refine_fusion = ConvNormReLU(base_channels, c, 1)
        self.fusion1 = nn.Sequential(SeparableBlock(2 * c, c), SeparableBlock(c, c))
        self.feature_convq = nn.Conv2d(c, c, 1)
        self.feature_convk = nn.Conv2d(c, c, 1)
        self.corr_conv = SeparableBlock(self.k, self.k)  # phi_s, shared by both signs
        self.corr_fusion = SeparableBlock(2 * self.k, c)  # phi_f
        self.cross_attention = nn.MultiheadAttention(c, cfg.heads)
        self.all_fusion = SeparableBlock(2 * c, c)
        self.refine_fusion1 = SeparableBlock(c, c)
        self.refine_fusion2 = SeparableBlock(c, c)
        self.refine_pred = nn.Conv2d(c, 1, 3, 1, 1)

    def _correlation(self, q: torch.Tensor, k: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        """Eq. 7 without scaling: q, k (B, C, h, w); idx (B, K') -> phi_s(S) (B, K, h, w)."""
        b, c, h, w = q.shape
        t = torch.gather(q.flatten(2), 2, idx.unsqueeze(1).expand(b, c, idx.shape[1]))
        s = torch.einsum("bck,bcm->bkm", t, k.flatten(2)).reshape(b, -1, h, w)
        if s.shape[1] < self.k:  # fewer feature cells than K: zero-filled (ours)
            s = F.pad(s, (0, 0, 0, 0, 0, self.k - s.shape[1]))
        return self.corr_conv(s)

    def forward(self, image_n: torch.Tensor, disks: torch.Tensor, prev_logits: torch.Tensor,
                base_feats: torch.Tensor, clicks: torch.Tensor) -> torch.Tensor:
        """Corrected logits (B, 1, H/4, W/4).

        image_n: (B, 3, H, W) normalised image; disks: (B, 2, H, W) (positive, negative)
        disks of all clicks; prev_logits: (B, 1, h', w') previous logits (the model's own,
        any size; resized bilinearly with align_corners True, then a sigmoid); base_feats:
        F_t (B, D, h'', w''); clicks: (B, N, 3) float [y, x, label] (label 1/0, -1 padding).
        """
        hw = image_n.shape[-2:]
        prev = torch.sigmoid(F.interpolate(prev_logits, size=hw, mode="bilinear",
                                           align_corners=True))
        low = self.image_conv2(self.image_conv1(torch.cat([image_n, disks, prev], 1)))
        ft = self.refine_fusion(base_feats)
        if ft.shape[-2:] != low.shape[-2:]:
            ft = F.interpolate(ft, size=low.shape[-2:], mode="bilinear", align_corners=True)
        fu = self.fusion1(torch.cat([ft, low], 1))
        b, c, h, w = fu.shape
        o_p, o_n = template_scores(fu, clicks, tuple(hw))
        k = min(self.k, h * w)
        pos_idx = o_p.topk(k, dim=1).indices
        neg_idx = o_n.topk(k, dim=1).indices
        q, key = self.feature_convq(fu), self.feature_convk(fu)
        corr = self.corr_fusion(torch.cat([self._correlation(q, key, pos_idx),
                                           self._correlation(q, key, neg_idx)], 1))
        tokens = fu.flatten(2).permute(2, 0, 1)  # (hw, B, C)
        idx = torch.cat([pos_idx, neg_idx], 1)
        kv = torch.gather(fu.flatten(2), 2, idx.unsqueeze(1).expand(b, c, idx.shape[1]))
        kv = kv.permute(2, 0, 1)  # (2K, B, C)
        att = self.cross_attention(tokens, kv, kv, need_weights=False)[0]
        fs = fu + att.permute(1, 2, 0).reshape(b, c, h, w)
        x = self.refine_fusion2(self.refine_fusion1(self.all_fusion(torch.cat([fs, corr], 1))))
        return self.refine_pred(x)


def upsample(logits: torch.Tensor, hw: tuple[int, int]) -> torch.Tensor:
    """Bilinear resize with align_corners True (every resize of the released model)."""
    if tuple(logits.shape[-2:]) == tuple(hw):
        return logits
    return F.interpolate(logits, size=hw, mode="bilinear", align_corners=True)


class EMCClick(nn.Module):
    """EMC-Click = base segmentation network + mask correction network.

    Inputs everywhere: image (B, 3, H, W) float RGB in [0, 1] with H, W multiples of 4 and
    at least ``MIN_SIDE`` (ValueError otherwise; the released evaluation resizes to such
    sizes); disks float binary maps; clicks (B, N, 3) float [y, x, label] in image pixels
    (row/column indices), label 1 positive, 0 negative, -1 padding.
    """

    model_type = "emc-click"

    def __init__(self, config: EMCClickConfig | None = None):
        super().__init__()
        self.config = config or EMCClickConfig()
        self.base: nn.Module = (HRNetBaseNet(HRNetSpec(**self.config.hrnet)) if self.config.hrnet
                                else BaseSegmentationNet(self.config))
        self.correction = MaskCorrectionNet(self.config, self.base.out_channels)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def normalize(self, image: torch.Tensor) -> torch.Tensor:
        h, w = image.shape[-2:]
        if h % FEATURE_STRIDE or w % FEATURE_STRIDE or min(h, w) < MIN_SIDE:
            raise ValueError(f"EMC-Click needs sides that are multiples of {FEATURE_STRIDE} and "
                             f"at least {MIN_SIDE} px, got {h} x {w}")
        return (image - self.mean) / self.std

    def encode(self, image: torch.Tensor,
               first_disk: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Phi_S: F_t (B, D, H/4, W/4) and M_c logits (B, 1, H/4, W/4).

        first_disk: (B, 1, H, W) the positive disk of the first click."""
        return self.base(self.normalize(image), first_disk)

    def correct(self, image: torch.Tensor, disks: torch.Tensor, prev_logits: torch.Tensor,
                feats: torch.Tensor, clicks: torch.Tensor) -> torch.Tensor:
        """Phi_R: corrected logits (B, 1, H/4, W/4); prev_logits are the model's previous
        stride-4 logits (M_c at the first click, then its own last output)."""
        return self.correction(self.normalize(image), disks, prev_logits, feats, clicks)

    def forward(self, image: torch.Tensor, first_disk: torch.Tensor, disks: torch.Tensor,
                clicks: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """First-click pass: (corrected logits, coarse logits), both (B, 1, H, W)."""
        feats, coarse = self.encode(image, first_disk)
        logits = self.correct(image, disks, coarse, feats, clicks)
        hw = tuple(image.shape[-2:])
        return upsample(logits, hw), upsample(coarse, hw)
