"""Compile the TEXT plan parser's hot modules with mypyc (see ``dbworkbench/plans/_speedups.py``).

    python tools/compile_speedups.py [MODULE ...]

Builds ``<module>_mypyc`` extension modules beside ``dbworkbench/plans/<module>.py``
for the given modules of ``_speedups.MODULES`` (by default those not built or
older than their source), each stamped with the SHA-256 of the source it was
built from. Needs mypy (which brings mypyc), setuptools and a C compiler;
without them it says so and exits 0, since pure Python gives the same results.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dbworkbench.plans._speedups import MODULES, SUFFIX, source_hash, status  # noqa: E402

PLANS = ROOT / "dbworkbench" / "plans"
SETUP = """
import sys
from setuptools import setup
from mypyc.build import mypycify
setup(name="dbworkbench-speedups", packages=[], script_args=["build_ext", "--inplace", "--parallel", "2"],
      ext_modules=mypycify(["--follow-imports=silent", "--ignore-missing-imports", *sys.argv[1:]], separate=True))
"""


def main(names: list[str]) -> int:
    unknown = sorted(set(names) - set(MODULES))
    if unknown:
        print(f"compile_speedups: {', '.join(unknown)} not among {', '.join(MODULES)}")
        return 2
    if not names:  # what make runs: only what is missing or older than its source
        names = [name for name, state in status(honour_env=False).items() if state != "compiled"]
        if not names:
            print("compile_speedups: the compiled plan parser is current")
            return 0
    try:
        import mypyc.build  # noqa: F401
        import setuptools  # noqa: F401
    except ImportError as exc:
        print(f"compile_speedups: {exc.name} is not installed; the plan parser stays pure Python")
        return 0
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="dwb-speedups-") as tmp:
        work = Path(tmp)
        shutil.copytree(ROOT / "dbworkbench", work / "dbworkbench", ignore=shutil.ignore_patterns("__pycache__", "*.so"))
        for init in ("dbworkbench/__init__.py", "dbworkbench/plans/__init__.py"):
            (work / init).write_text("")  # mypy then reads only what the compiled modules import
        targets = []
        for name in names:
            copy = work / "dbworkbench" / "plans" / f"{name}{SUFFIX}.py"
            source = (PLANS / f"{name}.py").read_text(encoding="utf-8")
            copy.write_text(f'{source}\n\nSOURCE_SHA256 = "{source_hash(name)}"\n', encoding="utf-8")
            targets.append(str(copy.relative_to(work)))
        run = subprocess.run([sys.executable, "-c", SETUP, *targets], cwd=work, capture_output=True, text=True)
        if run.returncode != 0:
            print(run.stdout[-3000:], run.stderr[-3000:], sep="\n")
            print("compile_speedups: the build failed (above); the plan parser stays pure Python")
            return 0
        strays = [p.name for p in work.glob("*.so")]  # a shared library outside the package could not be loaded
        if strays:
            print(f"compile_speedups: unexpected shared libraries {strays}; the plan parser stays pure Python")
            return 0
        for name in names:
            for old in PLANS.glob(f"{name}{SUFFIX}*.so"):
                old.unlink()
        built = sorted((work / "dbworkbench" / "plans").glob(f"*{SUFFIX}*.so"))
        for so in built:
            shutil.copy2(so, PLANS / so.name)
    print(f"compile_speedups: built {', '.join(p.name for p in built)} in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
