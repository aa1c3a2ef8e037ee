"""ScribbleSeg: a SegFormer segmentation model fed with the image, the positive and negative
scribble maps and the previous mask, with a Prototype Adaption Module (PAM) and a
Corrective Refine Module (CRM).

Source: Chen, Cheung, Lim, Zhao, "ScribbleSeg: Scribble-based Interactive Image
Segmentation" (``../shared/papers/``, file 000): Fig. 3, Sec. 3.2 ("Prototype Adaption",
"Corrective Refine", "Training losses", Eq. 1) and Sec. 4.1 (SegFormer-B0/B3, 384 x 384).
No code was released; every layer the paper leaves open is our choice, listed in
``docs/models/scribbleseg.md``.

Constants: ``INPUT_SIZE`` = 384 (Sec. 4.1), ``LOSS_WEIGHTS`` = (0.4, 0.4, 0.4) for
(L_prim, L_ada, L_error) (Eq. 1), ``CRM_CHANNELS`` = 32, ``PAM_HIDDEN`` = 256,
``ERROR_THRESHOLD`` = 0.5, ``FUSIONS`` ("concat", "add"); IMAGENET_MEAN/STD from EMC-Click.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

from iseg_bench.models.emc_click import IMAGENET_MEAN, IMAGENET_STD
from iseg_bench.models.hf_backbones import MIT_CONFIGS, build_segformer
from iseg_bench.models.losses import normalized_focal_loss

INPUT_SIZE = 384
LOSS_WEIGHTS = (0.4, 0.4, 0.4)       # alpha, beta, gamma of Eq. 1
CRM_CHANNELS = 32
PAM_HIDDEN = 256
ERROR_THRESHOLD = 0.5
FUSIONS = ("concat", "add")
MAP_CHANNELS = 3                     # positive scribbles, negative scribbles, previous mask


@dataclass
class ScribbleSegConfig:
    """Architecture of one ScribbleSeg variant (everything needed to rebuild it).

    Attributes:
        encoder: SegformerConfig keywords of the MiT encoder (``MIT_CONFIGS``), with
            ``decoder_hidden_size`` D, the width of the all-MLP decoder.
        fusion: how the three interaction maps enter the encoder (the paper does not say):
            "concat" (default) gives the MiT's first patch embedding 6 input channels (RGB,
            positive, negative, previous mask); "add" maps the three maps by a learnable
            1 x 1 convolution to 3 channels added to the normalised RGB (the encoder keeps
            3 inputs).
        input_size: side of the square model input in px (384, Sec. 4.1).
        pam: use the Prototype Adaption Module (else M_ada = M_prim).
        crm: use the Corrective Refine Module (else the output is M_ada).
        pam_hidden: hidden width of each PAM MLP.
        crm_channels: width of the CRM.
        decoder_groups: GroupNorm groups of the decoder's fusion layer.
    """

    encoder: dict = field(default_factory=lambda: dict(MIT_CONFIGS["b0"]))
    fusion: str = "concat"
    input_size: int = INPUT_SIZE
    pam: bool = True
    crm: bool = True
    pam_hidden: int = PAM_HIDDEN
    crm_channels: int = CRM_CHANNELS
    decoder_groups: int = 8

    def __post_init__(self) -> None:
        if self.fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {FUSIONS}, got {self.fusion!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ScribbleSegConfig:
        return cls(**d)

    @classmethod
    def variant(cls, mit: str) -> ScribbleSegConfig:
        """The paper's variant on SegFormer-`mit` ("b0" or "b3")."""
        return cls(encoder=dict(MIT_CONFIGS[mit]))


def masked_average(feats: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Weighted average of features: sum(w f) / sum(w), 0 where sum(w) == 0.

    Args:
        feats: (B, D, h, w) float.
        weights: (B, 1, h, w) float, >= 0.

    Returns:
        (B, D) float.
    """
    total = weights.flatten(1).sum(1, keepdim=True)
    pooled = (feats * weights).flatten(2).sum(2)
    return pooled / total.clamp_min(1e-6)


class PrototypeAdaption(nn.Module):
    """PAM (Sec. 3.2, Fig. 3): a learnable prototype (the last 1 x 1 classifier kernel)
    gives M_prim; features pooled under the positive scribbles, the negative scribbles and
    sigmoid(M_prim) give three embeddings, three MLPs map them to offsets added to the
    prototype, and the adapted prototype gives M_ada. The MLPs' last layers start at zero,
    so an untrained PAM starts with M_ada = M_prim (ours)."""

    def __init__(self, channels: int, hidden: int = PAM_HIDDEN):
        super().__init__()
        self.prototype = nn.Parameter(torch.randn(channels) / math.sqrt(channels))
        self.bias = nn.Parameter(torch.zeros(1))
        self.mlps = nn.ModuleList(
            nn.Sequential(nn.Linear(channels, hidden), nn.ReLU(inplace=True),
                          nn.Linear(hidden, channels)) for _ in range(3))
        for mlp in self.mlps:
            nn.init.zeros_(mlp[2].weight)
            nn.init.zeros_(mlp[2].bias)

    def primitive(self, feats: torch.Tensor) -> torch.Tensor:
        """M_prim logits (B, 1, h, w) from features (B, D, h, w)."""
        return torch.einsum("bdhw,d->bhw", feats, self.prototype)[:, None] + self.bias

    def adapted_prototype(self, feats: torch.Tensor, scribbles: torch.Tensor,
                          prim: torch.Tensor) -> torch.Tensor:
        """The adapted prototype (B, D).

        feats: (B, D, h, w); scribbles: (B, 2, h, w) (positive, negative) in [0, 1] at the
        feature resolution; prim: M_prim logits (B, 1, h, w).
        """
        pools = (scribbles[:, 0:1], scribbles[:, 1:2], torch.sigmoid(prim))
        offset = sum(mlp(masked_average(feats, w)) for mlp, w in zip(self.mlps, pools))
        return self.prototype[None] + offset

    def forward(self, feats: torch.Tensor,
                scribbles: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(M_prim, M_ada) logits, each (B, 1, h, w); see ``adapted_prototype``."""
        prim = self.primitive(feats)
        proto = self.adapted_prototype(feats, scribbles, prim)
        ada = torch.einsum("bdhw,bd->bhw", feats, proto)[:, None] + self.bias
        return prim, ada


def _conv(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1), nn.ReLU(inplace=True))


class CorrectiveRefine(nn.Module):
    """CRM (Sec. 3.2, Fig. 3), at stride 2: one branch on (sigmoid(M_ada), the two scribble
    maps, the normalised image), one on the detached segmentation features; a shared trunk
    predicts the error map M_error and the corrected mask M_corr. M_ada enters detached
    too (Sec. 4.3, Tab. 9: "detaching the feature and masks")."""

    def __init__(self, feat_channels: int, channels: int = CRM_CHANNELS):
        super().__init__()
        self.low = nn.Sequential(_conv(1 + 2 + 3, channels, 2), _conv(channels, channels))
        self.high = nn.Sequential(nn.Conv2d(feat_channels, channels, 1), nn.ReLU(inplace=True))
        self.trunk = nn.Sequential(_conv(2 * channels, channels), _conv(channels, channels))
        self.error_head = nn.Conv2d(channels, 1, 1)
        self.corr_head = nn.Conv2d(channels, 1, 1)

    def forward(self, image_n: torch.Tensor, scribbles: torch.Tensor, ada: torch.Tensor,
                feats: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(M_error logits, M_corr logits), each (B, 1, ceil(H/2), ceil(W/2)).

        image_n: (B, 3, H, W) normalised image; scribbles: (B, 2, H, W); ada: M_ada logits
        (B, 1, H, W); feats: decoder features (B, D, h, w), detached here.
        """
        low = self.low(torch.cat([torch.sigmoid(ada.detach()), scribbles, image_n], 1))
        high = F.interpolate(self.high(feats.detach()), size=low.shape[-2:], mode="bilinear",
                             align_corners=False)
        x = self.trunk(torch.cat([low, high], 1))
        return self.error_head(x), self.corr_head(x)


class ScribbleSeg(nn.Module):
    """ScribbleSeg (Fig. 3): SegFormer encoder + all-MLP decoder, PAM, CRM.

    Inputs: image (B, 3, H, W) float RGB in [0, 1]; scribbles (B, 2, H, W) float binary
    (positive, negative); prev (B, 1, H, W) previous mask in [0, 1]. H and W are multiples
    of 32 (the adapter feeds ``config.input_size`` squares).
    """

    model_type = "scribbleseg"

    def __init__(self, config: ScribbleSegConfig | None = None):
        super().__init__()
        self.config = cfg = config or ScribbleSegConfig()
        enc = dict(cfg.encoder)
        dec = enc.pop("decoder_hidden_size", 256)
        concat = cfg.fusion == "concat"
        self.encoder = build_segformer(num_channels=3 + MAP_CHANNELS if concat else 3, **enc)
        self.map_conv = None if concat else nn.Conv2d(MAP_CHANNELS, 3, 1)
        self.proj = nn.ModuleList(nn.Conv2d(c, dec, 1) for c in enc["hidden_sizes"])
        self.fuse = nn.Sequential(nn.Conv2d(4 * dec, dec, 1, bias=False),
                                  nn.GroupNorm(math.gcd(cfg.decoder_groups, dec), dec),
                                  nn.ReLU(inplace=True))
        self.pam = PrototypeAdaption(dec, cfg.pam_hidden)
        self.crm = CorrectiveRefine(dec, cfg.crm_channels) if cfg.crm else None
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1),
                             persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1),
                             persistent=False)

    def features(self, image_n: torch.Tensor, maps: torch.Tensor) -> torch.Tensor:
        """Decoder features (B, D, H/4, W/4) of the normalised image and the 3 maps."""
        if self.map_conv is None:
            x = torch.cat([image_n, maps], 1)
        else:
            x = image_n + self.map_conv(maps)
        states = self.encoder(x, output_hidden_states=True).hidden_states
        size = states[0].shape[-2:]
        ups = [F.interpolate(p(s), size=size, mode="bilinear", align_corners=False) if i else p(s)
               for i, (p, s) in enumerate(zip(self.proj, states))]
        fused: torch.Tensor = self.fuse(torch.cat(ups[::-1], 1))
        return fused

    def forward(self, image: torch.Tensor, scribbles: torch.Tensor,
                prev: torch.Tensor) -> dict[str, torch.Tensor]:
        """Logits at the input resolution, each (B, 1, H, W): "prim", "ada", "ref" (the
        output), and with the CRM "error" and "corr". "ref" takes M_corr where
        sigmoid(M_error) > ERROR_THRESHOLD and M_ada elsewhere."""
        size = image.shape[-2:]
        image_n = (image - self.mean) / self.std
        feats = self.features(image_n, torch.cat([scribbles, prev], 1))
        small = F.adaptive_avg_pool2d(scribbles, feats.shape[-2:])
        if self.config.pam:
            prim, ada = self.pam(feats, small)
        else:
            prim = ada = self.pam.primitive(feats)

        def up(x: torch.Tensor) -> torch.Tensor:
            return F.interpolate(x, size=size, mode="bilinear", align_corners=False)

        out = {"prim": up(prim), "ada": up(ada)}
        if self.crm is None:
            out["ref"] = out["ada"]
            return out
        error, corr = self.crm(image_n, scribbles, out["ada"], feats)
        out["error"], out["corr"] = up(error), up(corr)
        inside = torch.sigmoid(out["error"]) > ERROR_THRESHOLD
        out["ref"] = torch.where(inside, out["corr"], out["ada"])
        return out


def scribbleseg_loss(outputs: dict[str, torch.Tensor], target: torch.Tensor,
                     ignore: torch.Tensor | None = None,
                     weights: tuple[float, float, float] = LOSS_WEIGHTS) -> torch.Tensor:
    """Eq. 1: L_ref + alpha L_prim + beta L_ada + gamma L_error.

    L_ref, L_prim, L_ada: normalised focal loss (``losses.normalized_focal_loss``) of the
    "ref", "prim" and "ada" logits; L_error: binary cross-entropy of the "error" logits
    against where the ground truth and M_ada (thresholded at 0.5, detached) disagree; it is
    0 without a CRM.

    Args:
        outputs: ``ScribbleSeg.forward``'s dict.
        target: (B, 1, H, W) ground truth in {0, 1}.
        ignore: optional (B, 1, H, W) bool, True where pixels do not count.
        weights: (alpha, beta, gamma), 0.4 each in the paper.

    Returns:
        0-d float tensor.
    """
    alpha, beta, gamma = weights
    target = target.float()
    loss = (normalized_focal_loss(outputs["ref"], target, ignore)
            + alpha * normalized_focal_loss(outputs["prim"], target, ignore)
            + beta * normalized_focal_loss(outputs["ada"], target, ignore))
    if "error" in outputs:
        wrong = ((outputs["ada"].detach() > 0).float() != target).float()
        valid = None if ignore is None else (~ignore.bool()).float()
        bce = F.binary_cross_entropy_with_logits(outputs["error"].float(), wrong, weight=valid)
        loss = loss + gamma * bce
    return loss
