"""Regression check of a candidate run against a baseline run (issue 6, "Regression tables
for CI"): figure by figure deltas as a Markdown table, regressions beyond a tolerance marked.

Figures compared (each summary's top level, then each thing/stuff split):

* NoC@t / NoI@t and NoF@t for every IoU threshold -- higher is worse;
* mIoU@k at k = 1, 5, 10, 20 and K (those <= K), and AuC -- lower is worse;
* the failed-sample count -- higher is worse (tolerance 0 unless given);
* seconds per click (first, later) -- shown, checked only when a ``seconds`` tolerance is
  given (wall-clock time depends on the machine).

A regression is a change in the worse direction by more than the tolerance (absolute, in the
figure's unit). Tolerances are given per family (``noc``, ``nof``, ``miou``, ``auc``,
``failed``, ``seconds``) or per figure (``noc@90``, ``miou@5``); the default is 0: any
worsening is a regression, which is right for deterministic runs on the same software.

Two runs are comparable only when their protocol settings match: protocol, robot and its
options, interaction cap, IoU and probability thresholds, early stop, compat mode, seed,
dataset with its options, protocol options, and the sample list (from config.json's unit
list, or the ``units_sha1`` digest of a summary). Anything else (the model, its options,
versions) may differ. Incomplete runs are refused: their figures cover other samples.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from iseg_bench.errors import ConfigMismatchError, IsegBenchError
from iseg_bench.execution import run_folder as runs

#: settings of ``RunConfig.identity()`` that must match for a comparison
PROTOCOL_SETTINGS = ("protocol", "robot", "robot_options", "max_interactions", "iou_thresholds",
                     "prob_threshold", "stop_at_iou", "compat", "seed", "dataset",
                     "dataset_options", "protocol_options")
MIOU_AT = (1, 5, 10, 20)
HIGHER_IS_WORSE = {"noc": True, "nof": True, "failed": True, "seconds": True,
                   "miou": False, "auc": False}
CHECKED_BY_DEFAULT = {"noc", "nof", "miou", "auc", "failed"}


@dataclass
class RunView:
    """A loaded run: its summary, settings identity, and unit list when known."""

    label: str
    summary: dict[str, Any]
    identity: dict[str, Any]
    units: list[str] | None


@dataclass
class Row:
    """One compared figure."""

    figure: str
    family: str
    baseline: float | None
    candidate: float | None
    tolerance: float | None
    status: str          # "ok", "better", "REGRESSION", "info" or "n/a"

    @property
    def delta(self) -> float | None:
        if self.baseline is None or self.candidate is None:
            return None
        return self.candidate - self.baseline


@dataclass
class Comparison:
    """The result of :func:`compare`."""

    baseline: RunView
    candidate: RunView
    rows: list[Row] = field(default_factory=list)

    @property
    def regressions(self) -> list[Row]:
        return [r for r in self.rows if r.status == "REGRESSION"]

    def markdown(self) -> str:
        """The Markdown report: header, table, verdict."""
        b, c = self.baseline.summary, self.candidate.summary
        head = [f"Baseline: `{self.baseline.label}` ({b.get('model')}), "
                f"candidate: `{self.candidate.label}` ({c.get('model')}) on "
                f"{b.get('dataset')} with {b.get('robot')}, "
                f"{b.get('n_samples', 0)} / {c.get('n_samples', 0)} completed samples, "
                f"{b.get('n_failed', 0)} / {c.get('n_failed', 0)} failed.", ""]
        lines = ["| figure | baseline | candidate | delta | tolerance | status |",
                 "|---|---:|---:|---:|---:|---|"]
        for r in self.rows:
            tol = "" if r.tolerance is None else _fmt(r.tolerance)
            delta = "" if r.delta is None else _fmt(r.delta, signed=True)
            status = f"**{r.status}**" if r.status == "REGRESSION" else r.status
            lines.append(f"| {r.figure} | {_fmt(r.baseline)} | {_fmt(r.candidate)} | {delta} "
                         f"| {tol} | {status} |")
        if b.get("n_failed", 0) != c.get("n_failed", 0):
            head.append("Note: the runs have different failed samples; each figure is over "
                        "that run's completed samples only, so the failed count decides.")
            head.append("")
        n = len(self.regressions)
        verdict = (f"**{n} regression{'s' if n != 1 else ''}** beyond tolerance: "
                   + ", ".join(r.figure for r in self.regressions)) if n else \
            "No regression beyond tolerance."
        return "\n".join(head + lines + ["", verdict])


def _fmt(v: float | None, signed: bool = False) -> str:
    if v is None:
        return "-"
    text = f"{v:.4f}".rstrip("0").rstrip(".")
    text = "0" if text in ("-0", "") else text
    return f"+{text}" if signed and v > 0 else text


def parse_tolerances(text: str | None) -> dict[str, float]:
    """"noc=0.05,miou=0.005" -> {"noc": 0.05, "miou": 0.005} (keys lower-cased).

    Raises:
        ValueError: a part is not key=number, a number is negative, or the family is unknown.
    """
    out: dict[str, float] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        key = key.strip().lower()
        if not sep:
            raise ValueError(f"tolerance {part!r} is not key=value")
        if key.split("@")[0] not in HIGHER_IS_WORSE:
            raise ValueError(f"unknown tolerance {key!r}; families: "
                             f"{', '.join(sorted(HIGHER_IS_WORSE))} (optionally @threshold "
                             "or @k, e.g. noc@90, miou@5)")
        out[key] = float(value)
        if out[key] < 0:
            raise ValueError(f"tolerance {key!r} must be >= 0, got {value}")
    return out


def load_view(path: Path) -> RunView:
    """A run folder, or a summary.json file (its folder's config.json is used when next to
    it). Raises FileNotFoundError when there is no summary."""
    path = Path(path)
    _, summary = runs.load_run(path)
    folder = path.parent if path.is_file() else path
    stored = runs.read_config(folder) if (folder / runs.CONFIG).exists() else None
    units = stored.get("units") if stored else None
    identity = summary.get("config") or {}
    return RunView(str(path), summary, identity, units)


def _norm(v: Any) -> Any:
    return json.loads(json.dumps(v))


def setting_differences(a: RunView, b: RunView) -> list[str]:
    """Why runs `a` and `b` cannot be compared; [] when they can."""
    problems = []
    for key in PROTOCOL_SETTINGS:
        va, vb = _norm(a.identity.get(key)), _norm(b.identity.get(key))
        if va != vb:
            problems.append(f"{key}: baseline {va!r}, candidate {vb!r}")
    if a.units is not None and b.units is not None:
        if a.units != b.units:
            problems.append(f"samples: baseline has {len(a.units)}, candidate "
                            f"{len(b.units)}, or they differ (dataset, --limit)")
    else:
        da, db = a.summary.get("units_sha1"), b.summary.get("units_sha1")
        if da and db and da != db:
            problems.append("samples: the sample lists differ (dataset, --limit)")
        na, nb = a.summary.get("n_units"), b.summary.get("n_units")
        if na is not None and nb is not None and na != nb and not (da and db and da != db):
            problems.append(f"samples: baseline has {na}, candidate {nb}")
    for view, name in ((a, "baseline"), (b, "candidate")):
        if view.summary.get("complete") is False:
            problems.append(f"the {name} run {view.label} is incomplete (interrupted or "
                            "stopped); finish it with `iseg-bench run ... --resume DIR`")
    return problems


def _figures(summary: dict[str, Any], top: bool) -> list[tuple[str, str, float | None]]:
    """(figure name, family, value) of one summary level."""
    noc_name = "NoI" if summary.get("interaction") == "scribble" else "NoC"
    out = []
    for t, v in (summary.get("noc") or {}).items():
        out.append((f"{noc_name}@{round(float(t) * 100)}", "noc", v))
    for t, v in (summary.get("nof") or {}).items():
        out.append((f"NoF@{round(float(t) * 100)}", "nof", v))
    miou = summary.get("miou") or []
    for k in sorted(set(MIOU_AT) | ({len(miou)} if miou else set())):
        if k <= len(miou):
            out.append((f"mIoU@{k}", "miou", miou[k - 1]))
    if "auc" in summary:
        out.append(("AuC", "auc", summary["auc"]))
    if top:
        out.append(("failed samples", "failed", summary.get("n_failed", 0)))
        spc = summary.get("seconds_per_click") or {}
        for key in ("first", "later"):
            if spc.get(key) is not None:
                out.append((f"s/click ({key})", "seconds", spc[key]))
    return out


def _tolerance(tolerances: dict[str, float], figure: str, family: str) -> float | None:
    suffix = figure.split("@")[1].split()[0] if "@" in figure else None
    if suffix is not None and f"{family}@{suffix}" in tolerances:
        return tolerances[f"{family}@{suffix}"]
    if family in tolerances:
        return tolerances[family]
    return 0.0 if family in CHECKED_BY_DEFAULT else None


def _status(family: str, base: float | None, cand: float | None, tol: float | None) -> str:
    if base is None or cand is None:
        return "n/a"
    delta = cand - base
    worse = delta if HIGHER_IS_WORSE[family] else -delta
    if tol is None:
        return "info"
    if worse > tol + 1e-12:
        return "REGRESSION"
    if worse < -1e-12:
        return "better"
    return "ok"


def compare(baseline: Path, candidate: Path, tolerances: dict[str, float] | None = None
            ) -> Comparison:
    """Compare `candidate` against `baseline` (run folders or summary.json files).

    Raises:
        ConfigMismatchError: protocol settings or sample lists differ, or a run is
            incomplete; the message lists every reason.
        FileNotFoundError: a path holds no summary.
    """
    tolerances = tolerances or {}
    a, b = load_view(Path(baseline)), load_view(Path(candidate))
    problems = setting_differences(a, b)
    if problems:
        raise ConfigMismatchError("refusing to compare: the runs' protocol settings differ, "
                                  "so their figures are not comparable:\n  - "
                                  + "\n  - ".join(problems))
    result = Comparison(a, b)
    levels = [("", a.summary, b.summary, True)]
    for split in sorted(set(a.summary.get("splits") or {}) | set(b.summary.get("splits") or {})):
        levels.append((f" [{split}]", {"interaction": a.summary.get("interaction"),
                                      **(a.summary.get("splits") or {}).get(split, {})},
                       {"interaction": b.summary.get("interaction"),
                        **(b.summary.get("splits") or {}).get(split, {})}, False))
    for suffix, sa, sb in ((s, x, y) for s, x, y, _ in levels):
        top = suffix == ""
        fa = {name: (fam, v) for name, fam, v in _figures(sa, top)}
        fb = {name: (fam, v) for name, fam, v in _figures(sb, top)}
        for name in list(fa) + [n for n in fb if n not in fa]:
            family = (fa.get(name) or fb.get(name))[0]
            base = fa.get(name, (family, None))[1]
            cand = fb.get(name, (family, None))[1]
            tol = _tolerance(tolerances, name, family)
            result.rows.append(Row(name + suffix, family, base, cand, tol,
                                   _status(family, base, cand, tol)))
    return result


def compare_paths(baseline: Path, candidate: Path, tolerance: str | None = None) -> Comparison:
    """:func:`compare` with a tolerance string (see :func:`parse_tolerances`); raises
    IsegBenchError on a bad tolerance string."""
    try:
        tolerances = parse_tolerances(tolerance)
    except ValueError as exc:
        raise IsegBenchError(str(exc)) from exc
    return compare(baseline, candidate, tolerances)
