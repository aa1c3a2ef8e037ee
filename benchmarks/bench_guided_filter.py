"""Float32 accuracy and time of the guided filter (``iseg_bench.models.guided_filter``).

Usage::

    python benchmarks/bench_guided_filter.py [--size 2000x3000] [--radius 2] [--eps 1e-8]
        [--threads N]

Prints, for two inputs, the maximum absolute difference between the float32 result and the
same filter computed in float64, and the float32 seconds:

* noisy: guide uniform in [-2, 2], input uniform in [0, 1] (every window has a large
  variance);
* smooth: guide = bilinear upsampling (x40) of Gaussian noise + 1.5, input uniform in
  [0, 1] (small window variances: the hard case for float32 with eps = 1e-8).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", default="2000x3000", help="HxW")
    ap.add_argument("--radius", type=int, default=2)
    ap.add_argument("--eps", type=float, default=1e-8)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args(argv)

    import torch
    import torch.nn.functional as F

    from iseg_bench.models.guided_filter import guided_filter

    if args.threads:
        torch.set_num_threads(args.threads)
    h, w = (int(v) for v in args.size.lower().split("x"))
    gen = torch.Generator().manual_seed(0)
    src = torch.rand(1, 1, h, w, generator=gen, dtype=torch.float64)
    noisy = torch.rand(1, 1, h, w, generator=gen, dtype=torch.float64) * 4 - 2
    coarse = torch.randn(1, 1, max(1, h // 40), max(1, w // 40), generator=gen,
                         dtype=torch.float64)
    smooth = F.interpolate(coarse, size=(h, w), mode="bilinear", align_corners=False) + 1.5
    for name, guide in (("noisy", noisy), ("smooth", smooth)):
        ref = guided_filter(guide, src, args.radius, args.eps)
        t0 = time.perf_counter()
        got = guided_filter(guide.float(), src.float(), args.radius, args.eps)
        seconds = time.perf_counter() - t0
        err = float((got.double() - ref).abs().max())
        print(f"{h}x{w} {name}: max |float32 - float64| = {err:.3g}, float32 {seconds:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
