"""``read_auto_explain``: every plan of an auto_explain log, read in one pass, as one node table.

The log is PostgreSQL's stderr (or ``logging_collector``) format, with any
``log_line_prefix``: an entry starts on a line holding ``duration: N ms  plan:``
and goes on over the lines PostgreSQL starts with a tab; syslog's ``[N-M]``
continuation lines are read too. TEXT and JSON entries may be mixed. Other log
messages are skipped; an entry that cannot be read is counted and listed in
``PlanLog.unreadable``, never dropped silently.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from pandas.arrays import FloatingArray, IntegerArray, StringArray

from ..errors import PlanParseError
from . import _text
from ._plan import Plan, node_columns
from ._source import _LOG_MARKER, _LOG_NEW_ENTRY, _SYSLOG_CONT
from ._structured import loads, top_from_object
from ._text_wrap import looks_like_node

__all__ = ["PlanLog", "read_auto_explain"]

# the log_line_prefix escapes that print a time: %m / %t ("2026-01-02 03:04:05.678 UTC") and %n (epoch)
_STAMP = re.compile(r"(\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d+)?)|(?<![\d.])(\d{10}\.\d{3})(?![\d.])")
_DURATION = re.compile(r"duration: (\d+(?:\.\d+)?) ms")
_SYSLOG_SECOND = re.compile(r"\[\d+-2\] ?")
_MESSAGE_START = re.compile(r"\n(?!\t)")
_PROGRESS_BYTES = 20_000_000  # a bar from about 10,000 entries on


@dataclass
class _Entry:
    line: int  # 1-based line of the log where the entry starts
    prefix: str  # the log line prefix and severity before "duration:"
    duration: float
    body: list[str]  # the message after "plan:", a line per log line


def read_auto_explain(source: str | os.PathLike[str], *, progress: bool | None = None) -> PlanLog:
    """Read every auto_explain plan of a PostgreSQL log (a path, or the log's text).

    TEXT and JSON entries (``auto_explain.log_format``) may be mixed, with any
    ``log_line_prefix``; ``Query Text`` and ``Query Parameters`` are kept. Entries
    that cannot be read are counted (``PlanLog.unreadable``, and a warning), never
    dropped silently. ``progress`` shows a bar (default: on files over 20 MB).

    >>> log = read_auto_explain('''2026-01-02 03:04:05.678 UTC [42] LOG:  duration: 0.031 ms  plan:
    ... \\tQuery Text: SELECT * FROM t WHERE id = $1
    ... \\tQuery Parameters: $1 = '7'
    ... \\tSeq Scan on t  (cost=0.00..35.50 rows=13 width=4) (actual time=0.010..0.020 rows=1 loops=1)
    ... \\t  Filter: (id = 7)
    ... ''')
    >>> log.plans[["plan_id", "duration_ms", "query", "parameters", "nodes"]].values.tolist()
    [[0, 0.031, 'SELECT * FROM t WHERE id = $1', "$1 = '7'", 1]]
    >>> log.nodes[["plan_id", "node_id", "node_type", "relation"]].values.tolist()
    [[0, 0, 'Seq Scan', 't']]
    """
    text = _read(source)
    entries = list(_entries(text))
    plans: list[Plan] = []
    kept: list[_Entry] = []
    bad: list[tuple[int, Any, str]] = []
    show = progress if progress is not None else len(text) > _PROGRESS_BYTES
    for entry in _bar(entries, show):
        try:
            plans.append(_plan(entry))
            kept.append(entry)
        except (PlanParseError, ValueError, RecursionError) as exc:
            bad.append((entry.line, entry.prefix, str(exc)))
    log = PlanLog(plans, kept, bad)
    if bad:
        warnings.warn(f"{len(bad)} of {len(entries)} auto_explain entries could not be read; "
                      "PlanLog.unreadable lists them with the reason", stacklevel=2)
    return log


class PlanLog:
    """The plans of an auto_explain log (from :func:`read_auto_explain`).

    ``plans``: one row per entry read, in log order:

    =========== ============== ==========================================================
    column      dtype          meaning
    =========== ============== ==========================================================
    plan_id     Int64          0, 1, ... in log order; ``plan(plan_id)`` gives the Plan
    logged_at   datetime64[ns] the prefix's %m / %t / %n time, as logged (zone dropped)
    duration_ms Float64        auto_explain's ``duration:``
    query       string         Query Text
    parameters  string         Query Parameters (``$1 = '7', ...``), <NA> when not logged
    nodes       Int64          nodes in the plan
    top_insight string         code of the plan's most severe insight, <NA> when none
    =========== ============== ==========================================================

    ``nodes``: one node table for all entries: ``plan_id``, ``logged_at``,
    ``duration_ms``, ``query``, then the columns of :class:`Plan` ``.nodes``
    (``node_id`` and ``parent_id`` count within each plan).

    ``unreadable``: one row per entry that could not be read: ``line`` (Int64, where
    it starts in the log), ``logged_at`` (datetime64[ns]), ``error`` (string).
    ``entries`` is the number of auto_explain entries in the log: read + unreadable.

    ``plans`` runs the insight rules on every plan (about 15 ms a plan) to fill
    ``top_insight``; ``slowest(n)`` runs them on the ``n`` slowest only, and
    ``table(insights=False)`` on none.
    """

    def __init__(self, plans: list[Plan], entries: list[_Entry], unreadable: list[tuple[int, Any, str]]) -> None:
        self._plans = plans
        self._entries = entries
        self.unreadable: pd.DataFrame = pd.DataFrame({
            "line": pd.array([u[0] for u in unreadable], dtype="Int64"),
            "logged_at": _times([u[1] for u in unreadable]),
            "error": pd.array([u[2] for u in unreadable], dtype="string"),
        })
        self.entries: int = len(plans) + len(unreadable)

    def __len__(self) -> int:
        return len(self._plans)

    def __repr__(self) -> str:
        return f"<PlanLog: {len(self._plans)} plans read, {len(self.unreadable)} unreadable, {self.entries} entries>"

    def plan(self, plan_id: int) -> Plan:
        """The :class:`Plan` of entry ``plan_id``."""
        if not 0 <= int(plan_id) < len(self._plans):
            raise KeyError(f"no plan {plan_id}: plan_id runs from 0 to {len(self._plans) - 1}")
        return self._plans[int(plan_id)]

    @cached_property
    def _entry_columns(self) -> dict[str, Any]:
        n = len(self._plans)
        duration = np.array([e.duration for e in self._entries], dtype=np.float64)
        queries = np.array([p.query if p.query is not None else pd.NA for p in self._plans] or [], dtype=object)
        return {
            "plan_id": IntegerArray(np.arange(n, dtype=np.int64), np.zeros(n, dtype=bool)),
            "logged_at": _times([e.prefix for e in self._entries]),
            "duration_ms": FloatingArray(duration, np.zeros(n, dtype=bool)),
            "query": StringArray(queries),
        }

    @cached_property
    def nodes(self) -> pd.DataFrame:
        """Every node of every plan: plan_id, logged_at, duration_ms, query, then ``Plan.nodes``' columns."""
        counts = np.array([len(p._tree.nodes) for p in self._plans], dtype=np.int64)
        cols = {k: _repeat(v, counts) for k, v in self._entry_columns.items()}
        cols.update(node_columns([p._tree for p in self._plans], [p.settings for p in self._plans]))
        return pd.DataFrame(cols, copy=False)

    @cached_property
    def plans(self) -> pd.DataFrame:
        """One row per entry (columns in the class docstring)."""
        return self.table()

    def table(self, *, insights: bool = True) -> pd.DataFrame:
        """``plans``; with ``insights=False`` without running the insight rules (``top_insight`` all <NA>),
        in milliseconds for a whole day's log."""
        return self._plan_rows(range(len(self._plans)), insights=insights)

    def slowest(self, n: int = 10) -> pd.DataFrame:
        """The ``n`` entries with the longest duration, slowest first (the columns of ``plans``)."""
        order = np.argsort(-np.array([e.duration for e in self._entries]), kind="stable")[:n]
        return self._plan_rows([int(i) for i in order])

    def _plan_rows(self, ids: range | list[int], *, insights: bool = True) -> pd.DataFrame:
        idx = np.array(list(ids), dtype=np.int64)
        cols = {k: v[idx] for k, v in self._entry_columns.items()}
        params = [self._plans[i].raw.get("Query Parameters") for i in idx]
        cols["parameters"] = pd.array([p if isinstance(p, str) else None for p in params], dtype="string")
        cols["nodes"] = pd.array([len(self._plans[i]._tree.nodes) for i in idx], dtype="Int64")
        cols["top_insight"] = pd.array([_top_insight(self._plans[i]) for i in _bar(idx.tolist(), len(idx) > 500)]
                                       if insights else [None] * len(idx), dtype="string")
        order = ["plan_id", "logged_at", "duration_ms", "query", "parameters", "nodes", "top_insight"]
        return pd.DataFrame({k: cols[k] for k in order}).reset_index(drop=True)


def _repeat(values: Any, counts: np.ndarray) -> Any:
    if isinstance(values, (IntegerArray, FloatingArray)):
        return type(values)(np.repeat(values._data, counts), np.repeat(values._mask, counts))
    if isinstance(values, StringArray):
        return StringArray(np.repeat(values.to_numpy(dtype=object), counts))
    return np.repeat(values, counts)


def _top_insight(plan: Plan) -> str | None:
    found = plan.insights()
    return None if found.empty else str(found["code"].iloc[0])


def _read(source: str | os.PathLike[str]) -> str:
    """The log's text: ``source`` itself, or the file it names (one line without ``LOG:`` or ``plan:`` is a path)."""
    if isinstance(source, str) and ("\n" in source or "plan:" in source or "LOG:" in source):
        return source
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(f"read_auto_explain takes a path or the log's text, not {type(source).__name__}")
    try:
        with open(source, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"no log file {str(source)!r}: give the path of a PostgreSQL log, or its text") from None


def _entries(text: str) -> Iterator[_Entry]:
    """The auto_explain entries of a log, in one pass over its messages."""
    text = text.replace("\r\n", "\n")
    messages = _MESSAGE_START.split(text)  # a message: its first line and the tab-led lines after it
    head = text[:100_000]
    if "\n\t" not in head and _SYSLOG_SECOND.search(head):
        yield from _syslog_entries(text.split("\n"))
        return
    no = 1
    for msg in messages:
        if "plan:" in msg:
            k = msg.find("\n")
            head = msg if k < 0 else msg[:k]
            m = _LOG_MARKER.search(head)
            if m is not None:
                yield _entry(no, head, m, msg[k + 2 :].split("\n\t") if k >= 0 else [])
        no += msg.count("\n") + 1


def _entry(no: int, head: str, m: re.Match[str], body: list[str]) -> _Entry:
    d = _DURATION.search(head, m.start())
    rest = head[m.end() :].strip()
    return _Entry(no, head[: m.start()], float(d.group(1)) if d else float("nan"), [rest, *body] if rest else body)


def _syslog_entries(lines: list[str]) -> Iterator[_Entry]:
    """syslog's form: each line of a message is a log line of its own, ``[N-2]``, ``[N-3]``, ... after the first."""
    entry: _Entry | None = None
    for no, line in enumerate(lines, 1):
        c = _SYSLOG_CONT.match(line)
        if c is not None and entry is not None and not _LOG_NEW_ENTRY.match(line[c.end() :]):
            body = line[c.end() :]
            entry.body.append(body[1:] if body[:1] == "\t" else body)
            continue
        if entry is not None:
            yield entry
            entry = None
        m = _LOG_MARKER.search(line) if "plan:" in line else None
        if m is not None:
            entry = _entry(no, line, m, [])
    if entry is not None:
        yield entry


def _plan(entry: _Entry) -> Plan:
    body = entry.body
    first = next((s for s in body if s.strip()), "")
    if first.lstrip()[:1] in ("{", "["):
        obj = loads("\n".join(body))
        return Plan(top_from_object(obj, copy=False), "json")
    lines = list(zip(range(entry.line + 1, entry.line + 1 + len(body)), body))
    # auto_explain prints costs on every node: the root is the first such line, past the query's lines
    root = next((i for i, s in enumerate(body) if "  (cost=" in s and looks_like_node(s.strip())), None)
    return Plan(_text.parse_text(lines, root), "text")


def _times(prefixes: list[str]) -> np.ndarray:
    """The time each log line prefix holds (%m, %t or %n), as datetime64[ns]; NaT where it holds none."""
    found = [_STAMP.search(p) for p in prefixes]
    iso = pd.to_datetime(pd.Series([m.group(1) if m and m.group(1) else None for m in found], dtype=object),
                         format="ISO8601").astype("datetime64[ns]")
    millis = [int(m.group(2).replace(".", "")) if m and m.group(2) else None for m in found]  # exact, unlike a float
    epoch = pd.to_datetime(pd.Series(millis, dtype="Int64"), unit="ms").astype("datetime64[ns]")
    return iso.fillna(epoch).to_numpy()


def _bar(items: list[Any], show: bool) -> Any:
    if not show:
        return items
    from tqdm.auto import tqdm

    return tqdm(items, desc="auto_explain entries", unit="plan")
