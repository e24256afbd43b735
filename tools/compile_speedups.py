"""Build the TEXT plan parser's compiled code (see ``dbworkbench/plans/_speedups.py``).

    python tools/compile_speedups.py [NAME ...]

Builds, beside their sources in ``dbworkbench/plans/``, ``<name>_mypyc`` from
``<name>.py`` with mypyc for the names in ``_speedups.MODULES``, and ``<name>``
from ``<name>.pyx`` with Cython for those in ``_speedups.EXTENSIONS``: by
default each one not built or older than its source. Each build is stamped
with the SHA-256 of the source it was built from. Needs mypy (which brings
mypyc), Cython, setuptools and a C compiler; without them it says so and
exits 0, since pure Python gives the same results.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dbworkbench.plans._speedups import EXTENSIONS, MODULES, SUFFIX, source_hash, source_path, status  # noqa: E402

PLANS = ROOT / "dbworkbench" / "plans"
MYPYC = """
import sys
from setuptools import setup
from mypyc.build import mypycify
setup(name="dbworkbench-speedups", packages=[], script_args=["build_ext", "--inplace", "--parallel", "2"],
      ext_modules=mypycify(["--follow-imports=silent", "--ignore-missing-imports", *sys.argv[1:]], separate=True))
"""
CYTHON = """
import sys
from setuptools import Extension, setup
from Cython.Build import cythonize
exts = [Extension(p[:-4].replace("/", "."), [p]) for p in sys.argv[1:]]
setup(name="dbworkbench-speedups", packages=[], script_args=["build_ext", "--inplace"],
      ext_modules=cythonize(exts, quiet=True))
"""
NEEDS = {"mypyc": ("mypyc", "setuptools"), "cython": ("Cython", "setuptools")}


def main(names: list[str]) -> int:
    known = (*MODULES, *EXTENSIONS)
    unknown = sorted(set(names) - set(known))
    if unknown:
        print(f"compile_speedups: {', '.join(unknown)} not among {', '.join(known)}")
        return 2
    if not names:  # what make runs: only what is missing or older than its source
        names = [name for name, state in status(honour_env=False).items() if state != "compiled"]
        if not names:
            print("compile_speedups: the compiled plan parser is current")
            return 0
    started = time.perf_counter()
    built: list[str] = []
    with tempfile.TemporaryDirectory(prefix="dwb-speedups-") as tmp:
        work = Path(tmp)
        shutil.copytree(ROOT / "dbworkbench", work / "dbworkbench", ignore=shutil.ignore_patterns("__pycache__", "*.so"))
        for init in ("dbworkbench/__init__.py", "dbworkbench/plans/__init__.py"):
            (work / init).write_text("")  # mypy then reads only what the compiled modules import
        for tool, script, group in (("mypyc", MYPYC, [n for n in names if n in MODULES]),
                                    ("cython", CYTHON, [n for n in names if n in EXTENSIONS])):
            if group:
                built += _build(work, tool, script, group)
    if built:
        print(f"compile_speedups: built {', '.join(built)} in {time.perf_counter() - started:.0f} s")
    return 0


def _build(work: Path, tool: str, script: str, names: list[str]) -> list[str]:
    """Build ``names`` with ``tool`` in the copy at ``work``; copy what it made into the package."""
    missing = [m for m in NEEDS[tool] if importlib.util.find_spec(m) is None]
    if missing:
        print(f"compile_speedups: {', '.join(missing)} not installed; {', '.join(names)} stay pure Python")
        return []
    targets = []
    for name in names:
        source = source_path(name)
        built_name = name + (SUFFIX if name in MODULES else "")
        copy = work / "dbworkbench" / "plans" / f"{built_name}{source.suffix}"
        copy.write_text(f'{source.read_text(encoding="utf-8")}\n\nSOURCE_SHA256 = "{source_hash(name)}"\n', encoding="utf-8")
        targets.append(str(copy.relative_to(work)))
    run = subprocess.run([sys.executable, "-c", script, *targets], cwd=work, capture_output=True, text=True)
    if run.returncode != 0:
        print(run.stdout[-3000:], run.stderr[-3000:], sep="\n")
        print(f"compile_speedups: the {tool} build failed (above); {', '.join(names)} stay pure Python")
        return []
    strays = [p.name for p in work.glob("*.so")]  # a shared library outside the package could not be loaded
    if strays:
        print(f"compile_speedups: unexpected shared libraries {strays}; {', '.join(names)} stay pure Python")
        return []
    copied = []
    for name in names:
        built_name = name + (SUFFIX if name in MODULES else "")
        for old in PLANS.glob(f"{built_name}.*so"):
            old.unlink()
        for old in PLANS.glob(f"{built_name}__mypyc.*so"):
            old.unlink()
        for so in sorted((work / "dbworkbench" / "plans").glob(f"{built_name}[._]*so")):
            shutil.copy2(so, PLANS / so.name)
            copied.append(so.name)
    return copied


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
