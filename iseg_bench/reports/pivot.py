"""The papers' table: one row per model (run name), one column group per dataset, the best
value of each column marked; as a DataFrame (CSV), Markdown or LaTeX (booktabs) (layout:
docs/reports.md).

The layout follows the result tables of the interactive segmentation papers (EMC-Click,
Du et al. 2023, Tab. 3; Forte et al. 2020 "Getting to 99%", Tab. 6): datasets as column
groups, NoC@85 / NoC@90 per dataset, the best value in bold (Forte et al. Tab. 6). Best
means lowest for NoC and NoF, highest for mIoU and AuC; every tie for best is marked, on
the values as shown (rounded).

Constants: ``DEFAULT_FIGURES`` ("noc,nof,auc"), ``DECIMALS`` (figures as shown).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from iseg_bench.errors import IsegBenchError
from iseg_bench.reports.ci import intervals
from iseg_bench.reports.compare import figures
from iseg_bench.reports.markdown import to_markdown
from iseg_bench.reports.rows import Summary
from iseg_bench.reports.tolerances import HIGHER_IS_WORSE

DEFAULT_FIGURES = "noc,nof,auc"


class DuplicateRunError(IsegBenchError):
    """Two runs of one name on one dataset: a pivot table has one cell for them."""

DECIMALS = {"noc": 2, "nof": 0, "miou": 4, "auc": 4}


def run_name(summary: Summary) -> str:
    """The row name of a run: its configured ``name`` when it has one, else its model."""
    config = summary.get("config") or {}
    return str(config.get("name") or summary.get("name") or summary.get("model"))


def _wanted(spec: str) -> list[tuple[str, str]]:
    """(family, suffix) of each figure of "noc,nof@90,miou@5,auc": a family alone, or
    noc / nof with a threshold in percent (as headed), miou with k (required).

    Raises:
        IsegBenchError: an unknown one.
    """
    out = []
    for part in (p.strip().lower() for p in spec.split(",") if p.strip()):
        family, _, suffix = part.partition("@")
        number = suffix.replace(".", "", 1).isdigit()
        if family not in DECIMALS or (family == "miou" and not suffix.isdigit()) \
                or (family == "auc" and suffix) or (suffix and not number):
            raise IsegBenchError(f"--figures: unknown figure {part!r}; use noc, nof, auc, "
                                 "noc@t / nof@t (t in percent, e.g. noc@90) or miou@k (k in 1, "
                                 f"5, 10, 20 or the run's last), e.g. {DEFAULT_FIGURES}")
        out.append((family, suffix))
    return out


def _selected(summary: Summary, wanted: list[tuple[str, str]]
              ) -> list[tuple[str, str, float | None]]:
    """(figure, family, value) of `summary` for the wanted figures, in their order."""
    found = figures(summary, top=False)
    out = []
    for want, suffix in wanted:
        for name, (family, value) in found.items():
            if family == want and suffix in ("", name.partition("@")[2]):
                out.append((name, family, value))
    return out


@dataclass
class Pivot:
    """The table: `columns` are (dataset, figure, family); `cells[(run, dataset, figure)]`
    is (value, interval (lo, hi) or None)."""

    runs: list[str] = field(default_factory=list)
    columns: list[tuple[str, str, str]] = field(default_factory=list)
    cells: dict[tuple[str, str, str], tuple[float, tuple[float, float] | None]] = field(
        default_factory=dict)

    def best(self, column: tuple[str, str, str]) -> set[str]:
        """The runs with the best shown value of `column` ({} when under two runs have one)."""
        dataset, figure, family = column
        shown = {r: round(self.cells[(r, dataset, figure)][0], DECIMALS[family])
                 for r in self.runs if (r, dataset, figure) in self.cells}
        if len(shown) < 2:
            return set()
        top = (min if HIGHER_IS_WORSE[family] else max)(shown.values())
        return {r for r, v in shown.items() if v == top}


def pivot(summaries: Sequence[Summary], spec: str = DEFAULT_FIGURES) -> Pivot:
    """The pivot table of `summaries` (rows: :func:`run_name`, first-appearance order;
    column groups: datasets, first-appearance order; figures: `spec`).

    Raises:
        IsegBenchError: a bad `spec`.
        DuplicateRunError: two runs with the same name and dataset.
    """
    wanted = _wanted(spec)
    table = Pivot()
    for s in summaries:
        name, dataset = run_name(s), str(s.get("dataset"))
        if name not in table.runs:
            table.runs.append(name)
        ci = intervals(s)
        for figure, family, value in _selected(s, wanted):
            if (dataset, figure, family) not in table.columns:
                table.columns.append((dataset, figure, family))
            if (name, dataset, figure) in table.cells:
                raise DuplicateRunError(f"two runs of {name!r} on {dataset}: a pivot table has "
                                     "one row per model; name the runs apart (run --name) or "
                                     "report them separately")
            if value is not None:
                bounds = (ci[figure][1], ci[figure][2]) if figure in ci else None
                table.cells[(name, dataset, figure)] = (value, bounds)
    return table


def _number(value: float, family: str) -> str:
    return f"{value:.{DECIMALS[family]}f}"


def cell_text(table: Pivot, run: str, column: tuple[str, str, str], ci: bool,
          bold: tuple[str, str], interval: tuple[str, str]) -> str:
    """One cell: the value (wrapped in `bold` when best), then the interval in `interval`."""
    dataset, figure, family = column
    if (run, dataset, figure) not in table.cells:
        return ""
    value, bounds = table.cells[(run, dataset, figure)]
    text = _number(value, family)
    if run in table.best(column):
        text = bold[0] + text + bold[1]
    if ci and bounds is not None:
        lo, hi = (_number(b, family) for b in bounds)
        text += interval[0] + f"[{lo}, {hi}]" + interval[1]
    return text


def pivot_frame(table: Pivot, ci: bool = False) -> pd.DataFrame:
    """Numbers only (CSV): a ``run`` column, then "<dataset> <figure>" per column and with
    `ci` its "... lo" and "... hi" bounds; best values are not marked."""
    rows = []
    for run in table.runs:
        row: dict[str, object] = {"run": run}
        for dataset, figure, _ in table.columns:
            value, bounds = table.cells.get((run, dataset, figure), (None, None))
            row[f"{dataset} {figure}"] = value
            if ci:
                row[f"{dataset} {figure} lo"] = bounds[0] if bounds else None
                row[f"{dataset} {figure} hi"] = bounds[1] if bounds else None
        rows.append(row)
    return pd.DataFrame(rows)


def pivot_markdown(table: Pivot, ci: bool = False) -> str:
    """Markdown: columns "<dataset> <figure>", best values in **bold**, with `ci` the
    interval after the value ("1.23 [1.05, 1.41]")."""
    rows = [{"run": run, **{f"{c[0]} {c[1]}": cell_text(table, run, c, ci, ("**", "**"),
                                                     (" ", ""))
                            for c in table.columns}} for run in table.runs]
    return to_markdown(pd.DataFrame(rows, columns=["run"] + [f"{d} {f}"
                                                             for d, f, _ in table.columns]))


def latex_escape(text: str) -> str:
    """`text` with LaTeX's special characters escaped (``& % $ # _ { } ~ ^ \\``)."""
    special = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
               "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
               "^": r"\textasciicircum{}"}
    return "".join(special.get(ch, ch) for ch in text)


def pivot_latex(table: Pivot, ci: bool = False) -> str:
    """A booktabs ``tabular``: a header row of datasets over their figure columns
    (``\\cmidrule`` under each), best values in ``\\textbf``, with `ci` the interval in
    ``\\scriptsize`` after the value. Needs ``\\usepackage{booktabs}``."""
    groups: list[tuple[str, int]] = []
    for dataset, _, _ in table.columns:
        if groups and groups[-1][0] == dataset:
            groups[-1] = (dataset, groups[-1][1] + 1)
        else:
            groups.append((dataset, 1))
    lines = ["% needs \\usepackage{booktabs}"]
    if ci:
        lines.append("% [lo, hi]: 95% percentile bootstrap interval over samples "
                     "(docs/figures.md)")
    lines += [f"\\begin{{tabular}}{{l{'c' * len(table.columns)}}}", "\\toprule"]
    heads, rules, start = [""], [], 2
    for dataset, n in groups:
        heads.append(f"\\multicolumn{{{n}}}{{c}}{{{latex_escape(dataset)}}}")
        rules.append(f"\\cmidrule(lr){{{start}-{start + n - 1}}}")
        start += n
    lines += [" & ".join(heads) + " \\\\", " ".join(rules),
              " & ".join(["Method"] + [latex_escape(f) for _, f, _ in table.columns])
              + " \\\\", "\\midrule"]
    for run in table.runs:
        cells = [cell_text(table, run, c, ci, ("\\textbf{", "}"), (" {\\scriptsize ", "}"))
                 for c in table.columns]
        lines.append(" & ".join([latex_escape(run)] + cells) + " \\\\")
    lines += ["\\bottomrule", "\\end{tabular}"]
    return "\n".join(lines)
