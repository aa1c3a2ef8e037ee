"""The HTML report (reports/html.py) opened in a real headless browser: Debian's Chromium
driven by playwright. The page loads offline with no console error and no request leaving
the file, its tables hold the summaries' numbers, every image decodes, and a screenshot
is not blank.

Without /usr/bin/chromium or playwright the test is skipped, and fails under CI=true
(.ci/run installs Chromium).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from iseg_bench.cli import main

GOLDEN = Path(__file__).resolve().parent / "golden"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]


def _browser_or_skip() -> None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing = "the playwright package (the test extra)"
    else:
        missing = "" if Path(CHROMIUM).exists() else f"{CHROMIUM} (apt-get install chromium)"
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the HTML report test needs {missing}")
        pytest.skip(f"needs {missing}")


def test_html_report_in_chromium(tmp_path: Path) -> None:
    _browser_or_skip()
    from playwright.sync_api import sync_playwright

    runs = []
    for name in ("clicker-grabcut", "clicker-davis-workers2"):
        shutil.copytree(GOLDEN / name, tmp_path / name)
        runs.append(tmp_path / name)
    # the gallery hook: PNG files in a run's gallery/ folder are shown
    (runs[0] / "gallery").mkdir()
    shutil.copy(Path(__file__).resolve().parents[1] / "docs" / "img" / "simulated-strokes.png",
                runs[0] / "gallery" / "worst.png")
    page_file = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["report", *map(str, runs), "--format", "html",
                                       "-o", str(page_file)])
    assert result.exit_code == 0, result.output
    summaries = [json.loads((r / "summary.json").read_text(encoding="utf-8")) for r in runs]

    errors: list[str] = []
    requests: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(page_file.as_uri(), wait_until="load")
        summary_rows = page.eval_on_selector_all(
            "#summary tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.innerText))")
        heads = page.eval_on_selector_all("#summary thead th", "hs => hs.map(h => h.innerText)")
        pivot_rows = page.eval_on_selector_all(
            "#pivot tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.innerText))")
        images = page.eval_on_selector_all(
            "img", "imgs => imgs.map(i => [i.complete, i.naturalWidth])")
        shot = page.screenshot(full_page=True)
        browser.close()

    assert errors == []
    assert all(url.startswith(("file:", "data:")) for url in requests), requests
    assert len(summary_rows) == 2
    for row, s in zip(summary_rows, summaries):
        cells = dict(zip(heads, row))
        assert cells["run"] == f"{s['model']} / {s['dataset']}"
        assert float(cells["NoC@85"]) == round(s["noc"]["0.85"], 2)
        assert float(cells["AuC"]) == round(s["auc"], 4)
        assert int(cells["NoF@90"]) == s["nof"]["0.90"]
        lo, hi = s["ci"]["auc"]
        assert cells["AuC 95% CI"] == f"[{lo:.4f}, {hi:.4f}]"
    # pivot: one model, GrabCut then DAVIS, NoC@85 first in each group
    assert len(pivot_rows) == 1 and pivot_rows[0][0] == "random-walker"
    assert pivot_rows[0][1].startswith(f"{summaries[0]['noc']['0.85']:.2f} [")
    # runs plot + three plots per run + the gallery image, all decoded
    assert len(images) == 1 + 3 * 2 + 1
    assert all(complete and width > 0 for complete, width in images)
    assert len(shot) > 20_000


def test_html_report_without_pivot_for_duplicate_runs() -> None:
    from iseg_bench.reports.html import html_report

    path = GOLDEN / "clicker-grabcut" / "summary.json"
    summary = json.loads(path.read_text(encoding="utf-8"))
    page = html_report([path, path], [summary, summary])
    assert 'id="summary"' in page and 'id="pivot"' not in page
    assert "No pivot table: two runs of &#x27;random-walker&#x27; on grabcut" in page
    assert re.findall(r'(?:src|href)="(?!data:)', page) == []  # nothing to fetch
