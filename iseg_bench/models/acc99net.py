"""The 99%-accuracy network ("99%AccuracyNet") as the authors released it: a ResNet-50 GN+WS
image stream, an interaction stream, pyramid pooling over both, a decoder and a guided-filter
layer. Its ``state_dict`` has exactly the key names and shapes of the released weights.

Sources: Forte, Price, Cohen, Xu, Pitie, "Getting to 99% Accuracy in Interactive
Segmentation", arXiv:2003.07932, Sec. 3.1, Tab. 4, 5 and Fig. 2; the released code,
MarcoForte/DeepInteractiveSegmentation (commit ddd7426): ``networks/models.py`` (encoder
``ResnetDilated``, decoder ``InteractiveSegNet``, ``usr_encoder2``), ``networks/layers_WS.py``
(weight standardisation), ``networks/resnet_GN_WS.py`` (ResNet-50 GN+WS). Layer by layer,
with every constant and the choices that are ours: ``docs/models/acc99net.md``.

Constants: ``IMAGENET_MEAN``, ``IMAGENET_STD`` (input normalisation of the released
``groupnorm_normalise_image``), ``LEAKY_SLOPE`` = 0.01 (``nn.LeakyReLU``'s default, as
released), ``WS_VAR_EPS`` = 1e-12 and ``WS_STD_EPS`` = 1e-5 (weight standardisation),
``PAD_MULTIPLE`` = 8 (ours: inputs are padded to the network's output stride),
``N_GAUSS`` = 6 Gaussian click maps, ``INTERACTION_STRIDES`` = (1, 2, 1, 2, 2, 1),
``BOTTLENECK_EXPANSION`` = 4.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

from iseg_bench.errors import AdapterError
from iseg_bench.models.guided_filter import GF_EPS, GF_RADIUS, guided_filter
from iseg_bench.models.hf_backbones import copy_expanding

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
LEAKY_SLOPE = 0.01
WS_VAR_EPS = 1e-12
WS_STD_EPS = 1e-5
PAD_MULTIPLE = 8
N_GAUSS = 6  # three scales x (background, foreground)
INTERACTION_STRIDES = (1, 2, 1, 2, 2, 1)
BOTTLENECK_EXPANSION = 4


@dataclass
class Acc99NetConfig:
    """Architecture of one 99%-accuracy network variant (defaults: the released network).

    Attributes:
        in_channels: image-stream input channels (RGB + the six Gaussian click maps).
        stem_channels: output channels of the 7x7 stem convolution (64).
        planes: bottleneck widths of layer1..layer4 (64, 128, 256, 512; outputs x 4).
        depths: bottleneck blocks per layer (3, 4, 6, 3: ResNet-50).
        gn_groups: GroupNorm groups everywhere (32).
        interaction_channels: the six interaction-stream convolutions (32, 64, 128, 256,
            256, 256; strides 1, 2, 1, 2, 2, 1).
        ppm_bins / ppm_channels: pyramid pooling (1, 2, 3, 6 bins; 256 channels each).
        decoder_channels: conv_up1, conv_up2, conv_up3 and the two 3x3 convolutions of
            conv_up4 (256, 256, 64, 32, 16).
        guide_channels: hidden width of the guide map (64).
        gf_radius / gf_eps: guided filter (2, 1e-8).
        input_size: training crop (352, 352) (Sec. 3.2).
    """

    in_channels: int = 3 + N_GAUSS
    stem_channels: int = 64
    planes: tuple[int, ...] = (64, 128, 256, 512)
    depths: tuple[int, ...] = (3, 4, 6, 3)
    gn_groups: int = 32
    interaction_channels: tuple[int, ...] = (32, 64, 128, 256, 256, 256)
    ppm_bins: tuple[int, ...] = (1, 2, 3, 6)
    ppm_channels: int = 256
    decoder_channels: tuple[int, ...] = (256, 256, 64, 32, 16)
    guide_channels: int = 64
    gf_radius: int = GF_RADIUS
    gf_eps: float = GF_EPS
    input_size: tuple[int, int] = (352, 352)

    def to_dict(self) -> dict[str, Any]:
        """The config as JSON-ready values (tuples as lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Acc99NetConfig:
        """Inverse of ``to_dict``.

        Raises:
            AdapterError: a key this version does not know (e.g. a checkpoint of the earlier
                re-creation from the paper's text, whose config had a ``backbone`` entry).
        """
        unknown = sorted(set(d) - {f.name for f in fields(cls)})
        if unknown:
            raise AdapterError(f"acc99net config has unknown keys {unknown}: a checkpoint of an "
                               "earlier acc99net architecture; retrain it, or convert the "
                               "authors' released weights")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})


class WSConv2d(nn.Conv2d):
    """Convolution with weight standardisation as released (``networks/layers_WS.py``).

    Each output filter w is replaced by (w - mean(w)) / (sqrt(var(w) + WS_VAR_EPS) +
    WS_STD_EPS), with the unbiased variance over the filter's C_in * kh * kw values.
    Arguments as ``nn.Conv2d``.
    """

    def standardized_weight(self) -> torch.Tensor:
        """(C_out, C_in, kh, kw) standardised weight."""
        flat = self.weight.flatten(1)
        centred = flat - flat.mean(dim=1, keepdim=True)
        std = torch.sqrt(centred.var(dim=1, keepdim=True) + WS_VAR_EPS) + WS_STD_EPS
        return (centred / std).view_as(self.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.standardized_weight(), self.bias, self.stride, self.padding,
                        self.dilation, self.groups)


def _leaky() -> nn.LeakyReLU:
    return nn.LeakyReLU(LEAKY_SLOPE)


class Bottleneck(nn.Module):
    """ResNet bottleneck (1x1, 3x3, 1x1; GN after each; stride and dilation on the 3x3) with
    WS convolutions without bias, as ``networks/resnet_GN_WS.py``.

    (B, cin, H, W) -> (B, 4 planes, H / stride, W / stride).
    """

    def __init__(self, cin: int, planes: int, groups: int, stride: int = 1,
                 dilation: int = 1, downsample: bool = False):
        super().__init__()
        cout = planes * BOTTLENECK_EXPANSION
        self.conv1 = WSConv2d(cin, planes, 1, bias=False)
        self.bn1 = nn.GroupNorm(groups, planes)
        self.conv2 = WSConv2d(planes, planes, 3, stride, padding=dilation, dilation=dilation,
                              bias=False)
        self.bn2 = nn.GroupNorm(groups, planes)
        self.conv3 = WSConv2d(planes, cout, 1, bias=False)
        self.bn3 = nn.GroupNorm(groups, cout)
        self.downsample = (nn.Sequential(WSConv2d(cin, cout, 1, stride, bias=False),
                                         nn.GroupNorm(groups, cout)) if downsample else None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        skip = x if self.downsample is None else self.downsample(x)
        return F.relu(out + skip)


def _layer(cin: int, planes: int, depth: int, groups: int, stride: int,
           dilation: int) -> nn.Sequential:
    """One ResNet layer at output stride 8 (``ResnetDilated`` with dilate_scale 8): layer2
    strides by 2; layer3 and layer4 are built with stride 2 and then made to stride 1, their
    first block with dilation `dilation` / 2, the others with `dilation` (2 and 4). The first
    block has a 1x1 + GN shortcut when its layer was built with stride 2 or changes width."""
    first_dilation = max(1, dilation // 2)
    built_stride = 2 if dilation > 1 else stride
    shortcut = built_stride != 1 or cin != planes * BOTTLENECK_EXPANSION
    blocks = [Bottleneck(cin, planes, groups, stride, first_dilation, downsample=shortcut)]
    blocks += [Bottleneck(planes * BOTTLENECK_EXPANSION, planes, groups, 1, dilation)
               for _ in range(depth - 1)]
    return nn.Sequential(*blocks)


class ResNetGNWSEncoder(nn.Module):
    """Dilated ResNet GN+WS image stream (output stride 8), names as the released encoder.

    forward(x (B, in_channels, H, W), H and W multiples of 8) -> (stem (B, stem, H/2, W/2)
    after conv1 + GN + ReLU, layer1 (B, 4 planes[0], H/4, W/4), layer4 (B, 4 planes[3],
    H/8, W/8)). Max-pool 3x3, stride 2, padding 1.
    """

    def __init__(self, cfg: Acc99NetConfig):
        super().__init__()
        g = cfg.gn_groups
        self.conv1 = WSConv2d(cfg.in_channels, cfg.stem_channels, 7, 2, padding=3, bias=False)
        self.bn1 = nn.GroupNorm(g, cfg.stem_channels)
        cin = cfg.stem_channels
        strides, dilations = (1, 2, 1, 1), (1, 1, 2, 4)
        for i, (planes, depth) in enumerate(zip(cfg.planes, cfg.depths)):
            setattr(self, f"layer{i + 1}", _layer(cin, planes, depth, g, strides[i], dilations[i]))
            cin = planes * BOTTLENECK_EXPANSION

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        stem = F.relu(self.bn1(self.conv1(x)))
        x = self.layer1(F.max_pool2d(stem, 3, 2, padding=1))
        layer1 = x
        x = self.layer4(self.layer3(self.layer2(x)))
        return stem, layer1, x


class InteractionStream(nn.Module):
    """Tab. 4 as released (``usr_encoder2``): six 3x3 convolutions with bias, each followed by
    LeakyReLU, strides 1, 2, 1, 2, 2, 1.

    forward((B, 7, H, W): six Gaussian maps + previous mask) -> (conv6 (stride 8), conv4
    (stride 4), conv2 (stride 2)).
    """

    def __init__(self, channels: tuple[int, ...], in_channels: int = N_GAUSS + 1):
        super().__init__()
        cin = in_channels
        for i, (c, s) in enumerate(zip(channels, INTERACTION_STRIDES)):
            setattr(self, f"conv{i + 1}", nn.Conv2d(cin, c, 3, s, padding=1))
            cin = c

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        out = []
        for i in range(1, 7):
            x = F.leaky_relu(getattr(self, f"conv{i}")(x), LEAKY_SLOPE)
            out.append(x)
        return out[5], out[3], out[1]


def _ws_gn_act(cin: int, cout: int, groups: int, k: int = 3) -> list[nn.Module]:
    """WS convolution with bias -> GroupNorm -> LeakyReLU (the released order)."""
    return [WSConv2d(cin, cout, k, padding=k // 2, bias=True), nn.GroupNorm(groups, cout),
            _leaky()]


class Decoder(nn.Module):
    """The released decoder (``InteractiveSegNet``, use_mask_input and use_usr_encoder on):
    interaction stream, pyramid pooling over layer4 (+) interaction conv6, three upsampling
    stages, the full-resolution head and the guided filter.
    """

    def __init__(self, cfg: Acc99NetConfig):
        super().__init__()
        ic, d, g = cfg.interaction_channels, cfg.decoder_channels, cfg.gn_groups
        c4 = cfg.planes[3] * BOTTLENECK_EXPANSION
        c1 = cfg.planes[0] * BOTTLENECK_EXPANSION
        self.radius, self.eps = cfg.gf_radius, cfg.gf_eps
        self.bins = cfg.ppm_bins
        self.usr_encoder = InteractionStream(ic)
        deep = c4 + ic[5]
        self.ppm = nn.ModuleList(
            nn.Sequential(nn.AdaptiveAvgPool2d(b), *_ws_gn_act(deep, cfg.ppm_channels, g, k=1))
            for b in cfg.ppm_bins)
        self.conv_up1 = nn.Sequential(
            *_ws_gn_act(deep + len(cfg.ppm_bins) * cfg.ppm_channels, d[0], g),
            *_ws_gn_act(d[0], d[0], g))
        self.conv_up2 = nn.Sequential(*_ws_gn_act(d[0] + c1 + ic[3], d[1], g))
        self.conv_up3 = nn.Sequential(*_ws_gn_act(d[1] + cfg.stem_channels + ic[1], d[2], g))
        self.conv_up4 = nn.Sequential(
            nn.Conv2d(d[2] + 3 + N_GAUSS, d[3], 3, padding=1), _leaky(),
            nn.Conv2d(d[3], d[4], 3, padding=1), _leaky(),
            nn.Conv2d(d[4], 1, 1))
        # ours, for training from scratch: the clamped prediction starts inside (0, 1)
        nn.init.constant_(self.conv_up4[4].bias, 0.5)
        self.guided_map_conv1 = nn.Conv2d(3 + 2, cfg.guide_channels, 1)
        self.guided_map_conv2 = nn.Conv2d(cfg.guide_channels, 1, 1)

    @staticmethod
    def _up2(x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)

    def forward(self, img_n: torch.Tensor, gauss: torch.Tensor, prev: torch.Tensor,
                clicks: torch.Tensor, stem: torch.Tensor, layer1: torch.Tensor,
                layer4: torch.Tensor) -> torch.Tensor:
        """img_n: (B, 3, H, W) normalised image; gauss (B, 6, H, W); prev (B, 1, H, W);
        clicks (B, 2, H, W) click pixels (background, foreground); stem, layer1, layer4 the
        image-stream features. Returns (B, 1, H, W) in [0, 1]."""
        guide = self.guided_map_conv2(F.relu(self.guided_map_conv1(
            torch.cat([img_n, gauss[:, 0:1], gauss[:, 3:4]], 1))))
        u6, u4, u2 = self.usr_encoder(torch.cat([gauss, prev], 1))
        deep = torch.cat([layer4, u6], 1)
        size = deep.shape[-2:]
        pooled = [F.interpolate(stage(deep), size, mode="bilinear", align_corners=False)
                  for stage in self.ppm]
        x = self._up2(self.conv_up1(torch.cat([deep, *pooled], 1)))
        x = self._up2(self.conv_up2(torch.cat([x, layer1, u4], 1)))
        x = self._up2(self.conv_up3(torch.cat([x, stem, u2], 1)))
        alpha = self.conv_up4(torch.cat([x, img_n, gauss], 1)).clamp(0.0, 1.0)
        alpha = torch.where(clicks[:, 0:1] == 1, torch.zeros_like(alpha), alpha)
        alpha = torch.where(clicks[:, 1:2] == 1, torch.ones_like(alpha), alpha)
        # float32 even under bf16 autocast: with eps = 1e-8 the filter needs the precision
        return guided_filter(guide.float(), alpha.float(), self.radius, self.eps).clamp(0.0, 1.0)


class Acc99Net(nn.Module):
    """Two-stream network of Forte et al. (Fig. 2) as released.

    forward(image (B, 3, H, W) RGB in [0, 1], gauss (B, 6, H, W) Gaussian click maps
    (``click_encodings.gaussian_maps``: background first), prev (B, 1, H, W) previous mask in
    [0, 1], clicks (B, 2, H, W) click pixels (``click_encodings.click_pixel_maps``))
    -> (B, 1, H, W) float mask in [0, 1], for any H, W >= 1 (padded to a multiple of 8
    inside; the released network needs multiples of 8 and is given multiples of 32).
    State-dict keys: ``encoder.*`` and ``decoder.*`` exactly as the released weights.
    """

    model_type = "acc99net"

    def __init__(self, config: Acc99NetConfig | None = None):
        super().__init__()
        cfg = self.config = config or Acc99NetConfig()
        self.encoder = ResNetGNWSEncoder(cfg)
        self.decoder = Decoder(cfg)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, image: torch.Tensor, gauss: torch.Tensor, prev: torch.Tensor,
                clicks: torch.Tensor) -> torch.Tensor:
        h, w = image.shape[-2:]
        ph, pw = (-h) % PAD_MULTIPLE, (-w) % PAD_MULTIPLE
        if ph or pw:
            image = F.pad(image, (0, pw, 0, ph), mode="replicate")
            gauss, prev, clicks = (F.pad(t, (0, pw, 0, ph)) for t in (gauss, prev, clicks))
        img_n = (image - self.mean) / self.std
        stem, layer1, layer4 = self.encoder(torch.cat([img_n, gauss], 1))
        alpha = self.decoder(img_n, gauss, prev, clicks, stem, layer1, layer4)
        return alpha[..., :h, :w]


def load_imagenet_encoder(encoder: ResNetGNWSEncoder, path: str) -> list[str]:
    """Copy ImageNet ResNet-50 GN+WS weights (Qiao et al. 2019, the release's initialisation)
    from a .safetensors file into `encoder` in place.

    The file holds a ResNet state dict with the encoder's own names (``conv1.weight``,
    ``bn1.*``, ``layer1.0.conv1.weight``, ...; a classifier ``fc.*`` is ignored). The
    3-channel ``conv1`` weight fills the RGB inputs and the click channels get zeros, as the
    released ``build_encoder`` does. Returns the names copied.

    Raises:
        AdapterError: a tensor of another shape (another variant), or nothing matched.
    """
    from safetensors.torch import load_file

    with torch.no_grad():
        return copy_expanding(encoder, load_file(path))
