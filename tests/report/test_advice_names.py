"""Every function, command, flag and notebook that advice text names exists.

Advice text: the strings of the health checks, the plan insights, the index advisor, the lint rules
and the report's sections (read from their source), the notebooks' prose and the command line's help. A name is
``db.x(`` (a Workbench member), ``wb.x`` / ``dbworkbench.x`` (a package attribute or module),
``advice.x(`` / ``plan.x(`` (members of Advice and Plan), ``dbworkbench <command> [--flag]``
(a command and its options) or ``NN_name.ipynb`` (a curated notebook).
"""

from __future__ import annotations

import ast
import importlib
import json
import re
from pathlib import Path

import click
import pytest

import dbworkbench as wb
from dbworkbench.advisor.advice import Advice
from dbworkbench.cli import main

ROOT = Path(wb.__file__).resolve().parent
ADVICE_SOURCES = ["health", "plans/insights", "advisor", "sqltools", "report", "widgets", "timing", "cli.py", "workbench.py",
                  "explain.py", "guard", "errors.py", "target.py"]
NOTEBOOKS = Path(wb.__file__).resolve().parent.parent / "notebooks"


def _strings(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            out.append(node.value)
        elif isinstance(node, ast.JoinedStr):  # an f-string: its literal parts, joined
            out.append("".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)))
    return out


def _texts() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for entry in ADVICE_SOURCES:
        base = ROOT / entry
        for path in sorted(base.rglob("*.py") if base.is_dir() else [base]):
            found += [(str(path.relative_to(ROOT)), s) for s in _strings(path)]
    for path in sorted(NOTEBOOKS.glob("[0-9]*.ipynb")):  # the notebooks' prose
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        found += [(path.name, "".join(c["source"])) for c in cells if c["cell_type"] == "markdown"]
    for name, command in _commands(main):
        found.append((f"dbworkbench {name} --help", command.help or ""))
        found += [(f"dbworkbench {name} --help", getattr(p, "help", None) or "") for p in command.params]
    return found


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    out: list[tuple[str, click.Command]] = []
    for name, command in group.commands.items():
        full = f"{prefix} {name}".strip()
        out.append((full, command))
        if isinstance(command, click.Group):
            out += _commands(command, full)
    return out


TEXTS = _texts()
COMMANDS = dict(_commands(main))


def _exists_in_package(dotted: str) -> bool:
    obj: object = wb
    parts = dotted.split(".")
    for i, part in enumerate(parts):
        if hasattr(obj, part):
            obj = getattr(obj, part)
            continue
        try:
            obj = importlib.import_module("dbworkbench." + ".".join(parts[: i + 1]))
        except ImportError:
            return False
    return True


def _problems(where: str, text: str) -> list[str]:
    bad: list[str] = []
    if not re.search(r"\s", text.strip()):  # a lone token (a context key, a logger name) is not advice
        return bad
    for name in re.findall(r"\bdb\.([A-Za-z_]\w*)\(", text):
        if not hasattr(wb.Workbench, name):
            bad.append(f"db.{name}() is not a Workbench member")
    for name in re.findall(r"\b(?:wb|dbworkbench)\.([A-Za-z_][\w.]*\w)", text):
        if not _exists_in_package(name):
            bad.append(f"dbworkbench.{name} does not exist")
    for name in re.findall(r"\badvice\.([A-Za-z_]\w*)\(", text):
        if not hasattr(Advice, name):
            bad.append(f"advice.{name}() is not an Advice member")
    for name in re.findall(r"\bplan\.([A-Za-z_]\w*)\(", text):
        if not hasattr(wb.Plan, name):
            bad.append(f"plan.{name}() is not a Plan member")
    for words, flags in re.findall(r"`dbworkbench ((?:[a-z][\w-]* ?)+)((?:[^`]*?))`", text):
        words = words.split()
        for n in range(len(words), 0, -1):
            if " ".join(words[:n]) in COMMANDS:
                command = COMMANDS[" ".join(words[:n])]
                known = {o for p in command.params for o in getattr(p, "opts", [])}
                bad += [f"dbworkbench {' '.join(words[:n])} has no option {f}" for f in re.findall(r"(--[a-z][\w-]*)", flags)
                        if f not in known]
                break
        else:
            bad.append(f"no command `dbworkbench {' '.join(words)}`")
    for notebook in re.findall(r"\b(\d\d_\w+)\.ipynb", text):
        if not (NOTEBOOKS / f"{notebook}.ipynb").exists():
            bad.append(f"no notebook {notebook}.ipynb")
    return [f"{where}: {b} (in {text[:80]!r})" for b in bad]


def test_advice_text_is_read() -> None:
    """The scan sees the advice it checks (so an empty scan cannot pass)."""
    joined = "\n".join(t for _, t in TEXTS)
    assert "db.advise()" in joined and "dbworkbench" in joined and ".ipynb" in joined


@pytest.mark.parametrize("where", sorted({w for w, _ in TEXTS}))
def test_names_in_advice_exist(where: str) -> None:
    problems = [p for w, t in TEXTS if w == where for p in _problems(w, t)]
    assert not problems, "\n".join(problems)


def test_the_checker_catches_a_missing_name() -> None:
    assert _problems("x", "run db.no_such_method() then `dbworkbench nosuch --flag`, see 09_nothing.ipynb") and \
        len(_problems("x", "run db.no_such_method() then `dbworkbench nosuch --flag`, see 09_nothing.ipynb")) == 3
    assert _problems("x", "`dbworkbench advise --no-such-flag`")
    assert not _problems("x", "`dbworkbench advise --budget-mb 50`; db.advise(); wb.lint; 06_report.ipynb")
