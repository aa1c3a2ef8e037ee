"""The EMC-Click training recipe as the authors' released code trains it: Adam with the
backbone at a tenth of the learning rate, up to 24 clicks per sample simulated on the
model's own predictions, normalised focal loss on the coarse and the corrected mask (and a
binary cross-entropy on the OCR auxiliary head of the HRNet variants).

Sources: Du et al., "Efficient Mask Correction for Click-Based Interactive Image
Segmentation", CVPR 2023, Sec. 4.1; the authors' released code (github feiaxyt/EMC-Click,
read for facts only): models/emcclick/{segformerB0,segformerB3,hrnet18s,hrnet18,hrnet32}
_att_cclvis.py (learning rates, schedule, augmentations, clicks, epoch length),
isegm/engine/clickatt_trainer_batchconsistant.py (the iterative training step),
isegm/data/points_sampler.py (generate_probs, first click), isegm/engine/optimizer.py and
isegm/model/modifiers.py (per-parameter learning-rate multipliers),
isegm/model/is_refine_segformer_model.py and is_refine_model.py (backbone_lr_mult = 0.1),
trainval_scripts/train_emcclick_*_cclvs.sh (batch 64). Every constant with its file and
line, and what is ours: ``docs/models/emc-click.md`` ("Training recipe").

Constants: ``EMC_RECIPE``, ``EMC_LR`` (per variant), ``EMC_MAX_CLICKS`` = 24,
``EMC_ROUND_GAMMA`` = 0.8, ``EMC_BACKBONE_LR_MULT`` = 0.1, ``EMC_RESIZE`` = (0.75, 1.40),
``EMC_BRIGHTNESS`` = (-0.25, 0.25), ``EMC_CONTRAST`` = (-0.15, 0.4), ``EMC_RGB_SHIFT`` = 10
grey levels, ``EMC_JITTER_PROB`` = 0.75, ``EMC_EPOCH_SAMPLES`` = 30000, ``EMC_BATCH`` = 64,
``EMC_XAVIER_MAGNITUDE`` = 2 (HRNet variants' initialisation), ``EMC_AUX_WEIGHT`` = 0.4
(their auxiliary BCE loss).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from iseg_bench.training.recipe import Recipe, accumulate_backward

EMC_MAX_CLICKS = 24
EMC_ROUND_GAMMA = 0.8
EMC_BACKBONE_LR_MULT = 0.1
EMC_RESIZE = (0.75, 1.40)
EMC_BRIGHTNESS = (-0.25, 0.25)
EMC_CONTRAST = (-0.15, 0.4)
EMC_RGB_SHIFT = 10.0
EMC_JITTER_PROB = 0.75
EMC_EPOCH_SAMPLES = 30000
EMC_BATCH = 64
EMC_XAVIER_MAGNITUDE = 2.0
EMC_AUX_WEIGHT = 0.4
#: optimizer_params lr of models/emcclick/*_att_cclvis.py; the tiny test variants take b0's
EMC_LR = {"emc-click": 1e-3, "emc-click-b3": 2e-3, "emc-click-hr18s": 1e-3,
          "emc-click-hr18": 1e-3, "emc-click-hr32": 8e-4}
#: HRNet modules that keep the full learning rate (is_refine_model.py HRNetRefineModel)
_HRNET_FULL_LR = ("base.feature_extractor.conv3x3_ocr.", "base.feature_extractor.ocr_distri_head.")


def round_probabilities(n: int = EMC_MAX_CLICKS, gamma: float = EMC_ROUND_GAMMA) -> np.ndarray:
    """P(r) for r = 0 .. n - 1 simulated rounds before the trained one: gamma^r normalised
    (points_sampler.py generate_probs(max_num_next_clicks, sample_prob_sigma)). (n,) float64."""
    p = gamma ** np.arange(n, dtype=np.float64)
    out: np.ndarray = p / p.sum()
    return out


def photometric_params(rng: np.random.Generator) -> tuple[float, float, np.ndarray]:
    """(contrast factor alpha, brightness offset beta, per-channel shift (3,) in grey
    levels) of one sample: with probability EMC_JITTER_PROB alpha = 1 + U(EMC_CONTRAST) and
    beta = U(EMC_BRIGHTNESS) (else 1, 0); independently with probability EMC_JITTER_PROB a
    U(-10, 10) shift per channel (else 0) -- albumentations RandomBrightnessContrast and
    RGBShift as the configs call them."""
    alpha, beta = 1.0, 0.0
    if rng.random() < EMC_JITTER_PROB:
        alpha = 1.0 + rng.uniform(*EMC_CONTRAST)
        beta = rng.uniform(*EMC_BRIGHTNESS)
    shift = np.zeros(3)
    if rng.random() < EMC_JITTER_PROB:
        shift = rng.uniform(-EMC_RGB_SHIFT, EMC_RGB_SHIFT, size=3)
    return alpha, beta, shift


def emc_photometric(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """clip(alpha img + beta) + shift / 255 (image (h, w, 3) float32 in [0, 1]; the caller
    clips the result), parameters from `photometric_params`: brightness is an offset of the
    full range and contrast a gain about 0, as albumentations applies them to uint8 images
    (its brightness_by_max default)."""
    alpha, beta, shift = photometric_params(rng)
    out: np.ndarray = (np.clip(img * alpha + beta, 0.0, 1.0)
                       + (shift / 255.0).astype(np.float32)).astype(np.float32)
    return out


def backbone_parameter(name: str, hrnet: bool) -> bool:
    """Whether parameter `name` of an EMCClick model trains at EMC_BACKBONE_LR_MULT: the MiT
    encoder and its click patch embedding (the released ``feature_extractor.backbone``
    includes ``patch_embed_side1``), or the whole HRNet with its auxiliary and class heads
    except the OCR convolution and distribution head (released LRMult(1.0) on them)."""
    if hrnet:
        return (name.startswith("base.feature_extractor.")
                and not name.startswith(_HRNET_FULL_LR))
    return name.startswith(("base.encoder.", "base.side_embed."))


def emc_optimizer(model: Any, lr: float) -> Any:
    """Adam (beta1 0.9, beta2 0.999, eps 1e-8) with two parameter groups: everything else at
    `lr` (group 0), the backbone (``backbone_parameter``) at lr x EMC_BACKBONE_LR_MULT
    (group 1)."""
    import torch

    hrnet = bool(model.config.hrnet)
    groups: tuple[list[Any], list[Any]] = ([], [])
    for name, p in model.named_parameters():
        groups[backbone_parameter(name, hrnet)].append(p)
    return torch.optim.Adam([{"params": groups[0], "lr": lr},
                             {"params": groups[1], "lr": lr * EMC_BACKBONE_LR_MULT}],
                            lr=lr, betas=(0.9, 0.999), eps=1e-8)


def xavier_gluon_init(model: Any) -> None:
    """The HRNet variants' initialisation (hrnet*_att_cclvis.py: model.apply(XavierGluon(
    rnd_type='gaussian', magnitude=2.0)), isegm/model/initializer.py), in place: BatchNorm
    weight 1 and bias 0; every other module's ``weight`` drawn from N(0, s^2) with
    s = sqrt(EMC_XAVIER_MAGNITUDE / ((fan_in + fan_out) / 2)) (fan = channels x kernel
    area) and its ``bias`` 0. Parameters not named weight/bias (the attention's fused input
    projection, the click ScaleLayer) keep their values. The MiT variants are left as
    built: the released SegFormer configs apply no such initialisation."""
    import torch

    if not model.config.hrnet:
        return
    with torch.no_grad():
        for m in model.modules():
            weight, bias = getattr(m, "weight", None), getattr(m, "bias", None)
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.fill_(1.0)
                m.bias.zero_()
                continue
            if isinstance(weight, torch.Tensor):
                area = int(weight[0, 0].numel()) if weight.dim() > 2 else 1
                fans = (weight.shape[1] * area + weight.shape[0] * area) / 2
                weight.normal_(0.0, (EMC_XAVIER_MAGNITUDE / fans) ** 0.5)
            if isinstance(bias, torch.Tensor):
                bias.zero_()


def clicks_tensor(clicks: list[list[Any]]) -> Any:
    """(B, N, 3) float torch tensor of rows [y, x, label] (label 1 positive, 0 negative),
    padded with -1 rows to the longest list (N >= 1)."""
    import torch

    n = max(1, max(len(c) for c in clicks))
    out = torch.full((len(clicks), n, 3), -1.0)
    for b, cs in enumerate(clicks):
        for j, (y, x, p) in enumerate(cs):
            out[b, j] = torch.tensor([y, x, 1.0 if p else 0.0])
    return out


def emc_loss(model: Any, image: Any, tgt: np.ndarray, ign: np.ndarray, rounds: int,
             device: Any, rng: np.random.Generator, bf16: bool) -> Any:
    """The loss of one (micro-)batch as the released trainer computes it
    (clickatt_trainer_batchconsistant.py batch_forward).

    The first click by `emc_first_click`; then `rounds` simulated clicks without gradients
    with the model in eval mode: the base network once, then per round a correction (its
    previous mask: M_c, then its own last stride-4 logits) and one `emc_next_click` per
    sample on the sigmoid of its logits upsampled to the crop. Then, in training mode with
    gradients, the base network again and one correction with every click and the last
    simulated stride-4 logits (M_c of this pass, detached, when `rounds` is 0).

    Args:
        image: (B, 3, h, w) float tensor in [0, 1]; tgt, ign: (B, h, w) bool.

    Returns:
        0-d tensor: NFL(coarse) + NFL(corrected) (+ EMC_AUX_WEIGHT x BCE of the OCR
        auxiliary logits for the HRNet variants), all upsampled to the crop.
    """
    import torch

    from iseg_bench.models.click_encodings import disk_maps
    from iseg_bench.models.click_simulation import emc_first_click, emc_next_click
    from iseg_bench.models.emc_click import upsample
    from iseg_bench.models.losses import normalized_focal_loss, sigmoid_bce
    from iseg_bench.models.runtime import autocast

    bsz, _, h, w = image.shape
    clicks: list[list[Any]] = [[emc_first_click(tgt[b] & ~ign[b], rng)] for b in range(bsz)]

    def disks_of(cl: list[list[Any]]) -> Any:
        return torch.from_numpy(np.stack([disk_maps(c, (h, w)) for c in cl])).to(device)

    image = image.to(device)
    target = torch.from_numpy(tgt).unsqueeze(1).float().to(device)
    ignore = torch.from_numpy(ign).unsqueeze(1).to(device)
    first = disks_of(clicks)[:, :1]  # the first click's positive disk
    prev = None
    if rounds:
        model.eval()
        with torch.no_grad(), autocast(device, bf16):
            feats, prev = model.encode(image, first)
            for _ in range(rounds):
                prev = model.correct(image, disks_of(clicks), prev, feats,
                                     clicks_tensor(clicks).to(device))
                prob = torch.sigmoid(upsample(prev.float(), (h, w)))[:, 0].cpu().numpy()
                for b in range(bsz):
                    c = emc_next_click(prob[b], tgt[b], ign[b], rng)
                    if c is not None:
                        clicks[b].append(c)
    model.train()
    with autocast(device, bf16):
        aux = None
        if model.config.hrnet:
            feats, coarse, aux = model.base.forward_with_aux(model.normalize(image), first)
        else:
            feats, coarse = model.encode(image, first)
        logits = model.correct(image, disks_of(clicks), coarse.detach() if prev is None else prev,
                               feats, clicks_tensor(clicks).to(device))
    loss = (normalized_focal_loss(upsample(coarse.float(), (h, w)), target, ignore)
            + normalized_focal_loss(upsample(logits.float(), (h, w)), target, ignore))
    if aux is not None:
        loss = loss + EMC_AUX_WEIGHT * sigmoid_bce(upsample(aux.float(), (h, w)), target, ignore)
    return loss


def emc_step(model: Any, optimizer: Any, batch: tuple[Any, np.ndarray, np.ndarray],
             device: Any, rng: np.random.Generator, bf16: bool,
             micro_batch: int | None = None) -> tuple[float, int]:
    """One EMC-Click optimiser step on `batch`: the number of simulated rounds r is drawn
    once for the batch from `round_probabilities` (the released trainer draws once per
    batch and process), the loss of `emc_loss` is accumulated over micro-batches of
    `micro_batch` samples (default: the whole batch), then one Adam step. Returns (mean
    loss, 1)."""
    image, tgt, ign = batch
    n = int(image.shape[0])
    rounds = int(rng.choice(EMC_MAX_CLICKS, p=round_probabilities()))
    optimizer.zero_grad(set_to_none=True)
    loss = accumulate_backward(n, micro_batch or n, lambda s: emc_loss(
        model, image[s], tgt[s], ign[s], rounds, device, rng, bf16))
    optimizer.step()
    return loss, 1


def emc_load_pretrained(model: Any, source: str) -> None:
    """ImageNet weights into the base network: for the MiT variants the authors' MiT file
    (``mit_b0.pth`` / ``mit_b3.pth``, any ``.pth``) or a folder (or hub name) of
    transformers SegFormer weights into the encoder; for the HRNet variants an official
    HRNet ImageNet .pth file (HRNet-Image-Classification key names) into the HRNet
    backbone."""
    from iseg_bench.models import released

    if model.config.hrnet:
        released.load_hrnet_imagenet(model.base.feature_extractor, source)
        return
    if source.endswith(".pth"):
        released.load_mit_imagenet(model, source)
        return
    from iseg_bench.models.hf_backbones import load_pretrained_segformer

    load_pretrained_segformer(model.base.encoder, source)


EMC_RECIPE = Recipe(model_type="emc-click", lr=EMC_LR["emc-click"], batch_size=EMC_BATCH,
                    crop=(320, 480), milestones=(200 / 230, 220 / 230), resize_range=EMC_RESIZE,
                    photometric=emc_photometric, optimizer=emc_optimizer, step=emc_step,
                    load_pretrained=emc_load_pretrained, variant_lr=EMC_LR,
                    epoch_samples=EMC_EPOCH_SAMPLES, uniform_crop=True,
                    micro_step=lambda m: partial(emc_step, micro_batch=m),
                    initialize=xavier_gluon_init)
