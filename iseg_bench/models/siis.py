"""SIIS, the modified DeepLab v3+ of sequential interactive segmentation: a frozen-able
ResNet-101 (output stride 16), the purification module, the mini-encoder, the mini-ASPP and
the decoder; the initial click proposal (ICP) and the online purification optimisation
(OPO) as functions of that network.

Source: Lin, Zhang, Zhu, Fan, Liu, "Sequential Interactive Image Segmentation" (SIIS),
Sec. 3.1 (network, Eq. 1), Sec. 3.2 (ICP, Eq. 2-3), Sec. 3.3 (OPO), Sec. 4.1 (training
settings), Tab. 2 and 7 (parameters and FLOPs). No code was released; every constant the
paper leaves open is stated, and marked as ours, in ``docs/models/siis.md``.

Constants: ``PURIFIED_CHANNELS`` = (32, 64, 128, 256) (Sec. 3.1), ``ASPP_CHANNELS`` = 64
(Sec. 3.1), ``ASPP_RATES`` = (6, 12, 18) (ours), ``CLICK_SIGMA`` = 10 px (ours),
``ICP_FILTER`` = 3 feature cells (ours), ``OPO_ITERATIONS`` = 4, ``OPO_BATCH`` = 8,
``OPO_LR`` = 5e-3, ``OPO_POSITIVE`` = (1, 5), ``OPO_NEGATIVE`` = (0, 5) (Sec. 3.3),
``SGD_MOMENTUM`` = 0.9, ``WEIGHT_DECAY`` = 5e-4, ``CROP_SIZE`` = 384 (Sec. 4.1),
``CLICK_MARGIN`` = 5 px and ``NEGATIVE_BAND`` = 40 px (ours).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import cv2
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from iseg_bench.geometry import padded_distance
from iseg_bench.models.click_encodings import gaussian_maps
from iseg_bench.models.hf_backbones import RESNET_CONFIGS, build_resnet, resnet_stages

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
PURIFIED_CHANNELS = (32, 64, 128, 256)
ASPP_CHANNELS = 64
ASPP_RATES = (6, 12, 18)
CLICK_SIGMA = 10.0
ICP_FILTER = 3
OPO_ITERATIONS = 4
OPO_BATCH = 8
OPO_LR = 5e-3
OPO_POSITIVE = (1, 5)
OPO_NEGATIVE = (0, 5)
SGD_MOMENTUM = 0.9
WEIGHT_DECAY = 5e-4
CROP_SIZE = 384
CLICK_MARGIN = 5
NEGATIVE_BAND = 40

RESNET101 = {k: v for k, v in RESNET_CONFIGS["resnet101"].items() if k != "num_groups"}


@dataclass
class SIISConfig:
    """Architecture of one SIIS variant.

    Attributes:
        backbone: ``ResNetConfig`` keywords (hidden_sizes, depths, embedding_size).
        output_stride: 16 (Sec. 3.1).
        purified_channels: R1..R4 channels (Sec. 3.1).
        encoder_channels: E1..E4 channels (ours: those of R1..R4).
        aspp_channels: mini-ASPP output channels (Sec. 3.1).
        aspp_rates: dilation rates of the three 3x3 mini-ASPP branches (ours).
        decoder_channels: channels of the two 3x3 decoder convolutions (ours).
        click_sigma: standard deviation of the Gaussian click maps in px (ours).
    """

    backbone: dict = field(default_factory=lambda: dict(RESNET101))
    output_stride: int = 16
    purified_channels: tuple[int, ...] = PURIFIED_CHANNELS
    encoder_channels: tuple[int, ...] = PURIFIED_CHANNELS
    aspp_channels: int = ASPP_CHANNELS
    aspp_rates: tuple[int, ...] = ASPP_RATES
    decoder_channels: int = ASPP_CHANNELS
    click_sigma: float = CLICK_SIGMA

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SIISConfig:
        d = dict(d)
        for k in ("purified_channels", "encoder_channels", "aspp_rates"):
            if k in d:
                d[k] = tuple(d[k])
        return cls(**d)


def conv_bn_relu(cin: int, cout: int, k: int = 3, dilation: int = 1) -> nn.Sequential:
    """k x k convolution (no bias, 'same' padding) + BatchNorm + ReLU."""
    return nn.Sequential(nn.Conv2d(cin, cout, k, padding=dilation * (k // 2), dilation=dilation,
                                   bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class Purification(nn.Module):
    """The purification module: one 1x1 convolution (with bias) per backbone stage,
    C_i -> P_i channels; [(B, C_i, h_i, w_i)] -> [R_i (B, P_i, h_i, w_i)]."""

    def __init__(self, in_channels: Sequence[int], out_channels: Sequence[int]):
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv2d(c, p, 1) for c, p in zip(in_channels, out_channels))

    def forward(self, feats: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        return [conv(f) for conv, f in zip(self.convs, feats)]


class MiniEncoder(nn.Module):
    """Eq. 1: E_i = C(R_i (+) D(E_{i-1})), i = 1..4, E_0 the (B, 2, H, W) click maps; C is
    two 3x3 conv-BN-ReLU, D bilinear resampling to R_i's grid (ours). Returns [E_1..E_4]."""

    def __init__(self, purified: Sequence[int], channels: Sequence[int], clicks: int = 2):
        super().__init__()
        prev = [clicks, *channels[:-1]]
        self.blocks = nn.ModuleList(
            nn.Sequential(conv_bn_relu(r + e, c), conv_bn_relu(c, c))
            for r, e, c in zip(purified, prev, channels))

    def forward(self, reduced: Sequence[torch.Tensor], clicks: torch.Tensor) -> list[torch.Tensor]:
        e, out = clicks, []
        for block, r in zip(self.blocks, reduced):
            down = F.interpolate(e, size=r.shape[-2:], mode="bilinear", align_corners=False)
            e = block(torch.cat([r, down], 1))
            out.append(e)
        return out


class MiniASPP(nn.Module):
    """DeepLab v3 ASPP with `channels` outputs: a 1x1 branch, one 3x3 branch per rate, an
    image-pooling branch (1x1 conv with bias + ReLU, no BatchNorm, so that a batch of one
    trains), concatenated and projected by 1x1 conv-BN-ReLU; (B, C, h, w) ->
    (B, channels, h, w)."""

    def __init__(self, cin: int, channels: int, rates: Sequence[int]):
        super().__init__()
        self.branches = nn.ModuleList([conv_bn_relu(cin, channels, 1)]
                                      + [conv_bn_relu(cin, channels, 3, r) for r in rates])
        self.pool = nn.Sequential(nn.Conv2d(cin, channels, 1), nn.ReLU(inplace=True))
        self.project = conv_bn_relu(channels * (len(rates) + 2), channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs = [b(x) for b in self.branches]
        pooled = self.pool(F.adaptive_avg_pool2d(x, 1))
        outs.append(pooled.expand(-1, -1, *x.shape[-2:]))
        out: torch.Tensor = self.project(torch.cat(outs, 1))
        return out


class SIIS(nn.Module):
    """The modified DeepLab v3+ (Sec. 3.1, Fig. 2).

    Input: image (B, 3, H, W) float RGB in [0, 1] and click maps (B, 2, H, W) (positive,
    negative Gaussians, :func:`click_maps`). Output: logits (B, 1, H, W). The backbone sees
    the image only, so :meth:`backbone_features` can be computed once per image and
    :meth:`head` run per click with any purification module (OPO's per-category copies).
    """

    model_type = "siis"

    def __init__(self, config: SIISConfig | None = None):
        super().__init__()
        self.config = cfg = config or SIISConfig()
        self.backbone = build_resnet(cfg.output_stride, **cfg.backbone)
        stages = list(cfg.backbone["hidden_sizes"])
        self.purification = Purification(stages, cfg.purified_channels)
        self.encoder = MiniEncoder(cfg.purified_channels, cfg.encoder_channels)
        self.aspp = MiniASPP(cfg.encoder_channels[-1], cfg.aspp_channels, cfg.aspp_rates)
        self.decoder = nn.Sequential(
            conv_bn_relu(cfg.aspp_channels + cfg.encoder_channels[0], cfg.decoder_channels),
            conv_bn_relu(cfg.decoder_channels, cfg.decoder_channels),
            nn.Conv2d(cfg.decoder_channels, 1, 1))
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1),
                             persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1),
                             persistent=False)

    def backbone_features(self, image: torch.Tensor) -> list[torch.Tensor]:
        """The four ResNet stage outputs of (B, 3, H, W) RGB in [0, 1] (ImageNet-normalised
        here): channels of ``config.backbone['hidden_sizes']`` at strides 4, 8, 16, 16."""
        return resnet_stages(self.backbone, (image - self.mean) / self.std)

    def purify(self, feats: Sequence[torch.Tensor],
               purification: nn.Module | None = None) -> list[torch.Tensor]:
        """[R_1..R_4] from the stage outputs, through `purification` (default: the
        network's own module)."""
        out: list[torch.Tensor] = (purification or self.purification)(feats)
        return out

    def head(self, reduced: Sequence[torch.Tensor], clicks: torch.Tensor) -> torch.Tensor:
        """Logits (B, 1, H, W) from [R_1..R_4] and the (B, 2, H, W) click maps E_0: the
        mini-encoder, the mini-ASPP on E_4 upsampled to E_1's grid, concatenated with E_1,
        the decoder, and bilinear upsampling to the click maps' size."""
        enc = self.encoder(reduced, clicks)
        aspp = F.interpolate(self.aspp(enc[-1]), size=enc[0].shape[-2:], mode="bilinear",
                             align_corners=False)
        logits = self.decoder(torch.cat([aspp, enc[0]], 1))
        return F.interpolate(logits, size=clicks.shape[-2:], mode="bilinear",
                             align_corners=False)

    def forward(self, image: torch.Tensor, clicks: torch.Tensor,
                purification: nn.Module | None = None) -> torch.Tensor:
        return self.head(self.purify(self.backbone_features(image), purification), clicks)


def click_maps(clicks: Sequence[tuple[float, float, bool]], shape: tuple[int, int],
               sigma: float) -> np.ndarray:
    """E_0: (2, H, W) float32, exp(-d^2 / (2 sigma^2)) to the nearest positive (channel 0)
    and negative (channel 1) click; zeros where a sign has no click. sigma in px."""
    negative_first = gaussian_maps(clicks, shape, length=sigma, scales=(1.0,))
    return np.ascontiguousarray(negative_first[::-1])


# --------------------------------------------------------------------------- ICP (Sec. 3.2)


def click_embedding(r4: torch.Tensor, point: tuple[float, float],
                    image_shape: tuple[int, int]) -> torch.Tensor:
    """The feature vector F(p) (C,) of (C, h, w) features `r4` at image pixel (y, x) of an
    image of `image_shape`, bilinearly interpolated at the pixel centre."""
    h, w = image_shape
    y, x = point
    grid = torch.tensor([[[[2.0 * (x + 0.5) / w - 1.0, 2.0 * (y + 0.5) / h - 1.0]]]],
                        dtype=r4.dtype, device=r4.device)
    vec: torch.Tensor = F.grid_sample(r4[None], grid, mode="bilinear", padding_mode="border",
                                      align_corners=False)[0, :, 0, 0]
    return vec


def proposal_confidence(r4: torch.Tensor, bank: torch.Tensor, out_shape: tuple[int, int],
                        filter_size: int = ICP_FILTER) -> np.ndarray:
    """The ICP confidence map (Eq. 2): the mean cosine similarity (Eq. 3) of every feature
    cell of (C, h, w) `r4` to the (N, C) bank vectors, mean-filtered over filter_size x
    filter_size cells (borders: the mean of the cells inside), upsampled bilinearly to
    `out_shape` (H, W). Returns (H, W) float32 in [-1, 1]."""
    feats = F.normalize(r4.flatten(1), dim=0)                       # (C, h*w)
    sims = F.normalize(bank, dim=1) @ feats                         # (N, h*w)
    conf = sims.mean(0).view(1, 1, *r4.shape[-2:])
    if filter_size > 1:
        conf = F.avg_pool2d(conf, filter_size, 1, filter_size // 2, count_include_pad=False)
    conf = F.interpolate(conf, size=out_shape, mode="bilinear", align_corners=False)
    out: np.ndarray = conf[0, 0].float().cpu().numpy()
    return out


def propose_point(confidence: np.ndarray, ignore: np.ndarray) -> tuple[int, int] | None:
    """The proposal p^ = argmax over pixels outside `ignore` of the (H, W) confidence; ties go
    to the first in row-major order. None when every pixel is ignored."""
    allowed = ~ignore.astype(bool)
    if not allowed.any():
        return None
    masked = np.where(allowed, confidence, -np.inf)
    y, x = np.unravel_index(int(np.argmax(masked)), masked.shape)
    return int(y), int(x)


# --------------------------------------------------------------------------- OPO (Sec. 3.3)


def simulate_clicks(mask: np.ndarray, rng: np.random.Generator,
                    positive: tuple[int, int] = OPO_POSITIVE,
                    negative: tuple[int, int] = OPO_NEGATIVE,
                    ignore: np.ndarray | None = None) -> list[tuple[int, int, bool]]:
    """Random training clicks on bool (H, W) `mask` (ours, after Sec. 3.3's counts): n+ in
    `positive` (inclusive) uniform object pixels at least CLICK_MARGIN px inside the object
    (any object pixel when none is), n- in `negative` uniform background pixels between
    CLICK_MARGIN and NEGATIVE_BAND px from the object (any background pixel when none is);
    pixels of the optional bool `ignore` are never clicked. Positive clicks first; [] when
    no object pixel is outside `ignore`."""
    mask = mask.astype(bool)
    free = np.ones(mask.shape, bool) if ignore is None else ~ignore.astype(bool)
    if not (mask & free).any():
        return []
    inside = padded_distance(mask)
    outside = padded_distance(~mask) if (~mask).any() else np.zeros(mask.shape)
    pos_pool = np.argwhere((inside >= CLICK_MARGIN) & free)
    if not len(pos_pool):
        pos_pool = np.argwhere(mask & free)
    neg_pool = np.argwhere((outside >= CLICK_MARGIN) & (outside <= NEGATIVE_BAND) & free)
    if not len(neg_pool):
        neg_pool = np.argwhere(~mask & free)
    n_pos = int(rng.integers(positive[0], positive[1] + 1))
    n_neg = int(rng.integers(negative[0], negative[1] + 1)) if len(neg_pool) else 0
    out = [(int(p[0]), int(p[1]), True) for p in pos_pool[rng.integers(0, len(pos_pool), n_pos)]]
    out += [(int(p[0]), int(p[1]), False) for p in neg_pool[rng.integers(0, len(neg_pool), n_neg)]]
    return out


def training_crop(image: np.ndarray, mask: np.ndarray, size: int,
                  rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Sec. 4.1's "crop and resize to 384 x 384 with random flip": the image resized so its
    short side is `size` (bilinear; the mask nearest), a uniform size x size crop and a
    horizontal flip with probability 1/2. (H, W, 3) uint8, (H, W) bool -> the same at
    (size, size)."""
    h, w = mask.shape
    s = size / min(h, w)
    nh, nw = max(size, int(round(h * s))), max(size, int(round(w * s)))
    img = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_LINEAR)
    m = cv2.resize(mask.astype(np.uint8), (nw, nh), interpolation=cv2.INTER_NEAREST)
    y0 = int(rng.integers(0, nh - size + 1))
    x0 = int(rng.integers(0, nw - size + 1))
    img, m = img[y0:y0 + size, x0:x0 + size], m[y0:y0 + size, x0:x0 + size]
    if rng.random() < 0.5:
        img, m = img[:, ::-1], m[:, ::-1]
    return np.ascontiguousarray(img), np.ascontiguousarray(m).astype(bool)


def training_batch(pairs: Sequence[tuple[np.ndarray, np.ndarray]], size: int,
                   rng: np.random.Generator, sigma: float,
                   positive: tuple[int, int] = OPO_POSITIVE,
                   negative: tuple[int, int] = OPO_NEGATIVE,
                   device: Any = "cpu") -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(images (B, 3, s, s) in [0, 1], click maps (B, 2, s, s), targets (B, 1, s, s) float)
    from (image, mask) pairs: :func:`training_crop`, then :func:`simulate_clicks` on the
    cropped mask (a crop without object gets no click)."""
    imgs, maps, targets = [], [], []
    for image, mask in pairs:
        img, m = training_crop(image, mask, size, rng)
        imgs.append(img.astype(np.float32).transpose(2, 0, 1) / 255.0)
        maps.append(click_maps(simulate_clicks(m, rng, positive, negative), m.shape, sigma))
        targets.append(m[None].astype(np.float32))
    return tuple(torch.from_numpy(np.stack(a)).to(device)  # type: ignore[return-value]
                 for a in (imgs, maps, targets))


def opo_step(model: SIIS, purification: nn.Module, optimizer: torch.optim.Optimizer,
             images: torch.Tensor, clicks: torch.Tensor, targets: torch.Tensor) -> float:
    """One OPO iteration: the frozen backbone (no gradient), `purification`, the head, BCE
    with the targets, one optimizer step on `purification`'s parameters. The model must be
    in eval mode so that no BatchNorm statistic moves. Returns the loss."""
    with torch.no_grad():
        feats = model.backbone_features(images)
    logits = model.head(model.purify(feats, purification), clicks)
    loss = F.binary_cross_entropy_with_logits(logits, targets)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return float(loss.detach())
