"""The sam and sam2 adapters on their toy random configurations (no download): prompts
change the output as the models' API defines, the encoder runs in set_image and is timed,
and an original SAM .pth file (original key names) loads into the same weights."""

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from iseg_bench.adapters.segment_anything import Sam2Adapter, SamAdapter  # noqa: E402
from iseg_bench.errors import AdapterError  # noqa: E402
from iseg_bench.models.segment_anything import load_sam_family, sam_config  # noqa: E402
from iseg_bench.protocols.single_object import run_session  # noqa: E402
from iseg_bench.robots.box import BoxClicksRobot  # noqa: E402
from iseg_bench.types import Box, Click, Sample  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:.*random weights")

IMAGE = np.random.default_rng(0).integers(0, 256, (48, 64, 3), dtype=np.uint8)
ZEROS = np.zeros((48, 64), np.float32)


def toy(cls: type, **opts: Any) -> Any:
    return cls(**{"random_init": True, "model_type": "toy", "device": "cpu",
                  "output": "sigmoid", **opts})


@pytest.fixture(scope="module", params=[SamAdapter, Sam2Adapter], ids=["sam", "sam2"])
def adapter(request: pytest.FixtureRequest) -> Any:
    a = toy(request.param)
    a.set_image(IMAGE)
    return a


def test_output_is_a_probability_map_of_the_image(adapter: Any) -> None:
    prob = adapter.predict([Click(10, 20, True)], ZEROS)
    assert prob.shape == (48, 64) and prob.dtype == np.float32
    assert 0.0 <= prob.min() and prob.max() <= 1.0


def logits(adapter: Any, history: list[Any]) -> Any:
    """The low-resolution logits of one call without a previous mask."""
    adapter.logits = None
    adapter.predict(history, ZEROS)
    return adapter.logits.clone()


def differ(a: Any, b: Any) -> bool:
    """Apart by more than 1 % of the logits' spread (random toy weights give small logits;
    the same prompt gives bit-identical ones)."""
    return bool((a - b).abs().max() > 0.01 * a.std())


def test_the_click_label_is_a_prompt(adapter: Any) -> None:
    # the API embeds label 1 and label 0 with different point embeddings
    pos = logits(adapter, [Click(10, 20, True)])
    assert torch.equal(pos, logits(adapter, [Click(10, 20, True)]))
    assert differ(pos, logits(adapter, [Click(10, 20, False)]))


def test_a_box_is_a_prompt(adapter: Any) -> None:
    clicks = [Click(10, 20, True), Click(30, 40, True)]
    assert differ(logits(adapter, clicks), logits(adapter, [Box(5, 5, 40, 60), *clicks]))


@pytest.mark.parametrize("cls", [SamAdapter, Sam2Adapter], ids=["sam", "sam2"])
def test_previous_logits_feed_the_mask_prompt(cls: type) -> None:
    # the mask prompt replaces the "no mask" embedding: the second call differs with it
    outs = []
    for feed in (True, False):
        a = toy(cls, feed_logits=feed)
        a.set_image(IMAGE)
        a.predict([Click(10, 20, True)], ZEROS)
        a.predict([Click(10, 20, True), Click(30, 40, False)], ZEROS)
        outs.append(a.logits.clone())
    assert differ(outs[0], outs[1])


def test_mask_output_is_the_kept_logits_above_the_threshold() -> None:
    a = toy(SamAdapter)
    a.set_image(IMAGE)
    a.predict([Click(10, 20, True)], ZEROS)
    full = a._upsample(a.logits).numpy()
    threshold = float(np.median(full))
    b = toy(SamAdapter, output="mask", mask_threshold=threshold)
    b.set_image(IMAGE)
    mask = b.predict([Click(10, 20, True)], ZEROS)
    assert set(np.unique(mask)) == {0.0, 1.0}
    np.testing.assert_array_equal(mask == 1.0, full > threshold)


def test_first_click_keeps_the_best_of_three_masks() -> None:
    a = toy(SamAdapter)
    a.set_image(IMAGE)
    calls: list[bool] = []
    model = a.model

    def spy(**kw: Any) -> Any:
        calls.append(kw["multimask_output"])
        return model(**kw)

    a.model = spy
    a.predict([Click(10, 20, True)], ZEROS)
    a.predict([Click(10, 20, True), Click(30, 40, False)], ZEROS)
    a.predict([Box(1, 1, 30, 30)], ZEROS)
    assert calls == [True, False, False]


def test_set_image_encodes_and_is_timed_as_encoder_seconds() -> None:
    target = np.zeros((48, 64), bool)
    target[10:30, 15:45] = True
    sample = Sample(IMAGE, target, np.zeros_like(target), "s0", "toy")
    cfg = SimpleNamespace(prob_threshold=0.49, max_interactions=3, stop_at_iou=None)
    ctx = SimpleNamespace(config=cfg, adapter=toy(SamAdapter), robot=BoxClicksRobot())
    rows = run_session(sample, ctx)  # type: ignore[arg-type]
    assert [r["kind"] for r in rows] == ["box", "click", "click"]
    assert rows[0]["points"] == [[10, 15], [29, 44]]
    assert all(r["encoder_seconds"] > 0 for r in rows)
    assert len({r["encoder_seconds"] for r in rows}) == 1


# -- the original SAM file -----------------------------------------------------------------
#: transformers name -> original name, written from the original module names
#: (segment_anything/modeling/*.py), independently of the adapter's rules
ORIGINAL_NAMES = [
    ("vision_encoder.", "image_encoder."), (".layers.", ".blocks."),
    (".patch_embed.projection.", ".patch_embed.proj."),
    (".neck.conv1.", ".neck.0."), (".neck.layer_norm1.", ".neck.1."),
    (".neck.conv2.", ".neck.2."), (".neck.layer_norm2.", ".neck.3."),
    (".layer_norm1.", ".norm1."), (".layer_norm2.", ".norm2."), (".layer_norm3.", ".norm3."),
    (".layer_norm4.", ".norm4."), (".layer_norm_final_attn.", ".norm_final_attn."),
    ("prompt_encoder.shared_embedding.positional_embedding",
     "prompt_encoder.pe_layer.positional_encoding_gaussian_matrix"),
    (".point_embed.", ".point_embeddings."),
    (".mask_embed.conv1.", ".mask_downscaling.0."),
    (".mask_embed.mask_downscaling.1.", ".mask_downscaling.1."),
    (".mask_embed.conv2.", ".mask_downscaling.3."), (".mask_embed.conv3.", ".mask_downscaling.6."),
    (".upscale_conv1.", ".output_upscaling.0."), (".upscale_layer_norm.", ".output_upscaling.1."),
    (".upscale_conv2.", ".output_upscaling.3."),
]


def original_name(key: str) -> str:
    for new, old in ORIGINAL_NAMES:
        key = key.replace(new, old)
    # mask_embed.layer_norm1/2 became norm1/2 above; they are mask_downscaling.1 and .4
    key = key.replace(".mask_embed.norm1.", ".mask_downscaling.1.")
    key = key.replace(".mask_embed.norm2.", ".mask_downscaling.4.")
    for head in ("iou_prediction_head",) + tuple(f"output_hypernetworks_mlps.{i}"
                                                 for i in range(4)):
        key = key.replace(f"{head}.blocks.0.", f"{head}.layers.1.")
        key = key.replace(f"{head}.proj_in.", f"{head}.layers.0.")
        key = key.replace(f"{head}.proj_out.", f"{head}.layers.2.")
    key = key.replace("mask_decoder.transformer.blocks.", "mask_decoder.transformer.layers.")
    return key


def test_original_sam_pth_loads_into_the_same_weights(tmp_path: Any) -> None:
    from transformers import SamModel

    torch.manual_seed(3)
    source = SamModel(sam_config("toy")).eval()
    state = {original_name(k): v.clone() for k, v in source.state_dict().items()
             if k != "shared_image_embedding.positional_embedding"}
    assert "image_encoder.blocks.0.norm1.weight" in state
    assert "mask_decoder.iou_prediction_head.layers.2.bias" in state
    state["pixel_mean"] = torch.tensor([123.675, 116.28, 103.53]).view(-1, 1, 1)
    state["pixel_std"] = torch.tensor([58.395, 57.12, 57.375]).view(-1, 1, 1)
    path = tmp_path / "sam_toy.pth"
    torch.save(state, path)
    model, weights = load_sam_family("sam", "toy", str(path), False, 0, torch.device("cpu"))
    assert weights == str(path)
    got, want = model.state_dict(), source.state_dict()
    assert got.keys() == want.keys()
    assert all(torch.equal(got[k], want[k]) for k in want)

    del state["mask_decoder.iou_token.weight"]
    torch.save(state, path)
    with pytest.raises(AdapterError, match="mask_decoder.iou_token.weight"):
        load_sam_family("sam", "toy", str(path), False, 0, torch.device("cpu"))


def test_no_weights_is_one_clear_error() -> None:
    with pytest.raises(AdapterError, match="random-init"):
        SamAdapter(model_type="toy")
    with pytest.raises(AdapterError, match="unknown model_type"):
        SamAdapter(model_type="vit_x", random_init=True)


def test_sizes_build_the_released_architectures() -> None:
    # transformers' default configurations are SAM ViT-B's encoder and SAM 2.1 Hiera-tiny
    from transformers import Sam2Config, Sam2Model, SamConfig, SamModel

    from iseg_bench.models.segment_anything import sam2_config

    def shapes(model: Any) -> dict[str, tuple[int, ...]]:
        return {k: tuple(v.shape) for k, v in model.state_dict().items()}

    with torch.device("meta"):
        assert shapes(SamModel(sam_config("vit_b"))) == shapes(SamModel(SamConfig()))
        assert shapes(Sam2Model(sam2_config("tiny"))) == shapes(Sam2Model(Sam2Config()))
