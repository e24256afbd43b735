"""A wheel is a working install: ``python -m build``, install it into a fresh virtual environment
outside the repository, then ``dbworkbench lab`` finds the notebooks, ``dbworkbench health`` runs on
the sandbox and ``parse_plan`` reads a plan.

The fresh environment gets the wheel only (``--no-deps``); its dependencies come from this
test's own environment, through a ``.pth`` line that appends that site-packages folder (so the
repository's editable install, a ``.pth`` of its own there, is not seen).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(cmd: list[str | Path], cwd: Path, timeout: int = 120, **env: str) -> subprocess.CompletedProcess[str]:
    run = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                         env={**os.environ, "PYTHONNOUSERSITE": "1", **env})
    assert run.returncode == 0, f"{cmd} failed:\n{run.stdout[-2000:]}\n{run.stderr[-3000:]}"
    return run


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """(the fresh environment's bin folder, a working folder outside the repository)."""
    tmp = tmp_path_factory.mktemp("wheel")
    _run([sys.executable, "-m", "build", "--wheel", "--outdir", tmp / "dist", ROOT], cwd=tmp, timeout=300)
    [wheel] = (tmp / "dist").glob("dbworkbench-*.whl")
    env = tmp / "venv"
    _run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", "--without-pip", env], cwd=tmp)
    python = env / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "--quiet", wheel], cwd=tmp)
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=tmp).stdout.strip())
    (site / "zz_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    work = tmp / "work"
    work.mkdir()
    yield env / "bin", work


def test_wheel_ships_the_notebooks_and_no_compiled_code(installed: tuple[Path, Path]) -> None:
    bin_dir, _work = installed
    [wheel] = (bin_dir.parent.parent / "dist").glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    shipped = {Path(n).name for n in names if n.startswith("dbworkbench/_notebooks/") and n.endswith(".ipynb")}
    assert shipped == {p.name for p in (ROOT / "notebooks").glob("*.ipynb")}
    assert not [n for n in names if n.endswith((".so", ".pyd", ".pyx", ".c"))]


def test_the_installed_package_is_the_wheel(installed: tuple[Path, Path]) -> None:
    bin_dir, work = installed
    code = ("import json, dbworkbench as wb; p = wb.parse_plan('Seq Scan on t  (cost=0.00..35.50 rows=2550 width=4)');"
            "print(json.dumps([wb.__file__, p.nodes.loc[0, 'relation'], len(p.nodes)]))")
    where, relation, nodes = json.loads(_run([bin_dir / "python", "-c", code], cwd=work).stdout)
    assert Path(where).is_relative_to(bin_dir.parent) and not Path(where).is_relative_to(ROOT)
    assert (relation, nodes) == ("t", 1)


def test_lab_health_and_explain_from_the_wheel(installed: tuple[Path, Path], sandbox: object) -> None:
    """``sandbox``: the session's server; the installed commands find it through $DBWORKBENCH_HOME."""
    bin_dir, work = installed
    cli = bin_dir / "dbworkbench"
    assert "--notebooks" in _run([cli, "lab", "--help"], cwd=work).stdout
    folder = work / "my-notebooks"
    lab = _run([cli, "lab", "--no-lab", "--iterations", "0", "--scale", "tiny", "--notebooks", folder], cwd=work, timeout=300)
    copied = sorted(p.name for p in folder.glob("*.ipynb"))
    assert copied == sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb")) and copied
    assert f"notebooks: {folder} ({len(copied)} notebooks)" in lab.stdout
    (folder / copied[0]).write_text("{}")  # the user's edit survives the next start
    _run([cli, "lab", "--no-lab", "--iterations", "0", "--scale", "tiny", "--notebooks", folder], cwd=work, timeout=300)
    assert (folder / copied[0]).read_text() == "{}"
    health = json.loads(_run([cli, "health", "--format", "json"], cwd=work, timeout=300).stdout)
    assert health and {"check", "status"} <= set(health[0])
    plan = work / "plan.txt"
    plan.write_text("Seq Scan on t  (cost=0.00..35.50 rows=2550 width=4) (actual time=0.01..0.20 rows=2550 loops=1)\n")
    out = json.loads(_run([cli, "explain", plan, "--format", "json"], cwd=work).stdout)
    assert out["nodes"][0]["relation"] == "t"
