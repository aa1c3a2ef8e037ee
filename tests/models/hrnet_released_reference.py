"""Test-only transcription of the released EMC-Click HRNet models (github feiaxyt/EMC-Click:
isegm/model/is_refine_model.py HRNetRefineModel, modeling/hrnet_ocr.py HighResolutionNet,
modeling/ocr.py, modeling/resnetv1b.py, is_model.py maps_transform, ops.py ScaleLayer,
models/emcclick/hrnet{18s,18,32}_att_cclvis.py): the state-dict names and shapes the authors'
modules register, and the base network's forward pass as plain functions over such a state
dict. Independent of iseg_bench's modules; the refiner comes from emc_released_reference."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from emc_released_reference import _bn, _bn_apply, random_tensors, refiner_layout

# width, ocr_width, small, C (refiner mid_dims = corr_channel)
HRNET = {"hr18s": (18, 48, True, 64), "hr18": (18, 64, False, 96), "hr32": (32, 128, False, 96),
         "tiny": (4, 8, True, 16)}
FX = "feature_extractor."


def _conv(name, cin, cout, k, bias=False):
    out = {f"{name}.weight": (cout, cin, k, k)}
    if bias:
        out[f"{name}.bias"] = (cout,)
    return out


def _conv_bn(conv, bn, cin, cout, k):
    """A bias-free conv named `conv` followed by a BN named `bn`."""
    return {**_conv(conv, cin, cout, k), **_bn(bn, cout)}


def _stage_plan(width, small):
    """[(transition in-channels, branch channels, modules)] for stages 2..4."""
    nblocks = 2 if small else 4
    mods = (1, 3, 2) if small else (1, 4, 3)
    plan, prev = [], [256]
    for s, n in zip((2, 3, 4), mods):
        ch = [width * 2 ** i for i in range(s)]
        plan.append((prev, ch, n, nblocks))
        prev = ch
    return plan


def layout(variant):
    """{released key: shape} of HRNetRefineModel for `variant` (hr18s, hr18, hr32, tiny)."""
    width, ocr, small, c = HRNET[variant]
    out = {}
    out.update(_conv_bn(FX + "conv1", FX + "bn1", 3, 64, 3))
    out.update(_conv_bn(FX + "conv2", FX + "bn2", 64, 64, 3))
    nblocks = 2 if small else 4
    for b in range(nblocks):  # layer1: BottleneckV1b(planes 64), downsample on the first
        p, cin = f"{FX}layer1.{b}.", 64 if b == 0 else 256
        out.update(_conv_bn(p + "conv1", p + "bn1", cin, 64, 1))
        out.update(_conv_bn(p + "conv2", p + "bn2", 64, 64, 3))
        out.update(_conv_bn(p + "conv3", p + "bn3", 64, 256, 1))
        if b == 0:
            out.update(_conv_bn(p + "downsample.0", p + "downsample.1", 64, 256, 1))
    for t, (prev, ch, nmod, nb) in enumerate(_stage_plan(width, small), 1):
        for i, ci in enumerate(ch):
            p = f"{FX}transition{t}.{i}."
            if i < len(prev):
                if prev[i] != ci:
                    out.update(_conv_bn(p + "0", p + "1", prev[i], ci, 3))
            else:
                out.update(_conv_bn(p + "0.0", p + "0.1", prev[-1], ci, 3))
        for m in range(nmod):
            p = f"{FX}stage{t + 1}.{m}."
            for i, ci in enumerate(ch):
                for b in range(nb):
                    q = f"{p}branches.{i}.{b}."
                    out.update(_conv_bn(q + "conv1", q + "bn1", ci, ci, 3))
                    out.update(_conv_bn(q + "conv2", q + "bn2", ci, ci, 3))
            for i, ci in enumerate(ch):
                for j, cj in enumerate(ch):
                    q = f"{p}fuse_layers.{i}.{j}."
                    if j > i:
                        out.update(_conv_bn(q + "0", q + "1", cj, ci, 1))
                    for k in range(i - j):
                        co = ci if k == i - j - 1 else cj
                        out.update(_conv_bn(f"{q}{k}.0", f"{q}{k}.1", cj, co, 3))
    last, mid = 15 * width, 2 * ocr
    out.update(_conv(FX + "conv3x3_ocr.0", last, mid, 3, bias=True))
    out.update(_bn(FX + "conv3x3_ocr.1", mid))
    o = FX + "ocr_distri_head.object_context_block."
    for f in ("f_pixel", "f_object"):
        out.update(_conv_bn(f"{o}{f}.0", f"{o}{f}.1.0", mid, ocr, 1))
        out.update(_conv_bn(f"{o}{f}.2", f"{o}{f}.3.0", ocr, ocr, 1))
    out.update(_conv_bn(o + "f_down.0", o + "f_down.1.0", mid, ocr, 1))
    out.update(_conv_bn(o + "f_up.0", o + "f_up.1.0", ocr, mid, 1))
    cbd = FX + "ocr_distri_head.conv_bn_dropout."
    out.update(_conv_bn(cbd + "0", cbd + "1.0", 2 * mid, mid, 1))
    out.update(_conv(FX + "cls_head", mid, 1, 1, bias=True))
    out.update(_conv(FX + "aux_head.0", last, last, 1, bias=True))
    out.update(_bn(FX + "aux_head.1", last))
    out.update(_conv(FX + "aux_head.3", last, 1, 1, bias=True))
    out.update(_conv("maps_transform.0", 1, 16, 1, bias=True))
    out.update(_conv("maps_transform.2", 16, 64, 3, bias=True))
    out["maps_transform.3.scale"] = (1,)
    out.update(refiner_layout(c, mid))
    return out


def random_state(variant, seed=0):
    return random_tensors(layout(variant), seed)


def _cbr(sd, name, x, stride=1, relu=True, bn=None):
    w = sd[name + ".weight"]
    x = F.conv2d(x, w, sd.get(name + ".bias"), stride, w.shape[-1] // 2)
    x = _bn_apply(sd, bn, x)
    return F.relu(x) if relu else x


def _up(x, hw):
    return F.interpolate(x, size=hw, mode="bilinear", align_corners=True)


def _seq(sd, p, x, stride=1, relu=True):
    """Sequential(conv, BN[, ReLU]) at prefix p."""
    return _cbr(sd, p + "0", x, stride, relu, bn=p + "1")


def base_forward(sd, variant, image_n, first_pos_disk):
    """maps_transform + feature_extractor in eval mode -> (cls logits, OCR feature)."""
    width, ocr, small, _ = HRNET[variant]
    mt = F.leaky_relu(F.conv2d(first_pos_disk, sd["maps_transform.0.weight"],
                               sd["maps_transform.0.bias"]), 0.2)
    mt = F.conv2d(mt, sd["maps_transform.2.weight"], sd["maps_transform.2.bias"], 2, 1)
    mt = mt * sd["maps_transform.3.scale"].abs()
    x = _cbr(sd, FX + "conv1", image_n, 2, bn=FX + "bn1") + mt
    x = _cbr(sd, FX + "conv2", x, 2, bn=FX + "bn2")
    for b in range(2 if small else 4):
        p = f"{FX}layer1.{b}."
        r = _seq(sd, p + "downsample.", x, relu=False) if b == 0 else x
        y = _cbr(sd, p + "conv1", x, bn=p + "bn1")
        y = _cbr(sd, p + "conv2", y, bn=p + "bn2")
        x = F.relu(_cbr(sd, p + "conv3", y, relu=False, bn=p + "bn3") + r)
    ys = [x]
    for t, (prev, ch, nmod, nb) in enumerate(_stage_plan(width, small), 1):
        xs = []
        for i in range(len(ch)):
            p = f"{FX}transition{t}.{i}."
            if i < len(prev):
                xs.append(_seq(sd, p, ys[i]) if p + "0.weight" in sd else ys[i])
            else:
                xs.append(_seq(sd, p + "0.", ys[-1], stride=2))
        for m in range(nmod):
            p = f"{FX}stage{t + 1}.{m}."
            for i in range(len(ch)):
                for b in range(nb):
                    q = f"{p}branches.{i}.{b}."
                    y = _cbr(sd, q + "conv1", xs[i], bn=q + "bn1")
                    xs[i] = F.relu(_cbr(sd, q + "conv2", y, relu=False, bn=q + "bn2") + xs[i])
            fused = []
            for i in range(len(ch)):
                y = None
                for j in range(len(ch)):
                    q = f"{p}fuse_layers.{i}.{j}."
                    if j == i:
                        z = xs[j]
                    elif j > i:
                        z = _up(_seq(sd, q, xs[j], relu=False), xs[i].shape[-2:])
                    else:
                        z = xs[j]
                        for k in range(i - j):
                            z = _seq(sd, f"{q}{k}.", z, stride=2, relu=k < i - j - 1)
                    y = z if y is None else y + z
                fused.append(F.relu(y))
            xs = fused
        ys = xs
    hw = ys[0].shape[-2:]
    feats = torch.cat([ys[0]] + [_up(y, hw) for y in ys[1:]], 1)
    aux = _cbr(sd, FX + "aux_head.0", feats, bn=FX + "aux_head.1")
    aux = F.conv2d(aux, sd[FX + "aux_head.3.weight"], sd[FX + "aux_head.3.bias"])
    feats = _cbr(sd, FX + "conv3x3_ocr.0", feats, bn=FX + "conv3x3_ocr.1")
    b, cm, h, w = feats.shape
    probs = F.softmax(aux.view(b, 1, -1), dim=2)
    context = torch.matmul(probs, feats.view(b, cm, -1).permute(0, 2, 1))
    context = context.permute(0, 2, 1).unsqueeze(3)  # (B, C, 1, 1)
    o = FX + "ocr_distri_head.object_context_block."

    def two(f, z):
        z = _cbr(sd, f"{o}{f}.0", z, bn=f"{o}{f}.1.0")
        return _cbr(sd, f"{o}{f}.2", z, bn=f"{o}{f}.3.0")

    query = two("f_pixel", feats).view(b, ocr, -1).permute(0, 2, 1)
    key = two("f_object", context).view(b, ocr, -1)
    value = _cbr(sd, o + "f_down.0", context, bn=o + "f_down.1.0").view(b, ocr, -1)
    sim = F.softmax(torch.matmul(query, key) * ocr ** -0.5, dim=-1)
    ctx = torch.matmul(sim, value.permute(0, 2, 1)).permute(0, 2, 1).reshape(b, ocr, h, w)
    ctx = _cbr(sd, o + "f_up.0", ctx, bn=o + "f_up.1.0")
    c2 = FX + "ocr_distri_head.conv_bn_dropout."
    feats = _cbr(sd, c2 + "0", torch.cat([ctx, feats], 1), bn=c2 + "1.0")
    out = F.conv2d(feats, sd[FX + "cls_head.weight"], sd[FX + "cls_head.bias"])
    return out, feats
