"""JupyterLab as `dbworkbench lab` starts it, driven by Playwright with Debian's chromium: no news pop-up,
and each curated notebook runs top to bottom with no error output and its figures drawn.
A screenshot of each notebook is saved in the test's output folder (printed in the log)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import dbworkbench as wb
from dbworkbench.report.lab import lab_command

from .test_report import CHROMIUM, _browser_skip_reason, log_line

NOTEBOOKS = sorted((Path(wb.__file__).resolve().parent.parent / "notebooks").glob("[0-9]*.ipynb"))
pytestmark = pytest.mark.skipif(_browser_skip_reason() is not None, reason=str(_browser_skip_reason()))
TOKEN = "dbworkbench-test"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, sandbox: Any) -> Iterator[tuple[str, Path]]:
    home = tmp_path_factory.mktemp("lab")
    folder = home / "notebooks"
    folder.mkdir()
    for nb in NOTEBOOKS:  # a copy: running and saving them leaves the repository's notebooks alone
        shutil.copy(nb, folder / nb.name)
    tracker = home / "settings" / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True)
    tracker.write_text('{"windowingMode": "none"}')  # every cell stays in the DOM, so every figure can be counted
    port = _free_port()
    args, env = lab_command(folder, port, token=TOKEN)
    env.update({"JUPYTERLAB_SETTINGS_DIR": str(home / "settings"), "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
                "JUPYTER_RUNTIME_DIR": str(home / "runtime")})
    log = (home / "lab.log").open("w")
    proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start: {(home / 'lab.log').read_text()[-2000:]}")
                time.sleep(0.5)
        yield url, folder
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def browser(lab: tuple[str, Path]) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        try:
            yield b
        finally:
            b.close()


_STARTED = """() => [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')]
  .some(p => /\\[(\\*|\\d+)\\]/.test(p.textContent || ''))"""
_ALL_RAN = """() => {
  const cells = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell')];
  return cells.length > 0 && cells.every(c => /\\[\\d+\\]/.test(c.querySelector('.jp-InputPrompt')?.textContent || ''));
}"""


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_in_jupyterlab(lab: tuple[str, Path], browser: Any, notebook: Path, tmp_path: Path,
                                     request: pytest.FixtureRequest) -> None:
    url, folder = lab
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{url}/lab/tree/{notebook.name}?reset&token={TOKEN}")  # reset: no tabs restored from earlier tests
    page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=60_000)
    try:  # JupyterLab may ask which kernel to start: the preferred one (Python 3)
        page.locator(".jp-Dialog .jp-mod-accept").click(timeout=5_000)
    except Exception:
        pass
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)
    page.wait_for_timeout(3000)  # the kernel connects
    shot = tmp_path / f"{notebook.stem}.png"
    for attempt in range(3):  # the command palette: run every cell (again if the keys came before the focus)
        page.locator(".jp-Notebook .jp-Cell").first.click()
        page.keyboard.press("Escape")
        page.keyboard.press("Control+Shift+C")
        page.keyboard.type("Run All Cells")
        page.keyboard.press("Enter")
        try:
            page.wait_for_function(_STARTED, timeout=15_000, polling=500)
            break
        except Exception:
            if attempt == 2:
                page.screenshot(path=str(shot))
                raise
    try:
        page.wait_for_function(_ALL_RAN, timeout=300_000, polling=1000)
    finally:
        page.screenshot(path=str(shot))
    page.keyboard.press("Control+s")
    page.wait_for_timeout(1500)
    page.screenshot(path=str(shot))
    log_line(request, f"screenshot: {shot}")
    assert "official Jupyter news" not in page.locator("body").inner_text()
    saved = json.loads((folder / notebook.name).read_text(encoding="utf-8"))
    outputs = [o for c in saved["cells"] for o in c.get("outputs", [])]
    errors = [f"{o['ename']}: {o['evalue']}" for o in outputs if o["output_type"] == "error"]
    assert not errors, errors
    figures = sum("application/vnd.plotly.v1+json" in o.get("data", {}) for o in outputs)
    if figures:  # JupyterLab draws plotly's mimetype itself: the output element is the plot
        page.wait_for_function("n => [...document.querySelectorAll('.jp-OutputArea-output.js-plotly-plot')]"
                               ".filter(d => d.querySelector('.main-svg')).length >= n", arg=figures, timeout=30_000)
    drawn = page.locator(".jp-OutputArea-output.js-plotly-plot:has(.main-svg)").count()
    assert drawn >= figures, f"{figures} figures in the outputs, {drawn} drawn"
    assert page.locator(".jp-OutputArea-output mjx-container").count() == 0  # no query text typeset as math
    page.close()


@pytest.fixture(autouse=True)
def _shut_kernels_down(lab: tuple[str, Path]) -> Iterator[None]:
    """Each notebook's kernel ends with its test (the machine has two cores)."""
    yield
    url, _ = lab
    with urllib.request.urlopen(f"{url}/api/sessions?token={TOKEN}", timeout=10) as response:
        sessions = json.loads(response.read())
    for session in sessions:
        request = urllib.request.Request(f"{url}/api/sessions/{session['id']}?token={TOKEN}", method="DELETE")
        urllib.request.urlopen(request, timeout=30).close()
