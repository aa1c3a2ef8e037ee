"""Reference models in PyTorch (the optional ``models`` extra: torch, safetensors, transformers).

Nothing in the core imports this package; ``iseg_bench.adapters.torch_models`` and
``iseg_bench.training`` import it on demand.

Modules (each cites its source):

* ``click_encodings`` -- binary disks, Gaussian maps at three scales, distance maps.
* ``losses`` -- normalised focal loss; soft-IoU + click-location loss (Forte et al., Eq. 1).
* ``guided_filter`` -- differentiable guided filter in box-filter form (He et al. 2013).
* ``zoom_in`` -- the zoom-in box of the click-based evaluation code (RITM / FocalClick).
* ``hf_backbones`` -- guarded transformers import; SegFormer MiT and BiT (ResNet + GN + WS)
  backbones built from config; optional ImageNet-pretrained weight loading.
* ``emc_click`` -- EMC-Click (Du et al., CVPR 2023, Sec. 3).
* ``acc99net`` -- the 99%-accuracy network (Forte et al. 2020, Sec. 3), registered as
  ``acc99net``.
* ``checkpoint`` -- safetensors weights + JSON architecture, so a checkpoint rebuilds its model.
* ``zoo`` -- named variants (``emc-click``, ``emc-click-b3``, ``acc99net`` and tiny test
  variants) and ``build_model``.
* ``click_simulation`` -- training-time click placement (object centre, largest error region).
* ``runtime`` -- ``--device auto|cpu|cuda[:i]`` resolution, bf16 autocast on CUDA, option parsing.

Usage::

    from iseg_bench.training import train
    train("emc-click", "sbd", epochs=230, out_dir="runs/emc-click")      # -> runs/emc-click/model.*
    from iseg_bench.adapters.registry import build_adapter
    adapter = build_adapter("emc-click", checkpoint="runs/emc-click", device="auto")
    adapter = build_adapter("acc99net", random_init=True, variant="acc99net-tiny")  # smoke run

Measured (``python benchmarks/bench_models.py --threads 1``, CPU, 384 x 384, random weights):
emc-click 3.85 M parameters, 10.1 GFLOPs first click / 2.47 GFLOPs later clicks;
emc-click-b3 47.6 M, 86.4 / 6.15 GFLOPs; acc99net 38.1 M, 255.5 GFLOPs every click
(FLOPs as counted by torch.utils.flop_counter: a multiply-add is 2 FLOPs).
"""
