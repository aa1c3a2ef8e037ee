"""HRNetV2 with an OCR head, as the base segmentation network of the EMC-Click HRNet variants
(HRNet-18s, HRNet-18, HRNet-32), built so that its state-dict names are the released ones.

Sources: Wang et al., "Deep High-Resolution Representation Learning for Visual
Recognition", TPAMI 2020 (HRNetV2: four parallel branches, multi-resolution fusion, all
branches upsampled and concatenated); Yuan, Chen, Wang, "Object-Contextual Representations
for Semantic Segmentation", ECCV 2020 (OCR: soft object regions from an auxiliary head,
object-region representations, pixel-region relation); the EMC-Click release (github
feiaxyt/EMC-Click: isegm/model/modeling/hrnet_ocr.py, ocr.py, resnetv1b.py,
is_refine_model.py HRNetRefineModel, is_model.py maps_transform, ops.py ScaleLayer,
models/emcclick/hrnet{18s,18,32}_att_cclvis.py), read for layer types, widths, orders and
names only. Choices of ours: ``docs/models/emc-click.md``.

Constants: ``STEM_CHANNELS`` = 64 (two 3x3 stride-2 convolutions), ``BOTTLENECK_PLANES`` =
64 (layer1: bottlenecks of expansion 4 -> 256 channels), ``OCR_DROPOUT`` = 0.05,
``CLICK_HIDDEN`` = 16 and ``CLICK_SCALE`` = 0.05 and ``CLICK_LEAKY_SLOPE`` = 0.2 (the click
path), ``BN_EPS`` = 1e-5 (torch default). Every resize is bilinear with align_corners True.
Depth: ``small`` (HRNet-18s) uses 2 blocks per branch and 1/3/2 modules in stages 2/3/4,
otherwise 4 blocks and 1/4/3 modules.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

STEM_CHANNELS = 64
BOTTLENECK_PLANES = 64
OCR_DROPOUT = 0.05
CLICK_HIDDEN = 16
CLICK_SCALE = 0.05
CLICK_LEAKY_SLOPE = 0.2


@dataclass(frozen=True)
class HRNetSpec:
    """width: channels of the stride-4 branch (branch i has width * 2**i); ocr_width: OCR
    key channels (the OCR features have 2 * ocr_width); small: the shallow HRNet-18s depth."""

    width: int
    ocr_width: int
    small: bool


#: the released variants (models/emcclick/hrnet*_att_cclvis.py)
HRNET_SPECS = {"hr18s": HRNetSpec(18, 48, True), "hr18": HRNetSpec(18, 64, False),
               "hr32": HRNetSpec(32, 128, False)}


def _resize(x: torch.Tensor, hw: tuple[int, int] | torch.Size) -> torch.Tensor:
    return F.interpolate(x, size=tuple(hw), mode="bilinear", align_corners=True)


def _conv_bn(cin: int, cout: int, kernel: int, stride: int = 1, relu: bool = True) -> nn.Sequential:
    """conv (no bias) -> BN [-> ReLU]; keys ``0.weight``, ``1.*``."""
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, kernel, stride, kernel // 2, bias=False),
                               nn.BatchNorm2d(cout)]
    if relu:
        layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class BasicBlock(nn.Module):
    """Residual block of two 3x3 conv + BN (ReLU between and after the sum); keys conv1, bn1,
    conv2, bn2, downsample.{0,1}. (B, cin, h, w) -> (B, planes, h/stride, w/stride)."""

    expansion = 1

    def __init__(self, cin: int, planes: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = (_conv_bn(cin, planes, 1, stride, relu=False)
                           if stride != 1 or cin != planes else None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(y + (x if self.downsample is None else self.downsample(x)))


class Bottleneck(nn.Module):
    """1x1 -> 3x3 -> 1x1 (x4 channels) bottleneck with BN, ReLU after each and after the
    sum; keys conv1..3, bn1..3, downsample.{0,1}. (B, cin, h, w) -> (B, 4 planes, h, w)."""

    expansion = 4

    def __init__(self, cin: int, planes: int):
        super().__init__()
        out = planes * self.expansion
        self.conv1 = nn.Conv2d(cin, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out)
        self.downsample = _conv_bn(cin, out, 1, relu=False) if cin != out else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return F.relu(y + (x if self.downsample is None else self.downsample(x)))


class HRModule(nn.Module):
    """One multi-resolution module: per branch ``blocks`` BasicBlocks, then fusion. Output
    branch i is ReLU(sum_j f_ij(x_j)): identity for j = i; 1x1 conv + BN then bilinear
    upsampling for j > i; a chain of i - j 3x3 stride-2 conv + BN (ReLU after all but the
    last) for j < i. Keys ``branches.{i}.{k}.*``, ``fuse_layers.{i}.{j}.*``."""

    def __init__(self, channels: list[int], blocks: int):
        super().__init__()
        self.branches = nn.ModuleList(
            nn.Sequential(*[BasicBlock(c, c) for _ in range(blocks)]) for c in channels)
        fuse = []
        for i, ci in enumerate(channels):
            row: list[nn.Module | None] = []
            for j, cj in enumerate(channels):
                if j > i:
                    row.append(_conv_bn(cj, ci, 1, relu=False))
                elif j == i:
                    row.append(None)
                else:
                    row.append(nn.Sequential(*[
                        _conv_bn(cj, ci if k == i - j - 1 else cj, 3, 2, relu=k < i - j - 1)
                        for k in range(i - j)]))
            fuse.append(nn.ModuleList(row))
        self.fuse_layers = nn.ModuleList(fuse)

    def forward(self, xs: list[torch.Tensor]) -> list[torch.Tensor]:
        xs = [branch(x) for branch, x in zip(self.branches, xs)]
        out = []
        for i, row in enumerate(self.fuse_layers):
            y = xs[i]
            for j, f in enumerate(row):
                if j < i:
                    y = y + f(xs[j])
                elif j > i:
                    y = y + _resize(f(xs[j]), xs[i].shape[-2:])
            out.append(F.relu(y))
        return out


def _transition(cin: list[int], cout: list[int]) -> nn.ModuleList:
    """Branch i < len(cin): 3x3 conv + BN + ReLU when widths differ (else None); a new
    branch: 3x3 stride-2 conv + BN + ReLU from the last old branch (keys ``{i}.0.*``)."""
    layers: list[nn.Module | None] = []
    for i, c in enumerate(cout):
        if i < len(cin):
            layers.append(_conv_bn(cin[i], c, 3) if cin[i] != c else None)
        else:
            layers.append(nn.Sequential(_conv_bn(cin[-1], c, 3, 2)))
    return nn.ModuleList(layers)


class ObjectAttention(nn.Module):
    """OCR pixel-region relation (ocr.py ObjectAttentionBlock2D, scale 1): query
    f_pixel(x), key f_object(regions), value f_down(regions), softmax(q k / sqrt(key)) over
    regions, f_up back to the input width. f_* are 1x1 conv (no bias) + BN + ReLU (two for
    f_pixel and f_object); BN sits in a nested Sequential as released (keys ``.1.0.*``)."""

    def __init__(self, cin: int, key: int):
        super().__init__()
        self.key = key

        def unit(a: int, b: int) -> list[nn.Module]:
            return [nn.Conv2d(a, b, 1, bias=False), nn.Sequential(nn.BatchNorm2d(b), nn.ReLU())]

        self.f_pixel = nn.Sequential(*unit(cin, key), *unit(key, key))
        self.f_object = nn.Sequential(*unit(cin, key), *unit(key, key))
        self.f_down = nn.Sequential(*unit(cin, key))
        self.f_up = nn.Sequential(*unit(key, cin))

    def forward(self, x: torch.Tensor, regions: torch.Tensor) -> torch.Tensor:
        """x (B, cin, h, w); regions (B, cin, K, 1) -> context (B, cin, h, w)."""
        b, _, h, w = x.shape
        q = self.f_pixel(x).flatten(2).transpose(1, 2)  # (B, hw, key)
        k = self.f_object(regions).flatten(2)  # (B, key, K)
        v = self.f_down(regions).flatten(2).transpose(1, 2)  # (B, K, key)
        att = torch.softmax(q @ k * self.key ** -0.5, dim=-1)
        return self.f_up((att @ v).transpose(1, 2).reshape(b, self.key, h, w))


class OCRHead(nn.Module):
    """ocr.py SpatialOCR_Module: [context, x] -> 1x1 conv (no bias) + BN + ReLU +
    Dropout2d(0.05). Keys ``object_context_block.*``, ``conv_bn_dropout.{0,1.0}.*``."""

    def __init__(self, channels: int, key: int):
        super().__init__()
        self.object_context_block = ObjectAttention(channels, key)
        self.conv_bn_dropout = nn.Sequential(
            nn.Conv2d(2 * channels, channels, 1, bias=False),
            nn.Sequential(nn.BatchNorm2d(channels), nn.ReLU()), nn.Dropout2d(OCR_DROPOUT))

    def forward(self, x: torch.Tensor, regions: torch.Tensor) -> torch.Tensor:
        return self.conv_bn_dropout(torch.cat([self.object_context_block(x, regions), x], 1))


class HighResolutionNet(nn.Module):
    """HRNetV2-W``width`` + OCR with one class (hrnet_ocr.py HighResolutionNet, ocr_width >
    0). The stem output (64 ch, stride 2) receives ``extra`` (the click features) before the
    second stem convolution. forward -> (logits (B, 1, H/4, W/4), auxiliary logits (same),
    OCR features (B, 2 ocr_width, H/4, W/4))."""

    def __init__(self, spec: HRNetSpec):
        super().__init__()
        w, blocks = spec.width, 2 if spec.small else 4
        self.conv1 = nn.Conv2d(3, STEM_CHANNELS, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(STEM_CHANNELS)
        self.conv2 = nn.Conv2d(STEM_CHANNELS, STEM_CHANNELS, 3, 2, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(STEM_CHANNELS)
        stem_out = BOTTLENECK_PLANES * Bottleneck.expansion
        self.layer1 = nn.Sequential(*[Bottleneck(STEM_CHANNELS if i == 0 else stem_out,
                                                 BOTTLENECK_PLANES) for i in range(blocks)])
        modules = (1, 3, 2) if spec.small else (1, 4, 3)
        prev = [stem_out]
        for s, n in enumerate(modules, 2):
            chans = [w * 2 ** i for i in range(s)]
            setattr(self, f"transition{s - 1}", _transition(prev, chans))
            setattr(self, f"stage{s}", nn.Sequential(*[HRModule(chans, blocks) for _ in range(n)]))
            prev = chans
        total, mid = sum(prev), 2 * spec.ocr_width
        self.conv3x3_ocr = nn.Sequential(nn.Conv2d(total, mid, 3, 1, 1), nn.BatchNorm2d(mid),
                                         nn.ReLU())
        self.ocr_distri_head = OCRHead(mid, spec.ocr_width)
        self.cls_head = nn.Conv2d(mid, 1, 1)
        self.aux_head = nn.Sequential(nn.Conv2d(total, total, 1), nn.BatchNorm2d(total),
                                      nn.ReLU(), nn.Conv2d(total, 1, 1))
        self.out_channels = mid

    def backbone(self, x: torch.Tensor, extra: torch.Tensor | None = None) -> torch.Tensor:
        """x (B, 3, H, W) normalised; extra (B, 64, H/2, W/2) or None -> the four branches
        upsampled to stride 4 and concatenated (B, 15 width, H/4, W/4)."""
        x = F.relu(self.bn1(self.conv1(x)))
        if extra is not None:
            x = x + extra
        xs = [self.layer1(F.relu(self.bn2(self.conv2(x))))]
        for s in (2, 3, 4):
            trans = getattr(self, f"transition{s - 1}")
            xs = [xs[min(i, len(xs) - 1)] if t is None else t(xs[min(i, len(xs) - 1)])
                  for i, t in enumerate(trans)]
            xs = getattr(self, f"stage{s}")(xs)
        hw = xs[0].shape[-2:]
        return torch.cat([xs[0]] + [_resize(x, hw) for x in xs[1:]], 1)

    def forward(self, x: torch.Tensor, extra: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        feats = self.backbone(x, extra)
        aux = self.aux_head(feats)
        feats = self.conv3x3_ocr(feats)
        # soft object regions (ocr.py SpatialGather_Module, scale 1): spatial softmax of the
        # auxiliary logits weights the pixel features -> (B, C, 1, 1) per class
        probs = torch.softmax(aux.flatten(2), dim=2)  # (B, 1, hw)
        regions = (probs @ feats.flatten(2).transpose(1, 2)).transpose(1, 2).unsqueeze(3)
        feats = self.ocr_distri_head(feats, regions)
        return self.cls_head(feats), aux, feats


class ScaleLayer(nn.Module):
    """x * |scale| with a learned scalar (ops.py ScaleLayer, lr_mult 1); key ``scale``."""

    def __init__(self, init: float):
        super().__init__()
        self.scale = nn.Parameter(torch.full((1,), init))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale.abs()


class HRNetBaseNet(nn.Module):
    """Phi_S of the HRNet variants as released (HRNetRefineModel with only_first_click):
    the first click's positive disk (B, 1, H, W) through maps_transform (1x1 conv 1 -> 16,
    LeakyReLU(0.2), 3x3 stride-2 conv 16 -> 64, ScaleLayer(0.05)) is added to the HRNet stem
    output; forward(image_n, first_disk) -> (F_t (B, 2 ocr_width, H/4, W/4), M_c logits
    (B, 1, H/4, W/4)). Attribute names: ``feature_extractor`` and ``maps_transform`` as
    released."""

    def __init__(self, spec: HRNetSpec):
        super().__init__()
        self.feature_extractor = HighResolutionNet(spec)
        self.maps_transform = nn.Sequential(
            nn.Conv2d(1, CLICK_HIDDEN, 1), nn.LeakyReLU(CLICK_LEAKY_SLOPE),
            nn.Conv2d(CLICK_HIDDEN, STEM_CHANNELS, 3, 2, 1), ScaleLayer(CLICK_SCALE))
        self.out_channels = self.feature_extractor.out_channels

    def forward(self, image_n: torch.Tensor,
                first_disk: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        feats, logits, _ = self.forward_with_aux(image_n, first_disk)
        return feats, logits

    def forward_with_aux(self, image_n: torch.Tensor, first_disk: torch.Tensor
                         ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """forward plus the OCR auxiliary head's logits (B, 1, H/4, W/4), which only the
        released training loss reads: (F_t, M_c logits, auxiliary logits)."""
        logits, aux, feats = self.feature_extractor(image_n, self.maps_transform(first_disk))
        return feats, logits, aux
