"""``siis``: the SIIS network (Lin et al., "Sequential Interactive Image Segmentation") with
its per-category state: the click bank of the initial click proposal (Sec. 3.2) and the
per-category purification parameters of the online purification optimisation (Sec. 3.3).

Hooks: ``set_category`` (selects the category's purification parameters and click bank),
``propose_click`` (ICP), ``learn`` (OPO), ``reset_learning``. Options, state and every
constant: ``docs/models/siis.md``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np

from iseg_bench.adapters.torch_models import Box, Clicks, TorchClickAdapter, TorchClickOptions
from iseg_bench.errors import AdapterError, UsageError
from iseg_bench.options import option
from iseg_bench.types import Interaction


@dataclass(frozen=True)
class SIISOptions(TorchClickOptions):
    """Options of ``siis`` (besides the torch click models')."""

    icp_filter: int = option(3, "side of the ICP mean filter in R4 feature cells (odd, >= 1)")
    opo_iterations: int = option(4, "OPO SGD iterations after each finished sample")
    opo_batch: int = option(8, "OPO batch size")
    opo_lr: float = option(5e-3, "OPO learning rate (fixed)")
    crop_size: int = option(384, "side of the OPO training crops in px")
    memory_size: int | None = option(None, "annotations kept per category for OPO (none: "
                                           "all; the oldest leave first)")

    def __post_init__(self) -> None:
        if self.icp_filter < 1 or self.icp_filter % 2 == 0:
            raise UsageError(f"siis: icp_filter must be odd and >= 1, got {self.icp_filter}")
        if min(self.opo_iterations, self.opo_batch, self.crop_size) < 1:
            raise UsageError("siis: opo_iterations, opo_batch and crop_size must be >= 1")
        if self.memory_size is not None and self.memory_size < 1:
            raise UsageError(f"siis: memory_size must be >= 1, got {self.memory_size}")


@dataclass
class CategoryState:
    """What SIIS keeps per category: the click bank ((N, C) R4 vectors at accepted first
    clicks, as a list), the purification module (None until the first OPO), the OPO memory
    of (image, annotation) pairs resized so the short side is ``crop_size``, and the OPO
    random generator."""

    bank: list[Any]
    purification: Any
    memory: list[tuple[np.ndarray, np.ndarray]]
    rng: np.random.Generator


class SIISAdapter(TorchClickAdapter):
    """SIIS (Lin et al.): the modified DeepLab v3+ with ICP and OPO; options
    ``SIISOptions``.

    Per image the backbone runs once (it sees no click); each click runs the purification
    module of the current category and the head. The first click of a sample (an accepted
    proposal or the user's own) joins the current category's click bank.

    Raises:
        UsageError: an unknown option or a value of the wrong type.
        AdapterError: no usable weights, or a bad device.
        UsageError: an out-of-range option.
    """

    name = "siis"
    options_class = SIISOptions
    model_type = "siis"
    default_variant = "siis"

    def __init__(self, **options: Any):
        super().__init__(**options)
        self.options: SIISOptions
        self.model.requires_grad_(False)  # OPO trains per-category copies only
        self.category: str | None = None
        self.states: dict[str, CategoryState] = {}
        self.seed = self.options.seed
        self._features: dict[Any, Any] = {}

    # -- per-category state ---------------------------------------------------------------
    def reset_learning(self) -> None:
        """Forget every click bank, purification copy and OPO memory."""
        self.states.clear()

    def set_category(self, category: Any) -> None:
        """Select the category of the coming sample (None: the base network, no bank)."""
        self.category = None if category is None else str(category)

    def state(self, category: str) -> CategoryState:
        """The category's state, created empty (its OPO generator seeded from the adapter
        seed and the category's CRC-32)."""
        import zlib

        if category not in self.states:
            entropy = [int(self.seed), zlib.crc32(category.encode("utf-8"))]
            self.states[category] = CategoryState(
                [], None, [], np.random.default_rng(np.random.SeedSequence(entropy)))
        return self.states[category]

    def purification(self, category: str | None) -> Any:
        """The purification module used for `category`: its OPO copy once it has one, else
        the network's own."""
        st = self.states.get(category) if category is not None else None
        return st.purification if st is not None and st.purification is not None \
            else self.model.purification

    # -- inference --------------------------------------------------------------------------
    def set_image(self, image: np.ndarray) -> None:
        super().set_image(image)
        self._features = {}

    def _working_shape(self) -> tuple[int, int]:
        full = self._loaded_image().shape[:2]
        s = self._scale(full)
        return max(1, int(round(full[0] * s))), max(1, int(round(full[1] * s)))

    def _backbone(self, box: Box | None, shape: tuple[int, int]) -> Any:
        """The stage outputs of the image (or the zoomed `box`) at `shape`, cached."""
        from iseg_bench.models.zoom_in import crop_resize

        key = (box, tuple(shape))
        if key not in self._features:
            image = self._loaded_image()
            img = self._resize(image, shape) if box is None else crop_resize(image, box, shape)
            self._features[key] = self.model.backbone_features(self._image_tensor(img))
        return self._features[key]

    def _run(self, clicks: Clicks, prev_prob: np.ndarray, box: Box | None,
             shape: tuple[int, int]) -> np.ndarray:
        import torch

        from iseg_bench.models.siis import click_embedding, click_maps

        full = self._loaded_image().shape[:2]
        if box is None:
            c = self._map_clicks(clicks, shape[0] / full[0], shape[1] / full[1])
        else:
            c = self._map_clicks(clicks, shape[0] / (box[1] - box[0]),
                                 shape[1] / (box[3] - box[2]), box[0], box[2])
        reduced = self.model.purify(self._backbone(box, shape), self.purification(self.category))
        maps = self._tensor(click_maps(c, shape, self.model.config.click_sigma)[None])
        logits = self.model.head(reduced, maps)
        if len(clicks) == 1 and clicks[0][2] and self.category is not None and box is None:
            y, x, _ = c[0]
            self.state(self.category).bank.append(
                click_embedding(reduced[-1][0].float(), (y, x), shape))
        prob: np.ndarray = torch.sigmoid(logits.float())[0, 0].cpu().numpy()
        return prob

    def propose_click(self, image: np.ndarray, category: Any,
                      ignore: np.ndarray) -> tuple[int, int] | None:
        """ICP (Sec. 3.2, Eq. 2): the pixel outside `ignore` whose mean-filtered mean cosine
        similarity of R4 to the category's click bank is highest; None with an empty bank.

        Args:
            image: (H, W, 3) uint8 RGB (the sample's; ``set_image`` is called here when it
                differs from the current one).
            category: the category key.
            ignore: (H, W) bool, the finished annotations on this image (I <- I u A).

        Returns:
            (y, x) int pixel of the original image, or None.
        """
        import torch

        from iseg_bench.models.siis import proposal_confidence, propose_point

        st = self.states.get(str(category)) if category is not None else None
        if st is None or not st.bank:
            return None
        if self.image is None or self.image.shape != image.shape \
                or not np.array_equal(self.image, image):
            self.set_image(image)
        with torch.inference_mode():
            feats = self._backbone(None, self._working_shape())
            r4 = self.model.purify(feats, self.purification(str(category)))[-1][0].float()
            conf = proposal_confidence(r4, torch.stack(st.bank), image.shape[:2],
                                       self.options.icp_filter)
        return propose_point(conf, ignore)

    # -- online purification optimisation -------------------------------------------------
    def learn(self, image: np.ndarray, category: Any, mask: np.ndarray,
              clicks: list[Interaction] | tuple[Interaction, ...] = ()) -> None:
        """OPO (Sec. 3.3): store the finished annotation in the category's memory, then run
        ``opo_iterations`` SGD steps on the category's purification parameters only, each on
        a batch of ``opo_batch`` (the newest annotation and uniform draws with replacement
        from the memory), with clicks simulated from the annotations and BCE.

        Args:
            image: (H, W, 3) uint8 RGB.
            category: the category (None: nothing is learned).
            mask: (H, W) bool supervision (the final prediction, or the ground truth).
            clicks: the finished annotation's interactions (not used: OPO simulates its own
                clicks; the first click already joined the bank during the session).

        Raises:
            AdapterError: the mask's shape differs from the image's.
        """
        import cv2
        import torch

        from iseg_bench.models.siis import SGD_MOMENTUM, WEIGHT_DECAY, opo_step, training_batch

        del clicks
        if category is None:
            return
        if mask.shape != image.shape[:2]:
            raise AdapterError(f"siis.learn: mask {mask.shape} vs image {image.shape[:2]}")
        if not mask.any():
            return  # an empty annotation has no object to learn
        opts = self.options
        st = self.state(str(category))
        s = opts.crop_size / min(mask.shape)
        size = (max(1, int(round(mask.shape[1] * s))), max(1, int(round(mask.shape[0] * s))))
        st.memory.append((cv2.resize(image, size, interpolation=cv2.INTER_LINEAR),
                          cv2.resize(mask.astype(np.uint8), size,
                                     interpolation=cv2.INTER_NEAREST).astype(bool)))
        if opts.memory_size is not None:
            del st.memory[:-opts.memory_size]
        if st.purification is None:
            st.purification = copy.deepcopy(self.model.purification).requires_grad_(True)
        optimizer = torch.optim.SGD(st.purification.parameters(), lr=opts.opo_lr,
                                    momentum=SGD_MOMENTUM, weight_decay=WEIGHT_DECAY)
        self.model.eval()
        for _ in range(opts.opo_iterations):
            draws = st.rng.integers(0, len(st.memory), opts.opo_batch - 1)
            pairs = [st.memory[-1]] + [st.memory[int(i)] for i in draws]
            batch = training_batch(pairs, opts.crop_size, st.rng,
                                   self.model.config.click_sigma, device=self.device)
            opo_step(self.model, st.purification, optimizer, *batch)

    def describe(self) -> dict[str, Any]:
        o = self.options
        return {**super().describe(), "icp_filter": o.icp_filter,
                "opo_iterations": o.opo_iterations, "opo_batch": o.opo_batch,
                "opo_lr": o.opo_lr, "crop_size": o.crop_size, "memory_size": o.memory_size}
