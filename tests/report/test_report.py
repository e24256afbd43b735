"""`dbworkbench report` end to end: every curated notebook run with papermill on the sandbox's demo, one
offline HTML file, opened in chromium with the network off (Playwright driving Debian's /usr/bin/chromium)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import dbworkbench as wb
from dbworkbench.cli import main
from dbworkbench.report import NOTEBOOKS, ReportResult, build_report

CHROMIUM = Path("/usr/bin/chromium")
# pg_stat_statements keeps comments and turns the constants into $1 … $5: markup and "math" in a real query text
HOSTILE_SQL = ("SELECT /* <script>document.title='pwned'</script> <img src=x onerror=\"document.title='pwned'\"> */ "
               "pg_sleep(0.8) WHERE 'a' = 'a' AND 'b' <> 'c'")
HOSTILE_SHOWN = ("/* <script>document.title='pwned'</script> <img src=x onerror=\"document.title='pwned'\"> */ "
                 "pg_sleep($1) WHERE $2 = $3 AND $4 <> $5")


def _browser_skip_reason() -> str | None:
    if not CHROMIUM.exists():
        return "needs /usr/bin/chromium (Debian package chromium; .ci/run installs it where apt is available)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "needs Playwright for Python (the test extra: pip install -e '.[test]')"
    return None


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest, sandbox: Any) -> ReportResult:
    with wb.connect() as db:  # the sandbox's demo; the hostile statement becomes the slowest one
        db.conn.execute(HOSTILE_SQL)
    out = tmp_path_factory.mktemp("report") / "report.html"
    result = build_report(out=out, notebooks=["all"], progress=False)
    for name, seconds in result.notebook_seconds.items():
        log_line(request, f"notebook {name}: {seconds:.1f} s, {result.figures[name]} figure(s)")
    log_line(request, f"report: {result}")
    return result


def log_line(request: pytest.FixtureRequest, text: str) -> None:
    """A line in the test log even when the test passes (output capture off for it)."""
    with request.config.pluginmanager.get_plugin("capturemanager").global_and_fixture_disabled():
        request.config.pluginmanager.get_plugin("terminalreporter").write_line(text)


def test_report_holds_every_notebook_and_its_figures(report: ReportResult) -> None:
    present = [n for n in NOTEBOOKS if (Path(wb.report.__file__).parents[2] / "notebooks" / f"{n}.ipynb").exists()]
    assert list(report.notebook_seconds) == present
    page = report.path.read_text(encoding="utf-8")
    assert report.bytes == len(page.encode("utf-8"))
    for name in present:  # each notebook that draws figures drew them, and each one is on the page
        source = (Path(wb.report.__file__).parents[2] / "notebooks" / f"{name}.ipynb").read_text(encoding="utf-8")
        if re.search(r"figure\(|viz\.|plan_flame\(|figures\.", source):
            assert report.figures[name] > 0, f"{name} drew no figure"
    assert page.count("Plotly.newPlot(") == sum(report.figures.values())
    assert page.count("plotly.js v") == 1
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=\"http", page)  # nothing fetched from the network
    for section in ("Schema overview", "ER diagram", "Indexes", "Migrations to create", "Query optimisation",
                    "Performance recommendations", "Backup strategy and monitoring", "Final checklist"):
        assert section in page, section
    assert "<script>document.title" not in page and "&lt;script&gt;document.title" in page


@pytest.mark.skipif(_browser_skip_reason() is not None, reason=str(_browser_skip_reason()))
def test_report_opens_offline_in_chromium(report: ReportResult, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    fetched: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_context(offline=True).new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: fetched.append(r.url) if not r.url.startswith(("file:", "data:", "blob:")) else None)
            page.goto(report.path.resolve().as_uri())
            plots = page.locator("div.plotly-graph-div")
            page.wait_for_function("() => [...document.querySelectorAll('div.plotly-graph-div')]"
                                   ".every(d => d.querySelector('svg.main-svg'))", timeout=60_000)
            assert plots.count() == sum(report.figures.values()) > 0
            assert page.title() != "pwned" and not errors and not fetched, (errors, fetched)
            assert page.locator("img[onerror], mjx-container, .MathJax").count() == 0
            text = page.locator("body").inner_text()
            assert HOSTILE_SHOWN in " ".join(text.split()), "the hostile query text is not shown literally"
            page.screenshot(path=str(tmp_path / "report.png"), full_page=False)
        finally:
            browser.close()


def test_cli_report_names_the_notebooks_it_knows(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["report", "--notebooks", "no_such_notebook", "--out", str(tmp_path / "r.html")])
    assert result.exit_code == 1
    assert "no single notebook named 'no_such_notebook'" in result.output and "06_report" in result.output
    assert not (tmp_path / "r.html").exists()
