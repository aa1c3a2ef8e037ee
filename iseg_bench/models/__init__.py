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
"""
