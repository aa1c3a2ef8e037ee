"""Regression check of a candidate run against a baseline run, figure by figure, as a
Markdown table with the regressions beyond tolerance marked (rules: docs/reports.md).

Constants: ``MIOU_AT`` (1, 5, 10, 20), the interaction counts k compared as mIoU@k (with
the run's last one, K, too).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from iseg_bench.errors import ConfigMismatchError, UsageError
from iseg_bench.reports.comparability import RunView, load_view, setting_differences
from iseg_bench.reports.paired import p_text, paired_p_values
from iseg_bench.reports.rows import Summary, count_heading
from iseg_bench.reports.tolerances import parse_tolerances, tolerance_for, verdict
from iseg_bench.thresholds import percent_label

MIOU_AT = (1, 5, 10, 20)

#: figure name -> (family, value)
Figures = dict[str, tuple[str, float | None]]


@dataclass
class ComparedFigure:
    """One figure of both runs.

    Attributes:
        figure: its name, e.g. "NoC@90", "mIoU@5 [thing]".
        family: its tolerance family (noc, nof, miou, auc, failed, seconds).
        baseline, candidate: its values (None when the run lacks it).
        tolerance: the allowed worsening, in the figure's unit (None: not checked).
        status: "ok", "better", "REGRESSION", "info" (not checked), "n/a" (a run lacks it)
            or "worse, n.s." (beyond tolerance but not significant at the comparison's alpha).
        p_value: the paired bootstrap p value of the difference (reports/paired.py; None:
            not tested).
    """

    figure: str
    family: str
    baseline: float | None
    candidate: float | None
    tolerance: float | None
    status: str
    p_value: float | None = None

    @property
    def delta(self) -> float | None:
        """candidate - baseline; None when a run lacks the figure."""
        if self.baseline is None or self.candidate is None:
            return None
        return self.candidate - self.baseline


def _fmt(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "-"
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    text = "0" if text in ("-0", "") else text
    return f"+{text}" if signed and value > 0 else text


@dataclass
class Comparison:
    """The result of :func:`compare`: both runs and one row per compared figure."""

    baseline: RunView
    candidate: RunView
    rows: list[ComparedFigure] = field(default_factory=list)

    @property
    def regressions(self) -> list[ComparedFigure]:
        """The rows whose status is "REGRESSION"."""
        return [r for r in self.rows if r.status == "REGRESSION"]

    def _header(self) -> list[str]:
        b, c = self.baseline.summary, self.candidate.summary
        head = [f"Baseline: `{self.baseline.label}` ({b.get('model')}), "
                f"candidate: `{self.candidate.label}` ({c.get('model')}) on "
                f"{b.get('dataset')} with {b.get('robot')}, "
                f"{b.get('n_samples', 0)} / {c.get('n_samples', 0)} completed samples, "
                f"{b.get('n_failed', 0)} / {c.get('n_failed', 0)} failed.", ""]
        if b.get("n_failed", 0) != c.get("n_failed", 0):
            head += ["Note: the runs have different failed samples; each figure is over "
                     "that run's completed samples only, so the failed count decides.", ""]
        return head

    def _table(self) -> list[str]:
        tested = any(r.p_value is not None for r in self.rows)
        lines = ["| figure | baseline | candidate | delta | tolerance | status |"
                 + (" p |" if tested else ""), "|---|---:|---:|---:|---:|---|"
                 + ("---:|" if tested else "")]
        for r in self.rows:
            tol = "" if r.tolerance is None else _fmt(r.tolerance)
            delta = "" if r.delta is None else _fmt(r.delta, signed=True)
            status = f"**{r.status}**" if r.status == "REGRESSION" else r.status
            lines.append(f"| {r.figure} | {_fmt(r.baseline)} | {_fmt(r.candidate)} | {delta} "
                         f"| {tol} | {status} |" + (f" {p_text(r.p_value)} |" if tested else ""))
        return lines

    def _verdict(self) -> str:
        n = len(self.regressions)
        if not n:
            return "No regression beyond tolerance."
        return (f"**{n} regression{'s' if n != 1 else ''}** beyond tolerance: "
                + ", ".join(r.figure for r in self.regressions))

    def markdown(self) -> str:
        """The Markdown report: header (runs, samples, failures), table, verdict."""
        return "\n".join(self._header() + self._table() + ["", self._verdict()])


def figures(summary: Summary, top: bool) -> Figures:
    """The compared figures of one summary level (the run, or one split of it).

    NoC@t (NoI@t for scribble runs) and NoF@t per threshold, mIoU@k for k in ``MIOU_AT`` and
    K (those <= K), AuC; at the top level also the failed-sample count and seconds per
    click (first, later).
    """
    noc_name = count_heading(summary)
    out: Figures = {}
    for t, v in (summary.get("noc") or {}).items():
        out[f"{noc_name}@{percent_label(t)}"] = ("noc", v)
    for t, v in (summary.get("nof") or {}).items():
        out[f"NoF@{percent_label(t)}"] = ("nof", v)
    miou = summary.get("miou") or []
    for k in sorted(set(MIOU_AT) | ({len(miou)} if miou else set())):
        if k <= len(miou):
            out[f"mIoU@{k}"] = ("miou", miou[k - 1])
    if "auc" in summary:
        out["AuC"] = ("auc", summary["auc"])
    if top:
        out["failed samples"] = ("failed", summary.get("n_failed", 0))
        spc = summary.get("seconds_per_click") or {}
        for key in ("first", "later"):
            if spc.get(key) is not None:
                out[f"s/click ({key})"] = ("seconds", spc[key])
    return out


def _split(summary: Summary, name: str) -> Summary:
    """Split `name` of `summary` (empty when it has none), with the run's interaction."""
    return {"interaction": summary.get("interaction"),
            **(summary.get("splits") or {}).get(name, {})}


def _compared(suffix: str, fa: Figures, fb: Figures, tolerances: dict[str, float]
              ) -> list[ComparedFigure]:
    """Rows of the figures of either level (baseline's order, then the candidate's own)."""
    rows = []
    for name in list(fa) + [n for n in fb if n not in fa]:
        family = (fa.get(name) or fb[name])[0]
        base, cand = fa.get(name, (family, None))[1], fb.get(name, (family, None))[1]
        tol = tolerance_for(tolerances, name, family)
        rows.append(ComparedFigure(name + suffix, family, base, cand, tol,
                                   verdict(family, base, cand, tol)))
    return rows


def apply_paired_test(result: Comparison, p_values: dict[str, float], alpha: float | None
                      ) -> None:
    """Set each row's p value from `p_values` (by figure name); with `alpha`, turn a
    regression with p >= `alpha` into "worse, n.s.".

    Raises:
        UsageError: `alpha` is given but there are no p values (no records.csv).
    """
    if alpha is not None and not p_values:
        raise UsageError("--significant-only needs the paired test: give run folders "
                             "of single-object runs holding records.csv, not summary.json "
                             "files")
    for row in result.rows:
        row.p_value = p_values.get(row.figure)
        if alpha is not None and row.status == "REGRESSION" and row.p_value is not None \
                and row.p_value >= alpha:
            row.status = "worse, n.s."


def compare(baseline: RunView, candidate: RunView, tolerances: dict[str, float] | None = None,
            alpha: float | None = None) -> Comparison:
    """Compare `candidate` against `baseline`: the whole runs, then each split by name.

    Figures with a paired test (reports/paired.py) get its p value; with `alpha`, a
    regression whose p value is >= `alpha` is "worse, n.s." and no longer a regression.

    Raises:
        ConfigMismatchError: protocol settings or sample lists differ, or a run is
            incomplete; the message lists every reason.
        UsageError: `alpha` is given but a run has no records.csv.
    """
    tolerances = tolerances or {}
    problems = setting_differences(baseline, candidate)
    if problems:
        raise ConfigMismatchError("refusing to compare: the runs' protocol settings differ, "
                                  "so their figures are not comparable:\n  - "
                                  + "\n  - ".join(problems))
    a, b = baseline.summary, candidate.summary
    result = Comparison(baseline, candidate)
    result.rows += _compared("", figures(a, True), figures(b, True), tolerances)
    for split in sorted(set(a.get("splits") or {}) | set(b.get("splits") or {})):
        result.rows += _compared(f" [{split}]", figures(_split(a, split), False),
                                 figures(_split(b, split), False), tolerances)
    apply_paired_test(result, paired_p_values(baseline, candidate), alpha)
    return result


def compare_paths(baseline: Path, candidate: Path, tolerance: str | None = None,
                  alpha: float | None = None) -> Comparison:
    """:func:`compare` of two run folders or summary.json files, with tolerances as text
    (see :func:`~iseg_bench.reports.tolerances.parse_tolerances`).

    Raises:
        UsageError: a bad tolerance string.
        ConfigMismatchError: the runs cannot be compared (see :func:`compare`).
        RunFolderError: a path holds no summary, or a damaged one.
    """
    try:
        tolerances = parse_tolerances(tolerance)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    return compare(load_view(Path(baseline)), load_view(Path(candidate)), tolerances, alpha)
