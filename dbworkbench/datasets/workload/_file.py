"""The workload file format (``data/demo/workload.sql``): headers, parameters, followers, checks."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..._paths import data_dir
from ...errors import UnsafeStatement, WorkbenchError
from ...guard import classify, from_pyformat, split_statements
from ._values import GENERATORS, check_args


_KEYS = ("name", "weight", "kind", "params", "for_each", "note")
_KEY_LINE = re.compile(r"^--\s*([a-z_]+)\s*:\s?(.*?)\s*$")


_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_PARAM = re.compile(r"^([A-Za-z_]\w*)\s*=\s*([a-z_][a-z0-9_]*)\s*(?:\((.*)\))?$")


_FOR_EACH = re.compile(r"^([a-z][a-z0-9_]*)\.([A-Za-z_]\w*)\s*->\s*([A-Za-z_]\w*)$")
_PLACEHOLDER = re.compile(r"%\(([A-Za-z_]\w*)\)s")


_BAD_PERCENT = re.compile(r"%(?!\([A-Za-z_]\w*\)s)")


class WorkloadError(WorkbenchError, ValueError):
    """A workload file is malformed; ``path``, ``line`` and ``expected`` say where and what."""

    def __init__(self, message: str, *, path: Path | None = None, line: int | None = None,
                 expected: str | None = None) -> None:
        self.path, self.line, self.expected = path, line, expected
        where = f"{path or '<workload>'}:{line}: " if line is not None else f"{path or '<workload>'}: "
        tail = f" (expected {expected})" if expected else ""
        super().__init__(f"{where}{message}{tail}")


@dataclass(frozen=True)
class Param:
    """``name = generator(args)`` from a ``-- params:`` header."""

    name: str
    generator: str
    args: tuple[int | float | str, ...] = ()


@dataclass(frozen=True)
class ForEach:
    """``-- for_each: statement.column -> param``: run once per row of ``statement``'s result."""

    statement: str
    column: str
    param: str


@dataclass(frozen=True)
class WorkloadStatement:
    """One statement of the workload file with its header."""

    name: str
    sql: str
    kind: str
    weight: int
    params: tuple[Param, ...] = ()
    for_each: ForEach | None = None
    note: str = ""
    line: int = 0
    path: Path | None = field(default=None, compare=False)


def workload_path() -> Path:
    """The shipped demo workload file, ``data/demo/workload.sql``."""
    return data_dir() / "demo" / "workload.sql"


def auto_explain_log_path() -> Path:
    """A small auto_explain log of the demo workload, shipped with the package: TEXT and JSON entries,
    three log_line_prefix forms (read it with :func:`dbworkbench.read_auto_explain`)."""
    return data_dir() / "demo" / "auto_explain.log"


def load_workload(path: Path | None = None) -> list[WorkloadStatement]:
    """Parse a workload file (default: the demo's) into statements, in file order.

    Raises :class:`WorkloadError` naming the file, the line and what was expected.

    >>> [s.name for s in load_workload()][:2]
    ['user_by_id', 'user_by_email']
    """
    path = Path(path) if path is not None else workload_path()
    return parse_workload(path.read_text(encoding="utf-8"), path=path)


def parse_workload(text: str, *, path: Path | None = None) -> list[WorkloadStatement]:
    """Parse workload text; see :func:`load_workload`."""
    lines = text.splitlines()
    starts = [i for i, ln in enumerate(lines) if (m := _KEY_LINE.match(ln)) and m.group(1) == "name"]
    if not starts:
        raise WorkloadError("no statements", path=path, line=1, expected="a '-- name: <identifier>' header")
    before = _statements("\n".join(lines[: starts[0]]), 0, path)
    if before:
        raise WorkloadError("SQL before the first header", path=path, line=before[0][0],
                            expected="a '-- name: <identifier>' line before each statement")
    statements: list[WorkloadStatement] = []
    seen: dict[str, int] = {}
    for start, end in zip(starts, [*starts[1:], len(lines)]):
        stmt = _parse_entry(lines, start, end, path)
        if stmt.name in seen:
            raise WorkloadError(f"duplicate statement name {stmt.name!r} (first on line {seen[stmt.name]})",
                                path=path, line=stmt.line, expected="unique names")
        seen[stmt.name] = stmt.line
        statements.append(stmt)
    _check_followers(statements, path)
    return statements


def _parse_entry(lines: list[str], start: int, end: int, path: Path | None) -> WorkloadStatement:
    """One header block and its statement; ``start`` is the 0-based index of its name line."""
    header: dict[str, tuple[int, str]] = {}
    notes: list[str] = []
    i = start
    while i < end and lines[i].lstrip().startswith("--"):
        lineno, m = i + 1, _KEY_LINE.match(lines[i].strip())
        i += 1
        if not m:
            continue                                  # prose
        key, value = m.groups()
        if key not in _KEYS:
            raise WorkloadError(f"unknown header key {key!r}", path=path, line=lineno,
                                expected="one of " + ", ".join(_KEYS))
        if key == "note":
            notes.append(value)
        elif key in header:
            raise WorkloadError(f"second '-- {key}:' for one statement", path=path, line=lineno,
                                expected="each key once per statement")
        else:
            header[key] = (lineno, value)
    name_line, name = header["name"]
    if not _NAME.match(name):
        raise WorkloadError(f"bad statement name {name!r}", path=path, line=name_line,
                            expected="an identifier like user_by_email ([a-z][a-z0-9_]*)")
    sql_text = _body(lines, i, end, name, name_line, path)
    params = _parse_params(*header.get("params", (name_line, "")), path)
    for_each = _parse_for_each(header["for_each"], path) if "for_each" in header else None
    weight = _parse_weight(header, for_each, path)
    kind = _parse_kind(header, sql_text, name_line, path)
    _check_placeholders(sql_text, params, for_each, name, name_line, path)
    return WorkloadStatement(name=name, sql=sql_text, kind=kind, weight=weight, params=params,
                             for_each=for_each, note=" ".join(notes), line=name_line, path=path)


def _body(lines: list[str], i: int, end: int, name: str, name_line: int, path: Path | None) -> str:
    """The one SQL statement after a header, without its ';'."""
    found = _statements("\n".join(lines[i:end]), i, path)
    if not found:
        raise WorkloadError(f"statement {name!r} has no SQL", path=path, line=name_line,
                            expected="one SQL statement ending in ';' after the header")
    if len(found) > 1:
        raise WorkloadError(f"a second statement after {name!r}", path=path, line=found[1][0],
                            expected="one statement per '-- name:' header")
    line, text, terminated = found[0]
    if not terminated:
        raise WorkloadError(f"statement {name!r} does not end with ';'", path=path,
                            line=line, expected="';' at the end of the statement")
    return text


def _statements(text: str, offset: int, path: Path | None) -> list[tuple[int, str, bool]]:
    """(line, text, ends with ';') of each statement of ``text`` (guard's splitter), lines counted from ``offset``."""
    try:
        parts = split_statements(text)
    except UnsafeStatement as err:
        raise WorkloadError(str(err), path=path, line=offset + 1, expected="SQL with closed quotes and comments") from None
    out, at = [], 0
    for part in parts:
        at = text.index(part, at)
        line = offset + text.count("\n", 0, at + _code_start(part)) + 1
        at += len(part)
        out.append((line, part, text[at:].lstrip().startswith(";")))
    return out


_LEADING_COMMENTS = re.compile(r"(?:\s+|--[^\n]*|/\*.*?\*/)*", re.DOTALL)


def _code_start(statement: str) -> int:
    """Where the code of a statement starts, after the comments the splitter keeps in front of it."""
    m = _LEADING_COMMENTS.match(statement)
    return m.end() if m else 0


def _parse_args(raw: str) -> tuple[int | float | str, ...]:
    out: list[int | float | str] = []
    for part in (p.strip() for p in raw.split(",")):
        if re.fullmatch(r"-?\d+", part):
            out.append(int(part))
        elif re.fullmatch(r"-?\d+\.\d*", part):
            out.append(float(part))
        else:
            out.append(part.strip("'\""))
    return tuple(out)


def _parse_params(lineno: int, value: str, path: Path | None) -> tuple[Param, ...]:
    params: list[Param] = []
    for item in _split_top_level(value):
        m = _PARAM.match(item)
        if not m:
            raise WorkloadError(f"bad parameter {item!r}", path=path, line=lineno,
                                expected="name = generator or name = generator(arg, ...)")
        pname, gen, raw_args = m.groups()
        if gen not in GENERATORS:
            raise WorkloadError(f"unknown generator {gen!r} for {pname!r}", path=path, line=lineno,
                                expected="one of " + ", ".join(sorted(GENERATORS)))
        args = _parse_args(raw_args) if raw_args is not None and raw_args.strip() else ()
        problem = check_args(gen, args)
        if problem:
            raise WorkloadError(f"bad arguments to {gen}{args!r}", path=path, line=lineno, expected=problem)
        if any(p.name == pname for p in params):
            raise WorkloadError(f"parameter {pname!r} given twice", path=path, line=lineno,
                                expected="each parameter once")
        params.append(Param(pname, gen, args))
    return tuple(params)


def _split_top_level(value: str) -> list[str]:
    """Split ``a = g, b = h(1, 2)`` on the commas outside parentheses."""
    items, depth, cur = [], 0, ""
    for ch in value:
        depth += (ch == "(") - (ch == ")")
        if ch == "," and depth == 0:
            items.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        items.append(cur.strip())
    return items


def _parse_for_each(entry: tuple[int, str], path: Path | None) -> ForEach:
    lineno, value = entry
    m = _FOR_EACH.match(value)
    if not m:
        raise WorkloadError(f"bad for_each {value!r}", path=path, line=lineno,
                            expected="statement.column -> param")
    return ForEach(*m.groups())


def _parse_weight(header: dict[str, tuple[int, str]], for_each: ForEach | None, path: Path | None) -> int:
    if "weight" not in header:
        return 0 if for_each else 1
    lineno, value = header["weight"]
    if for_each:
        raise WorkloadError("a for_each follower has no weight", path=path, line=lineno,
                            expected="no '-- weight:' with '-- for_each:' (it runs with its driver)")
    if not re.fullmatch(r"\d+", value):
        raise WorkloadError(f"bad weight {value!r}", path=path, line=lineno, expected="an integer >= 0")
    return int(value)


def _parse_kind(header: dict[str, tuple[int, str]], sql_text: str, name_line: int, path: Path | None) -> str:
    if "kind" in header:
        lineno, value = header["kind"]
        if value not in ("read", "write"):
            raise WorkloadError(f"bad kind {value!r}", path=path, line=lineno, expected="read or write")
        return value
    try:
        found = classify(from_pyformat(sql_text))  # as the server will see it
    except UnsafeStatement as err:
        raise WorkloadError(str(err), path=path, line=name_line, expected="one SQL statement") from None
    if found.kind in ("read", "write"):  # DDL and transaction control have no place in a workload
        return found.kind
    raise WorkloadError(f"cannot tell whether {found.keyword} reads or writes", path=path, line=name_line,
                        expected="'-- kind: read' or '-- kind: write'")


def _check_placeholders(sql_text: str, params: tuple[Param, ...], for_each: ForEach | None, name: str,
                        line: int, path: Path | None) -> None:
    bare = sql_text.replace("%%", "")
    if _BAD_PERCENT.search(bare):
        raise WorkloadError(f"a lone '%' in {name!r}", path=path, line=line,
                            expected="named placeholders %(name)s, and %% for a literal %")
    used = set(_PLACEHOLDER.findall(bare))
    bound = {p.name for p in params} | ({for_each.param} if for_each else set())
    if missing := sorted(used - bound):
        raise WorkloadError(f"placeholder %({missing[0]})s of {name!r} has no value", path=path, line=line,
                            expected="it in '-- params:' or as the '-- for_each:' param")
    if unused := sorted(bound - used):
        raise WorkloadError(f"parameter {unused[0]!r} of {name!r} is not used", path=path, line=line,
                            expected=f"%({unused[0]})s in the SQL")


def _check_followers(statements: list[WorkloadStatement], path: Path | None) -> None:
    by_name = {s.name: s for s in statements}
    for s in statements:
        if s.for_each is None:
            continue
        driver = by_name.get(s.for_each.statement)
        if driver is None or driver.for_each is not None or driver is s:
            raise WorkloadError(f"for_each of {s.name!r} names {s.for_each.statement!r}", path=path, line=s.line,
                                expected="the name of another statement of the file that is not itself a follower")
