"""Sequential protocol: category streams with initial-click proposals and online learning.

Source: Lin et al., "Sequential Interactive Image Segmentation" (SIIS), Sec. 3.2 (initial
click proposal, Eq. 2, the ignore mask I <- I u A), Sec. 3.3 (online learning after every
finished annotation; delay delta: the n-th object is segmented with the model trained on
the first n - delta samples), Sec. 4.1 (NoC with a robot; "the value of NoC when using
online training is the mean value of 5 experiments"), Tab. 1 (NoC@85/90 with and without
the proposal; Delta NoC <= 1) and Fig. 4a (NoC against the amount of online training).

Units and orders
    A unit is one (category, order) stream: the samples of one category, permuted by
    ``numpy.random.default_rng(SeedSequence([seed + r, crc32(category)]))`` for order
    r = 0..R-1 (R = ``orders``, default 5, as the paper averages 5 experiments). The order
    index enters as ``seed + r``; the category's CRC-32 makes streams of equally long
    categories independent. ``config.limit`` keeps the first N dataset samples (by index)
    before streams are formed; ``max_per_category`` (default None = all) keeps the first
    M samples (by index) of each category. Samples whose category is None form one stream
    named ``NO_CATEGORY``. Categories are read from ``SampleRef.meta["category"]`` when every
    ref carries it, else each sample is loaded once in the parent process to read it.

Arms (with / without proposals)
    ``proposals``: "both" (default), "on" or "off". With "both" each unit runs the stream
    twice, first without proposals, then with them, each arm with a fresh adapter (below), so
    Delta NoC = NoC(off) - NoC(on) is paired stream by stream. When the adapter has no
    ``propose_click`` the "on" arm would equal the "off" arm and is not run; its figures are
    reported as the "off" figures and Delta NoC is 0.

One sample of a stream
    1. Proposal (arm "on", adapter has ``propose_click``): the adapter gets the image, the
       category and the proposal ignore mask: the union of the finished annotations of the
       earlier samples of this stream that share the same image (same pixels; SIIS Sec. 3.2,
       I <- I u A). It returns (y, x) or None (no proposal, e.g. an empty click bank). The
       robot accepts it iff (y, x) lies inside the image, on the target, outside the
       sample's ignore mask and outside the proposal ignore mask. An accepted proposal is
       applied as the first positive click (model called, IoU scored) and costs the user
       nothing; a rejected one is discarded (not in the history) and the robot places its
       own first click as usual.
    2. User clicks: up to ``config.max_interactions`` robot interactions, through
       ``single_object.step`` (the same loop as the single-object protocol), stopping early
       at ``config.stop_at_iou`` -- also when the accepted proposal alone reaches it.
    3. The finished annotation (``learn_from``: "gt", the ground truth, default; or
       "prediction", the final thresholded prediction) joins the proposal ignore mask of its
       image and is queued for learning.
    Learning (adapter has ``learn``): before sample n (1-based position) is started, every
    queued sample at position <= n - delta is taught to the adapter, oldest first, with
    ``learn(image, category, annotation)``; ``learn_delay`` delta >= 1 (default 1: each
    sample uses the model trained on all earlier samples; delta = 2: on all but the last).
    At the end of the stream the queue is flushed, so every sample is learned exactly once.
    Learning time is measured separately (``learn_seconds``), never in ``model_seconds``.

Fresh adapters
    Streams must not see each other's learning, in one process or across workers. At the
    start of every arm: an adapter with neither hook is used as is (it has no state across
    samples); an adapter with a hook and a ``reset_learning()`` method is reset; otherwise a
    ``copy.deepcopy`` of the pristine adapter built by ``build_context`` (never used
    directly) is taken.

Figures (``summarize``; t in ``config.iou_thresholds``)
    Per session (one sample in one arm of one order) an IoU curve over user clicks 0..K
    (K = max_interactions): entry 0 is the IoU after the accepted proposal, 0.0 without one;
    entries 1..K after each user click, the last value carried forward after an early stop.
    NoC@t = first user-click count k in 0..K with IoU >= t, else K (user clicks only: NoC 0
    when the accepted proposal alone reaches t). NoF@t = sessions never reaching t within
    0..K. ``compat="ritm"`` uses RITM's float thresholds (metrics.effective_threshold).
    Every figure is computed per order and reported as the mean over orders with the
    population standard deviation over orders (``*_std``, ddof = 0) -- NoF is the mean count
    per order. mIoU@k / AuC use user clicks 1..K. Acceptance rate = accepted / proposed;
    proposal rate = proposed / samples. The learning curve (Fig. 4a) is NoC@t at each stream
    position (1-based), averaged over the categories that have that position, then over
    orders. Top-level ``noc``/``nof``/``miou``/``auc``/``seconds_per_click`` are those of
    the arm with proposals when it ran (else of the "off" arm), so ``iseg-bench report``
    shows them; ``splits`` holds the "without proposals" arm so the report adds its row.

Records: one row per (arm, order, sample, interaction) in stream order, with
``interaction`` = user-click index (0 = the accepted proposal), ``step`` = model-call
index, ``source`` ("proposal" / "user"), ``order``, ``position``, ``arm``,
``proposal_y``/``proposal_x`` (None when none), ``proposal_made``, ``proposal_accepted``,
``proposal_seconds``, ``learned_samples`` (how many samples the model had learned before
this sample), ``learn_seconds`` (time of learning from this sample; None without ``learn``)
and ``session`` (unique session key).
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import time
import zlib
from collections import deque
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from iseg_bench import metrics
from iseg_bench.adapters.base import has_hook
from iseg_bench.datasets.base import Dataset
from iseg_bench.errors import SampleError
from iseg_bench.protocols.base import Protocol, Unit, WorkerContext
from iseg_bench.protocols.single_object import SessionState, step
from iseg_bench.types import Click, Interaction, Sample

DEFAULT_ORDERS = 5  # SIIS Sec. 4.1: NoC with online training is the mean of 5 experiments
DEFAULT_LEARN_DELAY = 1  # SIIS Sec. 3.3: sample n uses the model trained on n - delta samples
LEARN_FROM = ("gt", "prediction")
PROPOSAL_MODES = ("both", "on", "off")
NO_CATEGORY = "<none>"
ARM_ON, ARM_OFF = "proposals", "no-proposals"
OPTIONS = ("orders", "learn_from", "learn_delay", "proposals", "max_per_category")


def stream_order(n: int, seed: int, order: int, category: str) -> np.ndarray:
    """(n,) int64 permutation of 0..n-1: the order-th stream order of `category`.

    Drawn from ``default_rng(SeedSequence([seed + order, crc32(category utf-8)]))``; the
    same arguments always give the same permutation, in any process.
    """
    entropy = [int(seed) + int(order), zlib.crc32(str(category).encode("utf-8"))]
    rng = np.random.default_rng(np.random.SeedSequence(entropy))
    return rng.permutation(int(n))


def proposal_accepted(point: tuple[int, int] | None, target: np.ndarray, ignore: np.ndarray,
                      annotated: np.ndarray) -> bool:
    """The robot's acceptance rule for an initial-click proposal (SIIS Sec. 3.2).

    Args:
        point: (y, x) int pixel, or None (no proposal).
        target, ignore, annotated: (H, W) bool -- the object, the sample's ignore mask and
            the union of finished annotations on this image.

    Returns:
        True iff the point is inside the image, on the target and on neither mask.
    """
    if point is None:
        return False
    y, x = point
    h, w = target.shape
    if not (0 <= y < h and 0 <= x < w):
        return False
    return bool(target[y, x] and not ignore[y, x] and not annotated[y, x])


def _as_point(raw: Any) -> tuple[int, int] | None:
    """A propose_click result as an int (y, x) pair or None; SampleError if malformed."""
    if raw is None:
        return None
    try:
        y, x = raw
        fy, fx = float(y), float(x)
    except (TypeError, ValueError) as exc:
        raise SampleError(f"propose_click returned {raw!r}; expected (y, x) or None") from exc
    if not (np.isfinite(fy) and np.isfinite(fx)):
        raise SampleError(f"propose_click returned a non-finite point {raw!r}")
    return int(round(fy)), int(round(fx))


def image_key(image: np.ndarray) -> str:
    """Identity of an image's pixels (shape + SHA-1 of the bytes): samples that share it are
    instances of the same image for the proposal ignore mask."""
    return f"{image.shape}:{hashlib.sha1(np.ascontiguousarray(image).tobytes()).hexdigest()}"


class _FixedRobot:
    """A robot that places one given interaction (used to apply an accepted proposal
    through the shared ``step``)."""

    kind = "click"

    def __init__(self, interaction: Interaction):
        self.interaction = interaction

    def next_interaction(self, target, ignore, pred, history) -> Interaction:
        return self.interaction


class _LazyStream:
    """The samples of a stream, loaded one at a time when iterated (a category of
    Fashionpedia or LeedsButterfly holds hundreds of images; only the current sample and
    the delta - 1 queued for learning are held)."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]):
        self.dataset, self.indices = dataset, tuple(indices)

    def __len__(self) -> int:
        return len(self.indices)

    def __iter__(self):
        return (self.dataset.load(i) for i in self.indices)


@dataclasses.dataclass
class _Pending:
    position: int
    image: np.ndarray
    category: str | None
    annotation: np.ndarray
    rows: list[dict[str, Any]]


class SequentialProtocol(Protocol):
    """SIIS sequential protocol (see the module docstring for every rule and constant).

    Protocol options (``config.protocol_options``): orders (int >= 1, default 5),
    learn_from ("gt" | "prediction", default "gt"), learn_delay (int >= 1, default 1),
    proposals ("both" | "on" | "off", default "both"), max_per_category (int >= 1 or None).

    Raises:
        ValueError: on an unknown or invalid option (at construction).
    """

    name = "sequential"
    unit_name = "stream"

    def __init__(self, config):
        super().__init__(config)
        opts = dict(config.protocol_options or {})
        unknown = sorted(set(opts) - set(OPTIONS))
        if unknown:
            raise ValueError(f"sequential protocol: unknown option(s) {', '.join(unknown)}; "
                             f"known: {', '.join(OPTIONS)}")
        self.orders = int(opts.get("orders", DEFAULT_ORDERS))
        self.learn_from = str(opts.get("learn_from", "gt"))
        self.learn_delay = int(opts.get("learn_delay", DEFAULT_LEARN_DELAY))
        self.proposals = str(opts.get("proposals", "both"))
        mpc = opts.get("max_per_category")
        self.max_per_category = None if mpc is None else int(mpc)
        if self.orders < 1:
            raise ValueError(f"sequential protocol: orders must be >= 1, got {self.orders}")
        if self.learn_from not in LEARN_FROM:
            raise ValueError(f"sequential protocol: learn_from must be one of {LEARN_FROM}, "
                             f"got {self.learn_from!r}")
        if self.learn_delay < 1:
            raise ValueError("sequential protocol: learn_delay must be >= 1 (delta = 0 would "
                             "train on the sample being segmented; 1 = no delay)")
        if self.proposals not in PROPOSAL_MODES:
            raise ValueError(f"sequential protocol: proposals must be one of "
                             f"{PROPOSAL_MODES}, got {self.proposals!r}")
        if self.max_per_category is not None and self.max_per_category < 1:
            raise ValueError("sequential protocol: max_per_category must be >= 1")

    # ------------------------------------------------------------------ units

    def categories(self, dataset: Dataset) -> dict[str, list[int]]:
        """{category: dataset indices in index order}, categories sorted by name; honours
        config.limit (first N indices) and max_per_category."""
        n = len(dataset) if self.config.limit is None else min(self.config.limit, len(dataset))
        refs = dataset.refs[:n] if hasattr(dataset, "refs") else None
        if refs is not None and all("category" in (r.meta or {}) for r in refs):
            cats = [r.meta["category"] for r in refs]
        else:
            cats = [dataset.load(i).meta.get("category") for i in range(n)]
        groups: dict[str, list[int]] = {}
        for i, c in enumerate(cats):
            groups.setdefault(NO_CATEGORY if c is None else str(c), []).append(i)
        if self.max_per_category is not None:
            groups = {c: idx[:self.max_per_category] for c, idx in groups.items()}
        return dict(sorted(groups.items()))

    def units(self, dataset: Dataset) -> list[Unit]:
        """One unit per (order, category): unit id ``"<category>/order<r>"``, indices in
        stream order, payload {"category", "order"}. Orders vary slowest, so a partial run
        covers every category for the first orders."""
        groups = self.categories(dataset)
        units = []
        for r in range(self.orders):
            for cat, idx in groups.items():
                perm = stream_order(len(idx), self.config.seed, r, cat)
                units.append(Unit(f"{cat}/order{r}", tuple(idx[int(p)] for p in perm),
                                  {"category": cat, "order": r}))
        return units

    # ------------------------------------------------------------------ evaluation

    def _arms(self, adapter) -> list[str]:
        if self.proposals == "off" or not has_hook(adapter, "propose_click"):
            return [ARM_OFF]
        return [ARM_ON] if self.proposals == "on" else [ARM_OFF, ARM_ON]

    @staticmethod
    def fresh_adapter(adapter):
        """The adapter to start an arm with (see "Fresh adapters" in the module doc)."""
        if not (has_hook(adapter, "learn") or has_hook(adapter, "propose_click")):
            return adapter
        reset = getattr(adapter, "reset_learning", None)
        if callable(reset):
            reset()
            return adapter
        return copy.deepcopy(adapter)

    def evaluate(self, unit: Unit, ctx: WorkerContext) -> list[dict[str, Any]]:
        """Run every arm of the stream `unit`; rows in arm, then stream order."""
        samples = _LazyStream(ctx.dataset, unit.indices)
        rows: list[dict[str, Any]] = []
        for arm in self._arms(ctx.adapter):
            arm_ctx = dataclasses.replace(ctx, adapter=self.fresh_adapter(ctx.adapter))
            rows.extend(self.run_stream(samples, arm_ctx, arm, unit.payload["order"]))
        return rows

    def run_stream(self, samples: Iterable[Sample], ctx: WorkerContext, arm: str,
                   order: int = 0) -> list[dict[str, Any]]:
        """Run one arm of one stream with `ctx.adapter` as given (not reset here).

        Args:
            samples: the stream, in order (any iterable of Sample; iterated once).
            arm: ARM_ON (ask for proposals) or ARM_OFF.
            order: order index, written into the records.

        Returns:
            Record rows in stream order (see module docstring for the columns).
        """
        adapter = ctx.adapter
        learns = has_hook(adapter, "learn")
        proposes = arm == ARM_ON and has_hook(adapter, "propose_click")
        annotated: dict[str, np.ndarray] = {}  # image key -> packed (np.packbits) mask
        pending: deque[_Pending] = deque()
        learned = 0
        out: list[dict[str, Any]] = []

        def learn_one(p: _Pending) -> None:
            nonlocal learned
            t0 = time.perf_counter()
            adapter.learn(p.image, p.category, p.annotation)
            secs = time.perf_counter() - t0
            learned += 1
            for r in p.rows:
                r["learn_seconds"] = secs

        for position, sample in enumerate(samples, start=1):
            while pending and pending[0].position <= position - self.learn_delay:
                learn_one(pending.popleft())
            category = sample.meta.get("category")
            key = image_key(sample.image)
            packed = annotated.get(key)
            seen = (np.zeros(sample.shape, bool) if packed is None else
                    np.unpackbits(packed, count=sample.target.size).reshape(sample.shape)
                    .astype(bool))
            rows, final_pred, info = self._session(sample, ctx, proposes, seen)
            session = f"{arm}|o{order}|{sample.sample_id}"
            for r in rows:
                r.update(category=category, is_thing=sample.meta.get("is_thing"),
                         order=order, position=position, arm=arm, session=session,
                         learned_samples=learned, learn_seconds=None, **info)
            out.extend(rows)
            annotation = sample.target.astype(bool) if self.learn_from == "gt" else final_pred
            annotated[key] = np.packbits(seen | annotation)
            if learns:
                pending.append(_Pending(position, sample.image, category,
                                        annotation.copy(), rows))
        while pending:
            learn_one(pending.popleft())
        return out

    def _session(self, sample: Sample, ctx: WorkerContext, proposes: bool,
                 annotated: np.ndarray) -> tuple[list[dict[str, Any]], np.ndarray, dict]:
        """One sample: optional proposal, then user clicks via single_object.step.

        Returns (rows, final (H, W) bool prediction, proposal columns)."""
        cfg = ctx.config
        state = SessionState.start(sample)
        ctx.adapter.set_image(sample.image)
        point, secs = None, None
        if proposes:
            t0 = time.perf_counter()
            raw = ctx.adapter.propose_click(sample.image, sample.meta.get("category"),
                                            annotated.copy())
            secs = time.perf_counter() - t0
            point = _as_point(raw)
        accepted = proposal_accepted(point, state.target, sample.ignore, annotated)
        info = {"proposal_y": None if point is None else point[0],
                "proposal_x": None if point is None else point[1],
                "proposal_made": point is not None, "proposal_accepted": accepted,
                "proposal_seconds": secs}
        stopped = False
        if accepted:
            score = step(state, dataclasses.replace(ctx, robot=_FixedRobot(
                Click(point[0], point[1], True))))
            stopped = cfg.stop_at_iou is not None and score >= cfg.stop_at_iou
        if not stopped:
            for _ in range(cfg.max_interactions):
                score = step(state, ctx)
                if cfg.stop_at_iou is not None and score >= cfg.stop_at_iou:
                    break
        offset = 1 if accepted else 0
        for r in state.records:
            r["step"] = r["interaction"]
            r["interaction"] = r["interaction"] - offset
            r["source"] = "proposal" if r["interaction"] == 0 else "user"
        return state.records, state.pred.copy(), info

    # ------------------------------------------------------------------ figures

    def summarize(self, records: pd.DataFrame) -> dict[str, Any]:
        """Figures of the sequential protocol (see the module docstring)."""
        arms = {a: g for a, g in records.groupby("arm", sort=False)}
        figs = {a: arm_figures(g, self.config) for a, g in arms.items()}
        main = ARM_ON if ARM_ON in figs else ARM_OFF
        top = dict(figs[main])
        top["arms"] = {a: {k: v for k, v in f.items()} for a, f in figs.items()}
        top["main_arm"] = main
        top["proposal_hook"] = ARM_ON in figs
        if ARM_ON in figs and ARM_OFF in figs:
            top["delta_noc"], top["delta_noc_std"] = delta_noc(arms[ARM_OFF], arms[ARM_ON],
                                                               self.config)
            top["splits"] = {"without proposals": figs[ARM_OFF]}
        else:
            ts = [f"{t:.2f}" for t in self.config.iou_thresholds]
            top["delta_noc"] = {t: 0.0 for t in ts}
            top["delta_noc_std"] = {t: 0.0 for t in ts}
        top["protocol_options"] = {"orders": self.orders, "learn_from": self.learn_from,
                                   "learn_delay": self.learn_delay,
                                   "proposals": self.proposals,
                                   "max_per_category": self.max_per_category}
        return top


        return sequential_plots(summary, out_dir)


# ---------------------------------------------------------------------- figures helpers

def session_curves(records: pd.DataFrame, k: int) -> tuple[list[str], np.ndarray]:
    """(session keys, (S, k + 1) float64 IoU over user clicks 0..k) of one arm's records.

    Column 0 is the IoU after the accepted proposal (0.0 without one); later columns carry
    the last IoU forward after an early stop."""
    keys, curves = [], []
    for key, g in records.groupby("session", sort=False):
        row = np.zeros(k + 1, np.float64)
        it = g["interaction"].to_numpy(int)
        vals = g["iou"].to_numpy(float)
        last = 0.0
        filled = dict(zip(it.tolist(), vals.tolist()))
        for j in range(k + 1):
            last = filled.get(j, last)
            row[j] = last
        keys.append(key)
        curves.append(row)
    return keys, np.array(curves).reshape(len(curves), k + 1)


def user_noc(curves: np.ndarray, t: float, compat: str | None = None) -> np.ndarray:
    """(S,) int NoC@t counting user clicks only: first column index in 0..K with
    IoU >= t, else K (curves: (S, K + 1) from session_curves)."""
    # metrics.noc counts columns from 1 and gives K + 1 when never reached: one more here
    return metrics.noc(curves, t, compat) - 1


def _mean_std(values: Sequence[float]) -> tuple[float | None, float | None]:
    arr = np.asarray([v for v in values if v is not None and np.isfinite(v)], np.float64)
    if arr.size == 0:
        return None, None
    return float(arr.mean()), float(arr.std())


def _session_table(records: pd.DataFrame, cfg) -> tuple[pd.DataFrame, np.ndarray]:
    """(one row per session: order, category, position, proposal made/accepted, learn
    seconds, NoC@t and failed@t columns; the (S, K + 1) curves of session_curves)."""
    k = cfg.max_interactions
    keys, curves = session_curves(records, k)
    first = records.groupby("session", sort=False).first().loc[keys]
    table = pd.DataFrame({"session": keys, "order": first["order"].to_numpy(),
                          "category": first["category"].astype(str).to_numpy(),
                          "position": first["position"].to_numpy(),
                          "made": first["proposal_made"].astype(bool).to_numpy(),
                          "accepted": first["proposal_accepted"].astype(bool).to_numpy(),
                          "learn_seconds": pd.to_numeric(first["learn_seconds"],
                                                         errors="coerce").to_numpy()})
    for t in cfg.iou_thresholds:
        table[f"noc_{t:.2f}"] = user_noc(curves, t, cfg.compat)
        table[f"fail_{t:.2f}"] = ~(curves >= metrics.effective_threshold(t, cfg.compat)).any(1)
    return table, curves


def _order_stats(table: pd.DataFrame, cfg) -> dict[str, Any]:
    """NoC/NoF mean +- std over orders, acceptance and proposal rates of a session table."""
    out: dict[str, Any] = {"noc": {}, "noc_std": {}, "nof": {}, "nof_std": {}}
    by_order = table.groupby("order")
    for t in cfg.iou_thresholds:
        key = f"{t:.2f}"
        out["noc"][key], out["noc_std"][key] = _mean_std(by_order[f"noc_{key}"].mean())
        out["nof"][key], out["nof_std"][key] = _mean_std(by_order[f"fail_{key}"].sum())
    made = by_order["made"].sum()
    acc = by_order["accepted"].sum()
    out["proposal_rate"], out["proposal_rate_std"] = _mean_std(made / by_order.size())
    out["acceptance_rate"], out["acceptance_rate_std"] = _mean_std(
        [a / m if m else None for a, m in zip(acc, made)])
    return out


def arm_figures(records: pd.DataFrame, cfg) -> dict[str, Any]:
    """Every figure of one arm's records (see the module docstring)."""
    k = cfg.max_interactions
    table, curves = _session_table(records, cfg)
    out: dict[str, Any] = {"n_samples": int(records["sample_id"].nunique()),
                           "n_sessions": len(table), "n_orders": int(table["order"].nunique()),
                           "n_categories": int(table["category"].nunique()),
                           "max_interactions": k, "interaction": "click"}
    out.update(_order_stats(table, cfg))
    user = curves[:, 1:]
    out["miou"] = metrics.miou_curve(user).tolist() if len(user) else []
    out["auc"] = metrics.auc(user) if len(user) else None
    out["miou_after_proposal"] = float(curves[:, 0].mean()) if len(curves) else None
    secs = records["model_seconds"]
    it = records["interaction"]
    prop_secs = pd.to_numeric(records.groupby("session")["proposal_seconds"].first(),
                              errors="coerce")
    out["seconds_per_click"] = {
        "first": float(secs[it == 1].mean()) if (it == 1).any() else None,
        "later": float(secs[it > 1].mean()) if (it > 1).any() else None,
        "proposal_prediction": float(secs[it == 0].mean()) if (it == 0).any() else None,
        "propose_click": float(prop_secs.mean()) if prop_secs.notna().any() else None}
    ls = table["learn_seconds"]
    out["learn_seconds_per_sample"] = float(ls.mean()) if ls.notna().any() else None
    out["learn_seconds_per_sample_std"] = (
        _mean_std(table.groupby("order")["learn_seconds"].mean())[1]
        if ls.notna().any() else None)
    out["per_category"] = {}
    for cat, g in table.groupby("category", sort=True):
        figs = _order_stats(g, cfg)
        figs["n_samples"] = int(len(g) // max(g["order"].nunique(), 1))
        out["per_category"][str(cat)] = figs
    out["learning_curve"] = learning_curve(table, cfg)
    return out


def learning_curve(table: pd.DataFrame, cfg) -> dict[str, Any]:
    """NoC@t and acceptance at each stream position (1-based): mean over the categories
    having that position within an order, then mean and std over orders (Fig. 4a)."""
    positions = sorted(int(p) for p in table["position"].unique())
    out: dict[str, Any] = {"position": positions, "noc": {}, "noc_std": {},
                           "n_streams": [int((table["position"] == p).sum()
                                             // max(table["order"].nunique(), 1))
                                         for p in positions]}
    for t in cfg.iou_thresholds:
        key = f"{t:.2f}"
        per = table.groupby(["position", "order"])[f"noc_{key}"].mean()
        stats = [_mean_std(per.loc[p].to_numpy()) for p in positions]
        out["noc"][key] = [s[0] for s in stats]
        out["noc_std"][key] = [s[1] for s in stats]
    acc = table.groupby(["position", "order"])["accepted"].mean()
    out["accepted_share"] = [_mean_std(acc.loc[p].to_numpy())[0] for p in positions]
    return out


def delta_noc(off: pd.DataFrame, on: pd.DataFrame, cfg) -> tuple[dict, dict]:
    """Delta NoC@t = NoC(without proposals) - NoC(with), per order, mean and std over
    orders (Tab. 1 discussion; at most 1 when the proposal only replaces the first
    click)."""
    t_off, _ = _session_table(off, cfg)
    t_on, _ = _session_table(on, cfg)
    mean, std = {}, {}
    for t in cfg.iou_thresholds:
        key = f"noc_{t:.2f}"
        d = t_off.groupby("order")[key].mean() - t_on.groupby("order")[key].mean()
        mean[f"{t:.2f}"], std[f"{t:.2f}"] = _mean_std(d.dropna().to_numpy())
    return mean, std
