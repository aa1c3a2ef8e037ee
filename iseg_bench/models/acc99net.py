"""The 99%-accuracy network ("99%AccuracyNet"): ResNet-50 GN+WS image stream, interaction
stream, pyramid pooling, decoder and guided-filter layer.

Source: Forte, Price, Cohen, Xu, Pitie, "Getting to 99% Accuracy in Interactive
Segmentation", arXiv:2003.07932, Sec. 3.1, Tab. 1, 2, 4, 5 and Fig. 2. Layer by layer, with
the choices the paper leaves open: ``docs/models/acc99net.md``.

Constants: ``IMAGENET_MEAN``, ``IMAGENET_STD`` (input normalisation), ``LEAKY_SLOPE`` = 0.01.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

from iseg_bench.models.guided_filter import GF_EPS, GF_RADIUS, GuidedFilterLayer
from iseg_bench.models.hf_backbones import RESNET_CONFIGS, bit_features, build_bit

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
LEAKY_SLOPE = 0.01


@dataclass
class Acc99NetConfig:
    """Architecture of one 99%-accuracy network variant.

    Attributes:
        backbone: BitConfig keywords (hidden_sizes, depths, embedding_size, num_groups).
        interaction_channels / interaction_strides: Tab. 4.
        ppm_bins / ppm_channels: pyramid pooling.
        decoder_channels: output channels of conv1..conv6 of Tab. 5.
        gn_groups: GroupNorm groups in the decoder (32).
        gf_radius / gf_eps: guided filter.
        input_size: training crop (352, 352) (Sec. 3.2).
    """

    backbone: dict = field(default_factory=lambda: dict(RESNET_CONFIGS["resnet50"]))
    interaction_channels: tuple[int, ...] = (64, 128, 256, 256, 256, 256)
    interaction_strides: tuple[int, ...] = (1, 2, 1, 2, 2, 1)
    ppm_bins: tuple[int, ...] = (1, 2, 3, 6)
    ppm_channels: int = 256
    decoder_channels: tuple[int, ...] = (256, 256, 256, 64, 32, 16)
    gn_groups: int = 32
    gf_radius: int = GF_RADIUS
    gf_eps: float = GF_EPS
    input_size: tuple[int, int] = (352, 352)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k, v in d.items():
            if isinstance(v, tuple):
                d[k] = list(v)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Acc99NetConfig:
        d = dict(d)
        for k in ("interaction_channels", "interaction_strides", "ppm_bins", "decoder_channels",
                  "input_size"):
            if k in d:
                d[k] = tuple(d[k])
        return cls(**d)


def _act() -> nn.LeakyReLU:
    return nn.LeakyReLU(LEAKY_SLOPE, inplace=True)


def _gn(channels: int, groups: int) -> nn.GroupNorm:
    return nn.GroupNorm(math.gcd(groups, channels), channels)


def _conv(cin: int, cout: int, gn: int | None = None, k: int = 3, stride: int = 1) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, k, stride, k // 2), _act()]
    if gn:
        layers.append(_gn(cout, gn))
    return nn.Sequential(*layers)


class InteractionStream(nn.Module):
    """Tab. 4: (B, 7, H, W) -> features of conv2 (stride 2), conv4 (stride 4), conv6 (stride 8)."""

    def __init__(self, channels: tuple[int, ...], strides: tuple[int, ...], in_channels: int = 7):
        super().__init__()
        layers, cin = [], in_channels
        for c, s in zip(channels, strides):
            layers.append(_conv(cin, c, stride=s))
            cin = c
        self.layers = nn.ModuleList(layers)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        out = {}
        for i, layer in enumerate(self.layers, 1):
            x = layer(x)
            out[f"conv{i}"] = x
        return out


class PyramidPooling(nn.Module):
    """PSPNet pyramid pooling: input (B, C, h, w) -> (B, C + len(bins) * P, h, w)."""

    def __init__(self, cin: int, bins: tuple[int, ...], channels: int, groups: int):
        super().__init__()
        self.bins = bins
        self.stages = nn.ModuleList(
            nn.Sequential(nn.Conv2d(cin, channels, 1, bias=False), _gn(channels, groups), _act())
            for _ in bins)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hw = x.shape[-2:]
        outs = [x]
        for b, stage in zip(self.bins, self.stages):
            outs.append(F.interpolate(stage(F.adaptive_avg_pool2d(x, b)), size=hw, mode="bilinear",
                                      align_corners=False))
        return torch.cat(outs, 1)


class Acc99Net(nn.Module):
    """Two-stream network of Forte et al. (Fig. 2).

    forward(image (B, 3, H, W) in [0, 1], gauss (B, 6, H, W), prev (B, 1, H, W) in [0, 1])
    -> (B, 1, H, W) float mask in [0, 1], for any H, W >= 1.
    """

    model_type = "acc99net"

    def __init__(self, config: Acc99NetConfig | None = None):
        super().__init__()
        cfg = self.config = config or Acc99NetConfig()
        bb = dict(cfg.backbone)
        self.image_stream = build_bit(num_channels=9, output_stride=8, **bb)
        ic = cfg.interaction_channels
        self.interaction_stream = InteractionStream(ic, cfg.interaction_strides)
        c4 = bb["hidden_sizes"][-1]
        c1 = bb["hidden_sizes"][0]
        stem = bb["embedding_size"]
        self.ppm = PyramidPooling(c4, cfg.ppm_bins, cfg.ppm_channels, cfg.gn_groups)
        d = cfg.decoder_channels
        g = cfg.gn_groups
        self.conv1 = _conv(c4 + len(cfg.ppm_bins) * cfg.ppm_channels + ic[5], d[0], g)
        self.conv2 = _conv(d[0], d[1], g)
        self.conv3 = _conv(d[1] + c1 + ic[3], d[2], g)
        self.conv4 = _conv(d[2] + stem + ic[1], d[3], g)
        self.conv5 = _conv(d[3] + 3 + 6, d[4])
        self.conv6 = _conv(d[4], d[5])
        self.conv7 = nn.Conv2d(d[5], 1, 1)
        nn.init.constant_(self.conv7.bias, 0.5)
        self.guided_filter = GuidedFilterLayer(cfg.gf_radius, cfg.gf_eps)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    @staticmethod
    def _up(x: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, size=ref.shape[-2:], mode="bilinear", align_corners=False)

    def forward(self, image: torch.Tensor, gauss: torch.Tensor, prev: torch.Tensor) -> torch.Tensor:
        h, w = image.shape[-2:]
        ph, pw = (-h) % 8, (-w) % 8
        if ph or pw:
            image = F.pad(image, (0, pw, 0, ph), mode="replicate")
            gauss = F.pad(gauss, (0, pw, 0, ph))
            prev = F.pad(prev, (0, pw, 0, ph))
        img_n = (image - self.mean) / self.std
        feats = bit_features(self.image_stream, torch.cat([img_n, gauss], 1))
        inter = self.interaction_stream(torch.cat([gauss, prev], 1))
        x = torch.cat([self.ppm(feats["layer4"]), inter["conv6"]], 1)
        x = self.conv2(self.conv1(x))
        x = self._up(x, feats["layer1"])
        x = self.conv3(torch.cat([x, feats["layer1"], inter["conv4"]], 1))
        x = self._up(x, feats["stem2"])
        x = self.conv4(torch.cat([x, feats["stem2"], inter["conv2"]], 1))
        x = self._up(x, image)
        x = self.conv6(self.conv5(torch.cat([x, img_n, gauss], 1)))
        alpha = self.conv7(x).clamp(0.0, 1.0)
        alpha = self.guided_filter(img_n, alpha).clamp(0.0, 1.0)
        return alpha[..., :h, :w]
