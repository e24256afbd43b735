"""The demo workload: a blog application's statements, parsed from ``data/demo/workload.sql``.

:func:`load_workload` parses the annotated file (its header format is documented at
the top of the file) into :class:`WorkloadStatement` objects; :func:`run_workload`
runs weighted random picks of them against the demo database and returns a summary.

>>> stmts = load_workload()
>>> len(stmts) >= 25
True
>>> next(s for s in stmts if s.name == "user_by_lower_email").kind
'read'
"""

from __future__ import annotations

import itertools
import random
import re
import string
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
from psycopg import sql
from psycopg.pq import TransactionStatus
from psycopg.types.numeric import Int8
from tqdm.auto import tqdm

from .._paths import data_dir
from ..errors import UnsafeStatement, WorkbenchError
from ..guard import classify, from_pyformat

__all__ = [
    "GENERATORS",
    "ForEach",
    "Param",
    "SqlChunk",
    "WorkloadError",
    "WorkloadStatement",
    "load_workload",
    "parse_workload",
    "run_workload",
    "split_sql",
    "workload_path",
]

SUMMARY_COLUMNS = ["statement", "kind", "calls", "errors", "total_ms", "mean_ms", "rows"]
_KEYS = ("name", "weight", "kind", "params", "for_each", "note")
_KEY_LINE = re.compile(r"^--\s*([a-z_]+)\s*:\s?(.*?)\s*$")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_PARAM = re.compile(r"^([A-Za-z_]\w*)\s*=\s*([a-z_][a-z0-9_]*)\s*(?:\((.*)\))?$")
_FOR_EACH = re.compile(r"^([a-z][a-z0-9_]*)\.([A-Za-z_]\w*)\s*->\s*([A-Za-z_]\w*)$")
_PLACEHOLDER = re.compile(r"%\(([A-Za-z_]\w*)\)s")
_BAD_PERCENT = re.compile(r"%(?!\([A-Za-z_]\w*\)s)")


# --------------------------------------------------------------------------- SQL files


@dataclass(frozen=True)
class SqlChunk:
    """A piece of a SQL file up to (not including) a top-level ``;``.

    ``line`` is the 1-based line where its code starts (after leading comments) in
    the text split; ``is_comment`` says it holds nothing but comments and white space.
    """

    line: int
    text: str
    terminated: bool
    is_comment: bool


_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")


def split_sql(text: str) -> list[SqlChunk]:
    """Split SQL text on the semicolons outside quotes, comments and dollar quotes.

    >>> [c.text for c in split_sql("SELECT ';'; SELECT $$a;b$$;")]
    ["SELECT ';'", ' SELECT $$a;b$$']
    """
    chunks: list[SqlChunk] = []
    start, i, n = 0, 0, len(text)

    def add(end: int, terminated: bool) -> None:
        piece = text[start:end]
        if piece.strip() or terminated:
            comment = _is_comment(piece)
            lead = len(piece) - len(piece.lstrip()) if comment else _code_start(piece)
            chunks.append(SqlChunk(text.count("\n", 0, start + lead) + 1, piece, terminated, comment))

    while i < n:
        c = text[i]
        if text.startswith("--", i):
            j = text.find("\n", i)
            i = n if j < 0 else j + 1
        elif text.startswith("/*", i):
            i = _skip_block_comment(text, i)
        elif c == "'":
            escapes = i > 0 and text[i - 1] in "eE" and (i < 2 or not (text[i - 2].isalnum() or text[i - 2] == "_"))
            i = _skip_quoted(text, i, "'", escapes)
        elif c == '"':
            i = _skip_quoted(text, i, '"', False)
        elif c == "$" and (m := _DOLLAR_TAG.match(text, i)) and not (i and (text[i - 1].isalnum() or text[i - 1] == "_")):
            j = text.find(m.group(0), m.end())
            i = n if j < 0 else j + len(m.group(0))
        elif c == ";":
            add(i, True)
            i += 1
            start = i
        else:
            i += 1
    add(n, False)
    return chunks


def _code_start(piece: str) -> int:
    """Offset of the first character of ``piece`` that is neither blank nor in a comment."""
    i = 0
    while i < len(piece):
        if piece[i].isspace():
            i += 1
        elif piece.startswith("--", i):
            j = piece.find("\n", i)
            i = len(piece) if j < 0 else j + 1
        elif piece.startswith("/*", i):
            i = _skip_block_comment(piece, i)
        else:
            break
    return i


def _skip_block_comment(text: str, i: int) -> int:
    depth, i = 1, i + 2
    while i < len(text) and depth:
        if text.startswith("/*", i):
            depth, i = depth + 1, i + 2
        elif text.startswith("*/", i):
            depth, i = depth - 1, i + 2
        else:
            i += 1
    return i


def _skip_quoted(text: str, i: int, quote: str, backslash_escapes: bool) -> int:
    i += 1
    while i < len(text):
        if backslash_escapes and text[i] == "\\":
            i += 2
        elif text[i] == quote:
            if text.startswith(quote * 2, i):
                i += 2
            else:
                return i + 1
        else:
            i += 1
    return i


def _is_comment(piece: str) -> bool:
    return not re.sub(r"/\*.*?\*/", "", re.sub(r"--[^\n]*", "", piece), flags=re.DOTALL).strip()


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
    for chunk in split_sql("\n".join(lines[: starts[0]])):
        if not chunk.is_comment:
            raise WorkloadError("SQL before the first header", path=path, line=chunk.line,
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
    offset = i
    chunks = [c for c in split_sql("\n".join(lines[i:end])) if not c.is_comment]
    if not chunks:
        raise WorkloadError(f"statement {name!r} has no SQL", path=path, line=name_line,
                            expected="one SQL statement ending in ';' after the header")
    first = chunks[0]
    if len(chunks) > 1:
        raise WorkloadError(f"a second statement after {name!r}", path=path, line=offset + chunks[1].line,
                            expected="one statement per '-- name:' header")
    if not first.terminated:
        raise WorkloadError(f"statement {name!r} does not end with ';'", path=path,
                            line=offset + first.line, expected="';' at the end of the statement")
    return first.text.strip()


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


# --------------------------------------------------------------------------- generators

_STOPWORDS = frozenset((
    "about", "after", "another", "before", "behind", "does", "each", "every", "from", "have", "inside",
    "into", "never", "often", "over", "some", "that", "their", "them", "then", "there", "they", "this",
    "under", "very", "what", "when", "which", "while", "with", "without", "your",
))
_FIRST = ("Alex", "Sam", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Avery", "Quinn")
_LAST = ("Park", "Novak", "Okafor", "Berg", "Moreau", "Costa", "Sato", "Walsh", "Reyes", "Fischer")


@dataclass
class Pools:
    """Values sampled once per run from the demo database, for the generators to draw from."""

    users: list[tuple[Any, str, str]]          # id, email, username
    writer_ids: list[Any]                      # posts.user_id of sampled posts: skewed like writing
    posts: list[tuple[Any, str]]               # id, slug
    hot_post_ids: list[Any]                    # comments.post_id of sampled comments: skewed like comments
    comment_ids: list[Any]
    title_words: list[str]
    content_words: list[str]
    sentences: list[str]
    published: int
    latest: datetime
    nonce: str
    counter: Iterator[int] = field(default_factory=itertools.count)


def _sample(conn: psycopg.Connection[Any], table: str, columns: Sequence[str], want: int,
            seed: int) -> list[tuple[Any, ...]]:
    """About ``want`` rows of ``table``, the same ones for the same seed and data."""
    row = conn.execute("SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)", [table]).fetchone()
    estimate = float(row[0]) if row else -1.0
    percent = 100.0 if estimate <= 0 else min(100.0, 100.0 * want * 3 / estimate)
    query = sql.SQL("SELECT {} FROM {} TABLESAMPLE BERNOULLI (%s) REPEATABLE (%s) LIMIT %s").format(
        sql.SQL(", ").join(map(sql.Identifier, columns)), sql.Identifier(table))
    return conn.execute(query, [percent, float(seed), Int8(want)]).fetchall()


def sample_pools(conn: psycopg.Connection[Any], seed: int) -> Pools:
    """Sample the generators' pools from the demo tables (raises if they are missing or empty)."""
    with conn.transaction() if not conn.autocommit else nullcontext():
        found = conn.execute(
            "SELECT count(to_regclass(t)) FROM unnest(ARRAY['users', 'posts', 'comments']) AS t").fetchone()
        if not found or found[0] != 3:
            raise WorkbenchError("the demo tables (users, posts, comments) are not in this database: "
                                 "load them first with dbworkbench.datasets.load_demo(conn)")
        users = [(r[0], r[1], r[2]) for r in _sample(conn, "users", ("id", "email", "username"), 2000, seed)]
        posts = _sample(conn, "posts", ("id", "user_id", "slug", "title", "content", "status"), 2000, seed)
        comments = _sample(conn, "comments", ("id", "post_id"), 2000, seed)
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM posts WHERE status = 'published'),"
            " (SELECT count(*) FROM posts), (SELECT max(created_at) FROM users),"
            " (SELECT max(published_at) FROM posts WHERE status = 'published')").fetchone()
    if not users or not posts or not comments or counts is None:
        raise WorkbenchError("the demo tables are empty: load them with dbworkbench.datasets.load_demo(conn)")
    n_users, published, n_posts, last_user, last_post = counts
    title_words = {w for r in posts for w in re.findall(r"\b[a-z]{4,}\b", r[3])} - _STOPWORDS
    content_words = {w for r in posts[:300] for w in re.findall(r"\b[a-z]{4,}\b", r[4].lower())} - _STOPWORDS
    sentences = sorted({s.strip() for r in posts[:300] for s in re.split(r"(?<=[.?!])\s+", r[4]) if s.strip()})
    latest = max(t for t in (last_user, last_post, datetime(2000, 1, 1).astimezone()) if t is not None)
    return Pools(
        users=users,
        writer_ids=[r[1] for r in posts],
        posts=[(r[0], r[2]) for r in posts],
        hot_post_ids=[r[1] for r in comments],
        comment_ids=[r[0] for r in comments],
        title_words=sorted(title_words) or ["post"],
        content_words=sorted(content_words) or ["post"],
        sentences=sentences or ["A comment."],
        published=int(published),
        latest=latest,
        nonce=f"{n_users}x{n_posts}s{seed}".replace("-", "m"),
    )


def _mixed_case(email: str, rng: random.Random) -> str:
    local, _, domain = email.partition("@")
    typed = ".".join(p.capitalize() for p in local.split(".")) + "@" + domain.capitalize()
    return rng.choice([email, email.lower(), email.upper(), typed])


def _text(rng: random.Random, pools: Pools, sentences: int) -> str:
    return " ".join(rng.choice(pools.sentences) for _ in range(sentences))


def _comment_text(pools: Pools, rng: random.Random) -> str:
    if rng.random() < 0.02:                       # an unvalidated wall of text: CHECK rejects it
        text = ""
        while len(text) <= 5000:
            text += _text(rng, pools, 10) + "\n\n"
        return text
    return _text(rng, pools, rng.randint(1, 3))


def _post_text(pools: Pools, rng: random.Random) -> str:
    return "\n\n".join(_text(rng, pools, rng.randint(2, 5)) for _ in range(rng.randint(2, 3)))


def _new_title(pools: Pools, rng: random.Random) -> str:
    a, b = rng.choice(pools.title_words), rng.choice(pools.title_words)
    return f"Notes on {a} and {b}"


def _new_slug(pools: Pools, rng: random.Random) -> str:
    return f"notes-{rng.choice(pools.title_words)}-{pools.nonce}-{next(pools.counter)}"


def _new_email(pools: Pools, rng: random.Random) -> str:
    k = next(pools.counter)
    return rng.choice([f"new.user.{pools.nonce}.{k}@example.net", f"New.User.{pools.nonce}.{k}@Example.net"])


def _deep_offset(pools: Pools, rng: random.Random) -> Int8:
    lo = 1000                                     # page 50 of 20
    hi = max(lo, pools.published // 2)
    return Int8(lo + 20 * rng.randrange((hi - lo) // 20 + 1))


def _recent_time(pools: Pools, rng: random.Random, days: int = 30) -> datetime:
    return pools.latest - timedelta(days=rng.uniform(0, days))


@dataclass(frozen=True)
class _Generator:
    draw: Callable[..., Any]
    check: Callable[[tuple[Any, ...]], str | None]


def _no_args(args: tuple[Any, ...]) -> str | None:
    return "no arguments" if args else None


def _int_range(args: tuple[Any, ...]) -> str | None:
    ok = len(args) == 2 and all(isinstance(a, int) for a in args) and args[0] <= args[1]
    return None if ok else "two integers lo, hi with lo <= hi"


def _words(args: tuple[Any, ...]) -> str | None:
    return None if args else "at least one value"


def _days(args: tuple[Any, ...]) -> str | None:
    ok = not args or (len(args) == 1 and isinstance(args[0], int) and args[0] > 0)
    return None if ok else "nothing, or a number of days > 0"


def _simple(fn: Callable[[Pools, random.Random], Any]) -> _Generator:
    return _Generator(fn, _no_args)


GENERATORS: dict[str, _Generator] = {
    "user_id": _simple(lambda p, r: r.choice(p.writer_ids) if r.random() < 2 / 3 else r.choice(p.users)[0]),
    "any_user_id": _simple(lambda p, r: r.choice(p.users)[0]),
    "post_id": _simple(lambda p, r: r.choice(p.hot_post_ids) if r.random() < 2 / 3 else r.choice(p.posts)[0]),
    "comment_id": _simple(lambda p, r: r.choice(p.comment_ids)),
    "email": _simple(lambda p, r: r.choice(p.users)[1]),
    "email_mixed_case": _simple(lambda p, r: _mixed_case(r.choice(p.users)[1], r)),
    "username": _simple(lambda p, r: r.choice(p.users)[2]),
    "login": _simple(lambda p, r: r.choice(p.users)[r.choice((1, 2))]),
    "slug": _simple(lambda p, r: r.choice(p.posts)[1]),
    "title_word": _simple(lambda p, r: r.choice(p.title_words)),
    "search_terms": _simple(lambda p, r: " ".join(r.sample(p.content_words, min(len(p.content_words),
                                                                                 r.randint(1, 2))))),
    "deep_offset": _simple(_deep_offset),
    "recent_time": _Generator(_recent_time, _days),
    "int": _Generator(lambda p, r, lo, hi: Int8(r.randint(lo, hi)), _int_range),
    "choice": _Generator(lambda p, r, *values: r.choice(values), _words),
    "comment_text": _simple(_comment_text),
    "post_text": _simple(_post_text),
    "new_title": _simple(_new_title),
    "new_slug": _simple(_new_slug),
    "new_email": _simple(_new_email),
    "new_username": _simple(lambda p, r: f"new_{p.nonce}_{next(p.counter)}"),
    "full_name": _simple(lambda p, r: f"{r.choice(_FIRST)} {r.choice(_LAST)}"),
    "avatar_url": _simple(lambda p, r: None if r.random() < 0.3
                          else f"https://cdn.example.com/avatars/{uuid.UUID(int=r.getrandbits(128)).hex}.jpg"),
    "password_hash": _simple(lambda p, r: "$2b$12$" + "".join(r.choices(string.ascii_letters + string.digits + "./",
                                                                        k=53))),
}


def check_args(generator: str, args: tuple[Any, ...]) -> str | None:
    """What ``generator`` expects, when ``args`` don't fit it; None when they do."""
    return GENERATORS[generator].check(args)


# --------------------------------------------------------------------------- running


@dataclass
class _Tally:
    kind: str
    calls: int = 0
    errors: int = 0
    total_ms: float = 0.0
    rows: int = 0


def run_workload(
    conn: psycopg.Connection[Any],
    *,
    iterations: int | None = None,
    seconds: float | None = None,
    seed: int = 0,
    progress: bool = True,
    statements: Sequence[WorkloadStatement] | None = None,
) -> pd.DataFrame:
    """Run weighted random picks of the workload on the demo database; return a summary.

    One iteration is one pick (an N+1 driver's followers run with it). It stops after
    ``iterations`` picks or ``seconds`` seconds, whichever comes first (default 200
    picks). ``seed`` makes the run repeatable on the same data: the same picks with the
    same parameters. Parameters are sent server-side, so pg_stat_statements shows one
    entry per statement. Writes happen: each statement is its own transaction
    (autocommit, or BEGIN/COMMIT on a connection that is not). A failing statement (a
    CHECK violation, a statement timeout, ...) is counted, not raised; a run where every
    execution fails raises :class:`WorkbenchError`.

    Columns of the result, one row per statement that ran, by ``total_ms`` descending:

    - ``statement`` (string): the statement's name in the workload file
    - ``kind`` (string): ``read`` or ``write``
    - ``calls`` (int64): executions, failed ones included
    - ``errors`` (int64): executions that raised
    - ``total_ms``, ``mean_ms`` (float64): client-side wall time, all executions
    - ``rows`` (int64): rows returned (reads) or affected (writes) by successful executions

    ``df.attrs`` holds ``seed``, ``iterations`` (picks made), ``seconds`` (elapsed) and
    ``error_messages`` (statement name -> first error message).

    >>> summary = run_workload(conn, iterations=100, seed=1)   # doctest: +SKIP
    >>> summary.head(3)                                        # doctest: +SKIP
    """
    if iterations is None and seconds is None:
        iterations = 200
    stmts = list(statements) if statements is not None else load_workload()
    pickable = [s for s in stmts if s.for_each is None and s.weight > 0]
    if not pickable:
        raise WorkbenchError("the workload has no statement with a weight above 0 to pick")
    if not conn.autocommit and conn.info.transaction_status != TransactionStatus.IDLE:
        raise WorkbenchError("the connection has a transaction open: commit or roll back before run_workload")
    followers: dict[str, list[WorkloadStatement]] = {}
    for s in stmts:
        if s.for_each is not None:
            followers.setdefault(s.for_each.statement, []).append(s)
    pools = sample_pools(conn, seed)
    rng = random.Random(seed)
    tallies: dict[str, _Tally] = {}
    messages: dict[str, str] = {}
    weights = [s.weight for s in pickable]
    started = time.perf_counter()
    done = 0
    bar = tqdm(total=iterations, desc="workload", unit="pick", disable=not progress)
    try:
        while (iterations is None or done < iterations) and (
            seconds is None or time.perf_counter() - started < seconds
        ):
            pick = rng.choices(pickable, weights)[0]
            result = _run_one(conn, pick, _draw(pick, rng, pools, {}), tallies, messages)
            for follower in followers.get(pick.name, []):
                _run_followers(conn, follower, result, rng, pools, tallies, messages)
            done += 1
            bar.update(1)
    finally:
        bar.close()
    frame = _summary(tallies)
    frame.attrs.update(seed=seed, iterations=done, seconds=time.perf_counter() - started,
                       error_messages=messages)
    calls, errors = int(frame["calls"].sum()), int(frame["errors"].sum())
    if calls and calls == errors:
        first = next(iter(messages.items()))
        raise WorkbenchError(f"every statement of the workload failed ({calls} executions); "
                             f"first error, in {first[0]}: {first[1]}")
    return frame


def _draw(stmt: WorkloadStatement, rng: random.Random, pools: Pools, fixed: dict[str, Any]) -> dict[str, Any]:
    values = dict(fixed)
    for p in stmt.params:
        values[p.name] = GENERATORS[p.generator].draw(pools, rng, *p.args)
    return values


@dataclass
class _Result:
    columns: list[str]
    rows: list[tuple[Any, ...]]


def _run_one(conn: psycopg.Connection[Any], stmt: WorkloadStatement, params: dict[str, Any],
             tallies: dict[str, _Tally], messages: dict[str, str]) -> _Result | None:
    """Execute one statement, tally it; the result rows, or None when it failed."""
    tally = tallies.setdefault(stmt.name, _Tally(stmt.kind))
    t0 = time.perf_counter()
    result: _Result | None = None
    try:
        with conn.transaction() if not conn.autocommit else nullcontext(), conn.cursor() as cur:
            cur.execute(stmt.sql, params)
            if cur.description is not None:
                result = _Result([c.name for c in cur.description], cur.fetchall())
                count = len(result.rows)
            else:
                result, count = _Result([], []), max(cur.rowcount, 0)
    except psycopg.Error as err:
        if conn.closed or conn.broken:
            raise WorkbenchError(f"the connection was lost running {stmt.name}: {err}") from err
        tally.errors += 1
        messages.setdefault(stmt.name, str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__)
        result, count = None, 0
    tally.calls += 1
    tally.total_ms += (time.perf_counter() - t0) * 1000.0
    tally.rows += count
    return result


def _run_followers(conn: psycopg.Connection[Any], follower: WorkloadStatement, result: _Result | None,
                   rng: random.Random, pools: Pools, tallies: dict[str, _Tally],
                   messages: dict[str, str]) -> None:
    """The N+1 pattern: ``follower`` once per row of its driver's ``result``."""
    if result is None:
        return
    assert follower.for_each is not None
    fe = follower.for_each
    if fe.column not in result.columns:
        raise WorkloadError(f"for_each of {follower.name!r} binds column {fe.column!r}, but "
                            f"{fe.statement} returns {', '.join(result.columns) or 'no columns'}",
                            path=follower.path, line=follower.line, expected="a column of the driver's result")
    col = result.columns.index(fe.column)
    for row in result.rows:
        _run_one(conn, follower, _draw(follower, rng, pools, {fe.param: row[col]}), tallies, messages)


def _summary(tallies: dict[str, _Tally]) -> pd.DataFrame:
    frame = pd.DataFrame(
        [(name, t.kind, t.calls, t.errors, t.total_ms, t.total_ms / t.calls if t.calls else float("nan"), t.rows)
         for name, t in tallies.items()],
        columns=SUMMARY_COLUMNS,
    )
    frame = frame.astype({"statement": "string", "kind": "string", "calls": "int64", "errors": "int64",
                          "total_ms": "float64", "mean_ms": "float64", "rows": "int64"})
    return frame.sort_values("total_ms", ascending=False, ignore_index=True)
