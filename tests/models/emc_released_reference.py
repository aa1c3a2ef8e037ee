"""Test-only transcription of the released EMC-Click SegFormer models (github
feiaxyt/EMC-Click: mix_transformer.py, segformer_head.py, is_refine_model.py,
is_refine_segformer_model.py, ops.py DistMaps): the list of state-dict names and shapes the
authors' modules register, and their forward pass written as plain functions over such a
state dict. Independent of iseg_bench's modules: it reads nothing but the tensors by their
released names."""

from __future__ import annotations

import torch
import torch.nn.functional as F

MIT = {"b0": dict(dims=[32, 64, 160, 256], heads=[1, 2, 5, 8], depths=[2, 2, 2, 2],
                  sr=[8, 4, 2, 1], mlp=4, dec=256, c=64),
       "b3": dict(dims=[64, 128, 320, 512], heads=[1, 2, 5, 8], depths=[3, 4, 18, 3],
                  sr=[8, 4, 2, 1], mlp=4, dec=512, c=96),
       "tiny": dict(dims=[8, 16, 24, 32], heads=[1, 1, 2, 2], depths=[1, 1, 1, 1],
                    sr=[8, 4, 2, 1], mlp=2, dec=32, c=16)}


def _bn(name, c):
    return {f"{name}.weight": (c,), f"{name}.bias": (c,), f"{name}.running_mean": (c,),
            f"{name}.running_var": (c,), f"{name}.num_batches_tracked": ()}


def _xconv(name, cin, cout):
    return {f"{name}.conv3x3_1.weight": (cin, 1, 3, 3), f"{name}.conv3x3_1.bias": (cin,),
            **_bn(f"{name}.norm1", cin),
            f"{name}.conv3x3_2.weight": (cin, 1, 3, 3), f"{name}.conv3x3_2.bias": (cin,),
            f"{name}.conv1x1.weight": (cout, cin, 1, 1), f"{name}.conv1x1.bias": (cout,),
            **_bn(f"{name}.norm2", cout)}


def _ln(name, c):
    return {f"{name}.weight": (c,), f"{name}.bias": (c,)}


def layout(version):
    """{released key: shape} of SegFormerModel(model_version, refiner_conf xconv2, C)."""
    m = MIT[version]
    d, out = m["dims"], {}
    bb = "feature_extractor.backbone."
    for i in range(4):
        cin, k = (3, 7) if i == 0 else (d[i - 1], 3)
        out[f"{bb}patch_embed{i + 1}.proj.weight"] = (d[i], cin, k, k)
        out[f"{bb}patch_embed{i + 1}.proj.bias"] = (d[i],)
        out.update(_ln(f"{bb}patch_embed{i + 1}.norm", d[i]))
    out[f"{bb}patch_embed_side1.proj.weight"] = (d[0], 1, 7, 7)
    out[f"{bb}patch_embed_side1.proj.bias"] = (d[0],)
    out.update(_ln(f"{bb}patch_embed_side1.norm", d[0]))
    out.update(_ln(f"{bb}norm_add", d[0]))
    for i in range(4):
        c, h = d[i], d[i] * m["mlp"]
        for j in range(m["depths"][i]):
            p = f"{bb}block{i + 1}.{j}."
            out.update(_ln(p + "norm1", c))
            out.update({p + "attn.q.weight": (c, c), p + "attn.q.bias": (c,),
                        p + "attn.kv.weight": (2 * c, c), p + "attn.kv.bias": (2 * c,),
                        p + "attn.proj.weight": (c, c), p + "attn.proj.bias": (c,)})
            if m["sr"][i] > 1:
                s = m["sr"][i]
                out.update({p + "attn.sr.weight": (c, c, s, s), p + "attn.sr.bias": (c,)})
                out.update(_ln(p + "attn.norm", c))
            out.update(_ln(p + "norm2", c))
            out.update({p + "mlp.fc1.weight": (h, c), p + "mlp.fc1.bias": (h,),
                        p + "mlp.dwconv.dwconv.weight": (h, 1, 3, 3),
                        p + "mlp.dwconv.dwconv.bias": (h,),
                        p + "mlp.fc2.weight": (c, h), p + "mlp.fc2.bias": (c,)})
        out.update(_ln(f"{bb}norm{i + 1}", c))
    hd, dec = "feature_extractor.decode_head.", m["dec"]
    for i in (4, 3, 2, 1):
        out[f"{hd}linear_c{i}.proj.weight"] = (dec, d[i - 1])
        out[f"{hd}linear_c{i}.proj.bias"] = (dec,)
    out[f"{hd}linear_fuse.conv.weight"] = (dec, 4 * dec, 1, 1)
    out.update(_bn(f"{hd}linear_fuse.bn", dec))
    out.update({f"{hd}linear_pred.weight": (1, dec, 1, 1), f"{hd}linear_pred.bias": (1,)})
    out.update(refiner_layout(m["c"], dec))
    return out


def refiner_layout(c, dec):
    """{released key: shape} of AttRefineAfterLayer(mid_dims=corr_channel=c, feature_dims=
    dec, conv_layer='xconv2') under ``refiner.``."""
    out, r = {}, "refiner."
    out.update({r + "feature_convq.weight": (c, c, 1, 1), r + "feature_convq.bias": (c,),
                r + "feature_convk.weight": (c, c, 1, 1), r + "feature_convk.bias": (c,)})
    for name in ("corr_conv", "corr_conv_pos", "corr_conv_neg"):
        out.update(_xconv(r + name, c, c))
    out.update(_xconv(r + "corr_fusion", 2 * c, c))
    out.update(_xconv(r + "image_conv1.1", 6 * 16, c))
    out.update(_xconv(r + "image_conv2", c, c))
    out.update({r + "refine_fusion.conv.weight": (c, dec, 1, 1),
                r + "refine_fusion.conv.bias": (c,), **_bn(r + "refine_fusion.norm", c)})
    out.update({r + "cross_attention.in_proj_weight": (3 * c, c),
                r + "cross_attention.in_proj_bias": (3 * c,),
                r + "cross_attention.out_proj.weight": (c, c),
                r + "cross_attention.out_proj.bias": (c,)})
    out.update(_xconv(r + "fusion1.0", 2 * c, c))
    out.update(_xconv(r + "fusion1.1", c, c))
    for name in ("all_fusion",):
        out.update(_xconv(r + name, 2 * c, c))
    out.update(_xconv(r + "refine_fusion1", c, c))
    out.update(_xconv(r + "refine_fusion2", c, c))
    out.update({r + "refine_pred.weight": (1, c, 3, 3), r + "refine_pred.bias": (1,)})
    return out


def random_state(version, seed=0):
    """Random tensors in `layout(version)`; BN variances positive, shared alias equal."""
    return random_tensors(layout(version), seed)


def random_tensors(shapes, seed=0):
    """Random tensors in the layout `shapes` {key: shape}; BN variances positive, the
    refiner's shared phi_s aliases equal."""
    g = torch.Generator().manual_seed(seed)
    sd = {}
    for k, shape in shapes.items():
        if k.endswith("num_batches_tracked"):
            sd[k] = torch.tensor(7)
        elif k.endswith("running_var"):
            sd[k] = torch.rand(shape, generator=g) + 0.5
        elif k.endswith("norm1.weight") or k.endswith("norm2.weight") or ".norm" in k:
            sd[k] = 1 + 0.1 * torch.randn(shape, generator=g)
        else:
            sd[k] = 0.2 * torch.randn(shape, generator=g)
    for alias in ("corr_conv_pos", "corr_conv_neg"):
        for k in list(sd):
            if k.startswith("refiner.corr_conv."):
                sd[k.replace("corr_conv.", alias + ".", 1)] = sd[k].clone()
    return sd


def _ln_apply(sd, name, x, eps):
    return F.layer_norm(x, x.shape[-1:], sd[name + ".weight"], sd[name + ".bias"], eps)


def _embed(sd, name, x, stride):
    w = sd[name + ".proj.weight"]
    x = F.conv2d(x, w, sd[name + ".proj.bias"], stride, w.shape[-1] // 2)
    b, c, h, ww = x.shape
    return _ln_apply(sd, name + ".norm", x.flatten(2).transpose(1, 2), 1e-5), h, ww


def _block(sd, p, x, h, w, heads, sr):
    b, n, c = x.shape
    y = _ln_apply(sd, p + "norm1", x, 1e-6)
    q = F.linear(y, sd[p + "attn.q.weight"], sd[p + "attn.q.bias"])
    q = q.reshape(b, n, heads, c // heads).permute(0, 2, 1, 3)
    src = y
    if sr > 1:
        z = y.permute(0, 2, 1).reshape(b, c, h, w)
        z = F.conv2d(z, sd[p + "attn.sr.weight"], sd[p + "attn.sr.bias"], sr)
        src = _ln_apply(sd, p + "attn.norm", z.reshape(b, c, -1).permute(0, 2, 1), 1e-5)
    kv = F.linear(src, sd[p + "attn.kv.weight"], sd[p + "attn.kv.bias"])
    kv = kv.reshape(b, -1, 2, heads, c // heads).permute(2, 0, 3, 1, 4)
    att = ((q @ kv[0].transpose(-2, -1)) * (c // heads) ** -0.5).softmax(-1)
    o = (att @ kv[1]).transpose(1, 2).reshape(b, n, c)
    x = x + F.linear(o, sd[p + "attn.proj.weight"], sd[p + "attn.proj.bias"])
    y = _ln_apply(sd, p + "norm2", x, 1e-6)
    y = F.linear(y, sd[p + "mlp.fc1.weight"], sd[p + "mlp.fc1.bias"])
    hid = y.shape[-1]
    y = y.transpose(1, 2).reshape(b, hid, h, w)
    y = F.conv2d(y, sd[p + "mlp.dwconv.dwconv.weight"], sd[p + "mlp.dwconv.dwconv.bias"], 1, 1,
                 groups=hid)
    y = F.gelu(y.flatten(2).transpose(1, 2))
    return x + F.linear(y, sd[p + "mlp.fc2.weight"], sd[p + "mlp.fc2.bias"])


def _bn_apply(sd, name, x):
    return F.batch_norm(x, sd[name + ".running_mean"], sd[name + ".running_var"],
                        sd[name + ".weight"], sd[name + ".bias"], False, 0.0, 1e-5)


def _xconv_apply(sd, name, x):
    cin = x.shape[1]
    x = F.conv2d(x, sd[name + ".conv3x3_1.weight"], sd[name + ".conv3x3_1.bias"], 1, 1,
                 groups=cin)
    x = _bn_apply(sd, name + ".norm1", x)
    x = F.conv2d(x, sd[name + ".conv3x3_2.weight"], sd[name + ".conv3x3_2.bias"], 1, 1,
                 groups=cin)
    x = F.conv2d(x, sd[name + ".conv1x1.weight"], sd[name + ".conv1x1.bias"])
    return F.relu(_bn_apply(sd, name + ".norm2", x))


def base_forward(sd, version, image_n, first_pos_disk):
    """feature_extractor(image, 1-channel disk) in eval mode -> (logits_lr, feature)."""
    m, bb = MIT[version], "feature_extractor.backbone."
    b = image_n.shape[0]
    af, h, w = _embed(sd, bb + "patch_embed_side1", first_pos_disk, 4)
    af = af.reshape(b, h, w, -1).permute(0, 3, 1, 2)
    outs, x = [], image_n
    for i in range(4):
        x, h, w = _embed(sd, f"{bb}patch_embed{i + 1}", x, 4 if i == 0 else 2)
        for j in range(m["depths"][i]):
            x = _block(sd, f"{bb}block{i + 1}.{j}.", x, h, w, m["heads"][i], m["sr"][i])
        x = _ln_apply(sd, f"{bb}norm{i + 1}", x, 1e-6)
        x = x.reshape(b, h, w, -1).permute(0, 3, 1, 2)
        outs.append(x)
        if i == 0:
            x = x + af
    hd = "feature_extractor.decode_head."
    ups = []
    for i in (4, 3, 2, 1):
        c = outs[i - 1]
        y = F.linear(c.flatten(2).transpose(1, 2), sd[f"{hd}linear_c{i}.proj.weight"],
                     sd[f"{hd}linear_c{i}.proj.bias"])
        y = y.permute(0, 2, 1).reshape(b, -1, c.shape[2], c.shape[3])
        if i != 1:
            y = F.interpolate(y, size=outs[0].shape[2:], mode="bilinear", align_corners=False)
        ups.append(y)
    f = F.relu(_bn_apply(sd, hd + "linear_fuse.bn",
                         F.conv2d(torch.cat(ups, 1), sd[hd + "linear_fuse.conv.weight"])))
    return F.conv2d(f, sd[hd + "linear_pred.weight"], sd[hd + "linear_pred.bias"]), f


def dist_maps(points, h, w, radius=5.0):
    """DistMaps(use_disks=True) over (B, 2n, 3) points: (disks (B, 2, h, w), squared
    distances with 1e6 where a sign has no valid click)."""
    b, n2, _ = points.shape
    rows = torch.arange(h, dtype=torch.float32).view(h, 1)
    cols = torch.arange(w, dtype=torch.float32).view(1, w)
    d = torch.empty(b, n2, h, w)
    for i in range(b):
        for j in range(n2):
            y, x = points[i, j, 0], points[i, j, 1]
            if max(y, x) < 0:
                d[i, j] = 1e6
            else:
                d[i, j] = (rows - y) ** 2 + (cols - x) ** 2
    d = d.view(b, 2, n2 // 2, h, w).amin(2)
    return (d <= radius ** 2).float(), d


def refiner_forward(sd, image_n, points, feature, logits_lr, k, heads=4):
    """refiner(...) of the released model (eval mode) -> refined logits at stride 4.
    points: (B, 2n, 3) RITM layout (n positive slots then n negative, (-1, -1, -1) empty)."""
    r = "refiner."
    b, _, hh, ww = image_n.shape
    click_map, dist = dist_maps(points, hh, ww)
    prev = torch.sigmoid(F.interpolate(logits_lr, (hh, ww), mode="bilinear",
                                       align_corners=True))
    x = F.pixel_unshuffle(torch.cat([image_n, click_map, prev], 1), 4)
    x = _xconv_apply(sd, r + "image_conv2", _xconv_apply(sd, r + "image_conv1.1", x))
    f = F.relu(_bn_apply(sd, r + "refine_fusion.norm",
                         F.conv2d(feature, sd[r + "refine_fusion.conv.weight"],
                                  sd[r + "refine_fusion.conv.bias"])))
    if f.shape[-2:] != x.shape[-2:]:
        f = F.interpolate(f, x.shape[-2:], mode="bilinear", align_corners=True)
    fu = _xconv_apply(sd, r + "fusion1.1", _xconv_apply(sd, r + "fusion1.0", torch.cat([f, x], 1)))
    _, c, h, w = fu.shape
    pts = points.clone()
    pts[:, :, :2] = torch.round(pts[:, :, :2] * 0.25)
    pts[:, :, 0][pts[:, :, 0] >= h] = h - 1
    pts[:, :, 1][pts[:, :, 1] >= w] = w - 1
    pts = pts.long()
    n = pts.shape[1] // 2
    dist[dist == 1e6] = 1
    dist = torch.sqrt(dist) / torch.sqrt(torch.tensor(float(hh ** 2 + ww ** 2)))
    dist = F.interpolate(dist, (h, w), mode="bilinear", align_corners=True).reshape(b, 2, h * w)
    feats = fu.permute(0, 2, 3, 1).reshape(b, h * w, c)
    idx = pts[:, :, 0] * w + pts[:, :, 1]
    idx[idx < 0] = 0
    pf = F.normalize(torch.gather(feats, 1, idx.unsqueeze(-1).expand(b, -1, c)), dim=-1)
    sim = torch.einsum("bnc,bmc->bnm", pf, F.normalize(feats, dim=-1))
    sim[pts[:, :, 2] < 0] = 0
    vp, vn = sim[:, :n].max(1)[0], sim[:, n:].max(1)[0]
    pos = torch.topk((vp + (1 - vn)) * (1 - dist[:, 0]), k, dim=-1)[1]
    neg = torch.topk((vn + (1 - vp)) * (1 - dist[:, 1]), k, dim=-1)[1]
    q = F.conv2d(fu, sd[r + "feature_convq.weight"], sd[r + "feature_convq.bias"])
    kk = F.conv2d(fu, sd[r + "feature_convk.weight"], sd[r + "feature_convk.bias"])
    q = q.permute(0, 2, 3, 1).reshape(b, h * w, c)
    corr = []
    for ind, name in ((pos, "corr_conv_pos"), (neg, "corr_conv_neg")):
        kern = torch.gather(q, 1, ind.unsqueeze(-1).expand(b, -1, c)).reshape(-1, c, 1, 1)
        s = F.conv2d(kk.reshape(1, -1, h, w), kern, groups=b).reshape(b, -1, h, w)
        corr.append(_xconv_apply(sd, r + name, s))
    corr = _xconv_apply(sd, r + "corr_fusion", torch.cat(corr, 1))
    tok = fu.permute(0, 2, 3, 1).reshape(b, -1, c)
    kv = torch.gather(tok, 1, torch.cat([pos, neg], -1).unsqueeze(-1).expand(b, -1, c))
    att = F.multi_head_attention_forward(
        tok.permute(1, 0, 2), kv.permute(1, 0, 2), kv.permute(1, 0, 2), c, heads,
        sd[r + "cross_attention.in_proj_weight"], sd[r + "cross_attention.in_proj_bias"],
        None, None, False, 0.0, sd[r + "cross_attention.out_proj.weight"],
        sd[r + "cross_attention.out_proj.bias"], training=False, need_weights=False)[0]
    fu = fu + att.permute(1, 2, 0).reshape(*fu.shape)
    y = _xconv_apply(sd, r + "all_fusion", torch.cat([fu, corr], 1))
    y = _xconv_apply(sd, r + "refine_fusion2", _xconv_apply(sd, r + "refine_fusion1", y))
    return F.conv2d(y, sd[r + "refine_pred.weight"], sd[r + "refine_pred.bias"], padding=1)
