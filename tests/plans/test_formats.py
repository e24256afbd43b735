"""One plan, every way it reaches a user: formats, clients, logs, decorations, Python objects.

The samples in ``data/`` come from PostgreSQL 18 (``data/make_samples.py``): each
query explained in TEXT, JSON, YAML and XML, and logged by auto_explain.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from dbworkbench.errors import PlanParseError
from dbworkbench.plans import parse_plan
from dbworkbench.plans._structured import loads

from ._corpus import SKIP_REASON, plan_files

DATA = Path(__file__).parent / "data"
QUERIES = ("serial", "parallel", "memoize", "update")
FORMATS = ("text", "json", "yaml", "xml")

# Columns that do not change between two runs of the same query.
STABLE = [
    "node_id", "parent_id", "depth", "node_type", "parent_relationship", "subplan_name", "cte_name",
    "relation", "schema", "alias", "index_name", "join_type", "strategy", "startup_cost", "total_cost",
    "plan_rows", "plan_width", "workers_planned", "filter", "index_cond", "recheck_cond", "join_filter",
    "hash_cond", "merge_cond", "sort_key",
]
NOT_VERBOSE = [c for c in STABLE if c not in ("schema", "filter", "index_cond", "recheck_cond", "join_filter", "hash_cond", "merge_cond", "sort_key")]
# Keys a TEXT plan cannot show when they are zero (PostgreSQL prints no WAL line then).
TEXT_CANNOT_SHOW = {"WAL Records", "WAL FPI", "WAL Bytes", "WAL Buffers Full", "Workers"}


def sample(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def stable(plan) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    return plan.nodes[STABLE].reset_index(drop=True)


@pytest.mark.parametrize("query", QUERIES)
def test_four_formats_give_one_table(query: str) -> None:
    plans = {fmt: parse_plan(sample(f"{query}.{fmt}")) for fmt in FORMATS}
    for fmt, plan in plans.items():
        assert plan.source_format == fmt
        pd.testing.assert_frame_equal(stable(plan), stable(plans["json"]), obj=f"{query}.{fmt}")
        assert plan.settings == plans["json"].settings
        assert (plan.planning_ms is not None) and (plan.execution_ms is not None)
        assert plan.serialization is not None and plan.serialization["format"] == "text"
        assert plan.planning_buffers is not None and "shared_hit" in plan.planning_buffers


@pytest.mark.parametrize("query", QUERIES)
def test_text_uses_postgres_json_keys(query: str) -> None:
    """The TEXT parser gives each node the keys FORMAT JSON has (zero WAL counters aside)."""
    text, js = parse_plan(sample(f"{query}.text")), parse_plan(sample(f"{query}.json"))
    for a, b in zip(text.raw_nodes, js.raw_nodes, strict=True):
        assert set(a) <= set(b), f"{b['Node Type']}: keys JSON lacks {sorted(set(a) - set(b))}"
        assert set(b) - set(a) <= TEXT_CANNOT_SHOW, f"{b['Node Type']}: TEXT lacks {sorted(set(b) - set(a))}"
        for key in ("Output", "Sort Key", "Group Key", "Presorted Key", "Index Cond", "Filter", "Cache Key"):
            assert a.get(key) == b.get(key)
    assert set(text.raw) == set(js.raw)


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("fmt", ("text", "json"))
def test_auto_explain_log(query: str, fmt: str) -> None:
    log = sample(f"{query}.log-{fmt}")
    assert "LOG:  duration:" in log
    plan = parse_plan(log)
    # auto_explain here is not VERBOSE: no schemas, names in expressions not qualified
    want = stable(parse_plan(sample(f"{query}.json")))[NOT_VERBOSE]
    pd.testing.assert_frame_equal(stable(plan)[NOT_VERBOSE], want)
    assert plan.query is not None and plan.query.strip().split()[0] in ("WITH", "SELECT", "UPDATE")
    assert plan.nodes["inclusive_ms"].notna().all()


def test_auto_explain_syslog_prefixes() -> None:
    """syslog puts a prefix and ``[N-M]`` on every line of a message."""
    lines = sample("serial.log-text").splitlines()
    out = []
    for i, line in enumerate(lines):
        body = line.split("LOG:  ", 1)[1] if i == 0 else line
        out.append(f"Nov 24 04:51:49 db1 postgres[7690]: [12-{i + 1}] " + (f"LOG:  {body}" if i == 0 else body))
    out.append("Nov 24 04:51:50 db1 postgres[7690]: [13-1] LOG:  checkpoint starting: time")
    plan = parse_plan("\n".join(out))
    want = stable(parse_plan(sample("serial.json")))[NOT_VERBOSE]
    pd.testing.assert_frame_equal(stable(plan)[NOT_VERBOSE], want)


def test_log_line_prefix_and_following_entries() -> None:
    log = "2026-11-24 04:51:48.001 UTC [7690] LOG:  statement: select 1\n" + sample("update.log-text")
    log += "2026-11-24 04:51:55.000 UTC [7691] ERROR:  relation \"nope\" does not exist\n"
    plan = parse_plan(log)
    assert plan.nodes["node_type"].tolist() == ["ModifyTable", "Index Scan"]


# --------------------------------------------------------------------------- decorations


def _psql_aligned(text: str, *, style: str) -> str:
    lines = text.rstrip("\n").split("\n")
    w = max(len(s) for s in lines) + 1
    if style == "ascii2":
        rule = "+" + "-" * (w + 1) + "+"
        body = [f"| {s.ljust(w)}|" for s in lines]
        return "\n".join([rule, "|" + "QUERY PLAN".center(w + 1) + "|", rule, *body, rule, f"({len(lines)} rows)"])
    if style == "unicode2":
        top, mid, bot = "┌" + "─" * (w + 1) + "┐", "├" + "─" * (w + 1) + "┤", "└" + "─" * (w + 1) + "┘"
        body = [f"│ {s.ljust(w)}│" for s in lines]
        return "\n".join([top, "│" + "QUERY PLAN".center(w + 1) + "│", mid, *body, bot, f"({len(lines)} rows)"])
    # border 1: a header, a rule, each line after one space
    return "\n".join(["QUERY PLAN".center(w), "-" * w, *(" " + s for s in lines), f"({len(lines)} rows)", "", "Time: 3.2 ms"])


def _psql_multiline_cell(text: str, mark: str) -> str:
    """How psql prints one cell holding a multi-line value (FORMAT JSON/YAML/XML)."""
    lines = text.rstrip("\n").split("\n")
    w = max(len(s) for s in lines) + 1
    body = [" " + s.ljust(w) + mark for s in lines[:-1]] + [" " + lines[-1]]
    return "\n".join(["QUERY PLAN".center(w), "-" * (w + 1), *body, "(1 row)"])


DECORATIONS = {
    "psql-border2-ascii": lambda t: _psql_aligned(t, style="ascii2"),
    "psql-border2-unicode": lambda t: _psql_aligned(t, style="unicode2"),
    "psql-border1": lambda t: _psql_aligned(t, style="plain"),
    "prompt-and-sql-before": lambda t: "demo=# EXPLAIN (ANALYZE) SELECT 1;\nSET\n" + t,
    "pgadmin-csv-cells": lambda t: "\n".join('"' + s.replace('"', '""') + '"' for s in t.rstrip("\n").split("\n")),
    "single-quoted-lines": lambda t: "\n".join("'" + s + "'" for s in t.rstrip("\n").split("\n")),
    "crlf": lambda t: t.replace("\n", "\r\n"),
    "tabs-for-indent": lambda t: "\n".join(s.replace("    ", "\t") for s in t.split("\n")),
    "expanded-display": lambda t: "-[ RECORD 1 ]" + "-" * 20 + "\n" + "\n".join(f"QUERY PLAN | {s}" for s in t.rstrip("\n").split("\n")),
    "indented-in-a-mail": lambda t: textwrap.indent(t, "    "),
    "blank-lines-between": lambda t: "\n\n".join(t.split("\n")),
}


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("decoration", DECORATIONS)
def test_text_decorations(query: str, decoration: str) -> None:
    text = sample(f"{query}.text")
    want = parse_plan(text)
    got = parse_plan(DECORATIONS[decoration](text))
    pd.testing.assert_frame_equal(got.nodes, want.nodes)
    assert got.execution_ms == want.execution_ms
    assert got.settings == want.settings


@pytest.mark.parametrize("fmt", ("json", "yaml", "xml"))
@pytest.mark.parametrize("mark", ("+", "↵"))
def test_multiline_cell_formats_in_psql(fmt: str, mark: str) -> None:
    source = sample(f"serial.{fmt}")
    want = parse_plan(source)
    got = parse_plan(_psql_multiline_cell(source, mark))
    pd.testing.assert_frame_equal(got.nodes, want.nodes)
    assert got.source_format == fmt


def _terminal_wrap(text: str, width: int) -> str:
    out = []
    for line in text.split("\n"):
        out += [line[i : i + width] for i in range(0, max(len(line), 1), width)]
    return "\n".join(out)


def _flowed_wrap(text: str, width: int) -> str:
    """A mail client: cut at a space, the space left at the end of the line."""
    out = []
    for line in text.split("\n"):
        while len(line) > width:
            cut = line.rfind(" ", 0, width)
            if cut <= 0 or not line[:cut].strip():
                cut = width - 1
            out.append(line[: cut + 1])
            line = line[cut + 1 :]
        out.append(line)
    return "\n".join(out)


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("width", (60, 72, 80, 100, 132))
def test_hard_wrapped_text(query: str, width: int) -> None:
    text = sample(f"{query}.text")
    want = parse_plan(text).nodes
    for wrapped in (_terminal_wrap(text, width), _flowed_wrap(text, width)):
        got = parse_plan(wrapped).nodes
        pd.testing.assert_frame_equal(got, want)


# --------------------------------------------------------------------------- Python objects


def test_psycopg_objects() -> None:
    source = sample("serial.json")
    want = parse_plan(source).nodes
    obj = json.loads(source)
    for given in (obj, obj[0], (obj,), [(obj,)], obj[0]["Plan"]):
        got = parse_plan(given)
        assert got.source_format == "json"
        pd.testing.assert_frame_equal(got.nodes, want)
    assert obj == json.loads(source), "the caller's object is not modified"


def test_text_rows_as_psycopg_returns_them() -> None:
    text = sample("serial.text")
    rows = [(line,) for line in text.rstrip("\n").split("\n")]
    pd.testing.assert_frame_equal(parse_plan(rows).nodes, parse_plan(text).nodes)
    pd.testing.assert_frame_equal(parse_plan([r[0] for r in rows]).nodes, parse_plan(text).nodes)


def test_bytes_and_paths(tmp_path: Path) -> None:
    text = sample("memoize.text")
    f = tmp_path / "plan.txt"
    f.write_text(text, encoding="utf-8")
    want = parse_plan(text).nodes
    pd.testing.assert_frame_equal(parse_plan(text.encode()).nodes, want)
    pd.testing.assert_frame_equal(parse_plan(f).nodes, want)


def test_pgadmin_json_cell() -> None:
    """pgAdmin copies the JSON cell with the quotes doubled, inside quotes."""
    source = sample("serial.json")
    quoted = '"' + source.strip().replace('"', '""') + '"'
    pd.testing.assert_frame_equal(parse_plan(quoted).nodes, parse_plan(source).nodes)


def test_json_round_trip_keeps_everything() -> None:
    for query in QUERIES:
        for fmt in FORMATS:
            plan = parse_plan(sample(f"{query}.{fmt}"))
            again = parse_plan(plan.to_json())
            assert again.raw == json.loads(plan.to_json())[0]
            pd.testing.assert_frame_equal(again.nodes, plan.nodes)
            assert again.triggers.equals(plan.triggers)
            assert again.jit == plan.jit and again.settings == plan.settings


def test_not_a_plan_in_any_format() -> None:
    for source in ('{"a": 1}', "[1, 2]", "- Plan:\n    Foo: 1\n    Node Type: [x]", "<explain><Query/></explain>"):
        with pytest.raises(PlanParseError):
            parse_plan(source)


@pytest.mark.skipif(not plan_files(), reason=SKIP_REASON)
def test_json_is_read_by_orjson_as_json_reads_it() -> None:
    """Plain JSON goes through orjson; the objects are json's, and what orjson refuses still reads."""
    texts = [p.read_text(encoding="utf-8") for p in plan_files() if p.read_text(encoding="utf-8").lstrip()[:1] in "[{"]
    checked = 0
    for text in texts:
        try:
            expected = json.loads(text)
        except ValueError:
            continue
        assert loads(text) == expected
        checked += 1
    assert checked > 10
    nan = '[{"Plan": {"Node Type": "Result", "Plan Rows": NaN, "Total Cost": 1e400}}]'
    assert loads(nan)[0]["Plan"]["Total Cost"] == float("inf")  # json's reading, where orjson refuses
    assert parse_plan(nan).nodes.loc[0, "node_type"] == "Result"
