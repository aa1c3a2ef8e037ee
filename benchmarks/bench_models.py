"""Cost of the bundled models: parameters, FLOPs and seconds per click or stroke (first vs
later).

Usage::

    python benchmarks/bench_models.py [--device cpu|cuda|auto] [--size 384x384]
        [--clicks 5] [--repeats 3] [--threads N] [--variants emc-click,emc-click-b3,acc99net]
        [--bf16] [--json out.json]
    python benchmarks/bench_models.py --variants scribbleseg,scribbleseg-b3 --size 480x854

* Parameters: all parameters of the model (EMC-Click: base + correction network; the
  correction network alone is listed too, as in Du et al. 2023, Tab. 1).
* FLOPs: ``torch.utils.flop_counter.FlopCounterMode`` (multiply-adds count 2 FLOPs; Du et al.
  Tab. 1 reports multiply-adds, i.e. half of these numbers) on one (H, W) image:
  EMC-Click first click = base network + correction network, later click = correction
  network only; acc99net and ScribbleSeg run the whole network at every interaction
  (ScribbleSeg at its 384 x 384 input, whatever the image size).
* Seconds per click: wall time of the adapter's ``predict`` (pre- and post-processing
  included, the model at the image's own resolution: ``short_side=None``), random weights
  (``random_init``; timing does not depend on the values), one warm-up sample first; the
  first click of each sample and the mean of its later clicks, medians over `repeats`
  samples. Clicks: a positive click in the centre, then alternating clicks on a grid.
  Scribble-only models (ScribbleSeg) get 41-px horizontal strokes, 3 px thick, centred on
  those click positions (the model input is 384 x 384 either way; from the second stroke
  the adapter zooms in).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

VARIANTS = {"emc-click": ("EMCClickAdapter", "emc-click"),
            "emc-click-b3": ("EMCClickAdapter", "emc-click-b3"),
            "acc99net": ("Acc99NetAdapter", "acc99net"),
            "emc-click-tiny": ("EMCClickAdapter", "emc-click-tiny"),
            "acc99net-tiny": ("Acc99NetAdapter", "acc99net-tiny"),
            "scribbleseg": ("ScribbleSegAdapter", "scribbleseg"),
            "scribbleseg-b3": ("ScribbleSegAdapter", "scribbleseg-b3"),
            "scribbleseg-tiny": ("ScribbleSegAdapter", "scribbleseg-tiny")}
STROKE_HALF_LENGTH = 20     # px: benchmark strokes are 41 px long


def _clicks(h: int, w: int, n: int):
    from iseg_bench.types import Click

    out = [Click(h // 2, w // 2, True)]
    for k in range(1, n):
        out.append(Click((h * (k % 4 + 1)) // 6, (w * (k * 3 % 5 + 1)) // 7, k % 2 == 0))
    return out


def _interactions(adapter, h: int, w: int, n: int):
    """The click sequence, or strokes centred on it for a scribble-only adapter."""
    from iseg_bench.types import Scribble

    clicks = _clicks(h, w, n)
    if "click" in adapter.accepts:
        return clicks
    return [Scribble(np.array([[c.y, max(c.x - STROKE_HALF_LENGTH, 0)],
                               [c.y, min(c.x + STROKE_HALF_LENGTH, w - 1)]], dtype=np.float64),
                     c.is_positive, 3) for c in clicks]


def seconds_per_click(adapter, hw, n_clicks: int, repeats: int, device) -> tuple[float, float]:
    import torch

    rng = np.random.default_rng(0)
    clicks = _interactions(adapter, *hw, n_clicks)

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    firsts, laters = [], []
    for rep in range(repeats + 1):  # the first sample warms up
        image = rng.integers(0, 256, (*hw, 3), dtype=np.uint8)
        adapter.set_image(image)
        prob = np.zeros(hw, np.float32)
        times = []
        for k in range(1, n_clicks + 1):
            sync()
            t0 = time.perf_counter()
            prob = adapter.predict(clicks[:k], prob)
            sync()
            times.append(time.perf_counter() - t0)
        if rep:
            firsts.append(times[0])
            laters.append(float(np.mean(times[1:])) if len(times) > 1 else float("nan"))
    return statistics.median(firsts), statistics.median(laters)


def common_parser(doc: str) -> argparse.ArgumentParser:
    """The options every model benchmark takes: device, image size, clicks, repeats, CPU
    threads and the JSON output."""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--size", default="384x384", help="HxW of the synthetic image")
    ap.add_argument("--clicks", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    ap.add_argument("--json", default=None, help="also write the rows to this JSON file")
    return ap


def main(argv=None) -> int:
    ap = common_parser(__doc__)
    ap.add_argument("--variants", default="emc-click,emc-click-b3,acc99net")
    ap.add_argument("--bf16", action="store_true")
    args = ap.parse_args(argv)

    import torch

    from iseg_bench.adapters import scribbleseg, torch_models
    from iseg_bench.models.flops import click_flops
    from iseg_bench.models.runtime import resolve_device

    warnings.filterwarnings("ignore", message=".*random weights.*")
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    hw = tuple(int(v) for v in args.size.lower().split("x"))
    rows = []
    for name in args.variants.split(","):
        factory, variant = VARIANTS[name]
        if factory == "ScribbleSegAdapter":
            adapter = scribbleseg.ScribbleSegAdapter(device=str(device), random_init=True,
                                                     variant=variant, bf16=args.bf16)
        else:
            adapter = getattr(torch_models, factory)(device=str(device), random_init=True,
                                                     variant=variant, short_side=None,
                                                     bf16=args.bf16)
        model = adapter.model
        params = sum(p.numel() for p in model.parameters())
        corr = (sum(p.numel() for p in model.correction.parameters())
                if model.model_type == "emc-click" else None)
        flops_hw = ((model.config.input_size,) * 2 if model.model_type == "scribbleseg"
                    else hw)
        f1, f2 = click_flops(model, flops_hw, device)
        s1, s2 = seconds_per_click(adapter, hw, args.clicks, args.repeats, device)
        rows.append(dict(variant=name, device=str(device), size=f"{hw[0]}x{hw[1]}",
                         params_M=round(params / 1e6, 3),
                         correction_params_M=None if corr is None else round(corr / 1e6, 3),
                         gflops_first=round(f1 / 1e9, 2), gflops_later=round(f2 / 1e9, 2),
                         later_over_first=round(f2 / f1, 3), s_first=round(s1, 4),
                         s_later=round(s2, 4),
                         threads=torch.get_num_threads(), bf16=args.bf16))
        print(json.dumps(rows[-1]), flush=True)
    head = ["variant", "device", "size", "params_M", "correction_params_M", "gflops_first",
            "gflops_later", "later_over_first", "s_first", "s_later", "threads", "bf16"]
    print("\n| " + " | ".join(head) + " |\n|" + "---|" * len(head))
    for r in rows:
        print("| " + " | ".join(str(r[h]) for h in head) + " |")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
