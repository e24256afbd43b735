"""``read_auto_explain`` on a real log: the demo workload with every plan logged, TEXT and JSON, six prefixes."""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import dbworkbench as wb
from dbworkbench.plans import PlanLog, parse_plan, read_auto_explain

from .demo_log import SEGMENTS, write_demo_log

MARKER = re.compile(r"duration: \d+\.\d+ ms  plan:$")


@pytest.fixture(scope="module")
def log_text() -> Iterator[str]:
    home = Path(tempfile.mkdtemp(prefix="dwblog-", dir="/tmp"))
    try:
        yield write_demo_log(home, iterations=25)
    finally:
        wb.Sandbox(home).stop()
        shutil.rmtree(home, ignore_errors=True)


def messages(text: str) -> list[str]:
    """The log's messages, split here without the reader: a message starts on a line that is not a tab continuation."""
    return [m for m in re.split(r"\n(?=[^\t])", text) if m.strip()]


def entries(text: str) -> list[str]:
    return [m for m in messages(text) if MARKER.search(m.split("\n", 1)[0])]


def test_every_entry_is_read_text_and_json(log_text: str, tmp_path: Path) -> None:
    path = tmp_path / "postgresql.log"
    path.write_text(log_text)
    log = read_auto_explain(path)
    expected = entries(log_text)
    assert len(expected) > 150
    assert log.entries == len(expected) == len(log) + len(log.unreadable)
    assert log.unreadable.empty, log.unreadable.head().to_string()
    formats = {log.plan(i).source_format for i in range(len(log))}
    assert formats == {"text", "json"}
    assert len(log.nodes) == sum(len(log.plan(i).nodes) for i in range(len(log)))


def test_each_entry_reads_as_parse_plan_reads_it(log_text: str) -> None:
    log = read_auto_explain(log_text)
    expected = entries(log_text)
    for i in range(0, len(expected), max(1, len(expected) // 40)):
        one = parse_plan(expected[i])
        mine = log.plan(i)
        pd.testing.assert_frame_equal(mine.nodes, one.nodes)
        assert mine.query == one.query and mine.query
        duration = float(re.search(r"duration: (\S+) ms", expected[i]).group(1))  # type: ignore[union-attr]
        assert log.plans.loc[i, "duration_ms"] == duration


def test_plans_and_nodes_columns(log_text: str) -> None:
    log = read_auto_explain(log_text)
    plans = log.plans
    assert list(plans.columns) == ["plan_id", "logged_at", "duration_ms", "query", "parameters", "nodes", "top_insight"]
    assert [str(t) for t in plans.dtypes] == ["Int64", "datetime64[ns]", "Float64", "string", "string", "Int64", "string"]
    assert plans["plan_id"].tolist() == list(range(len(log)))
    # every prefix but the empty one prints a time; the epoch one (%n) reads as the same day
    assert plans["logged_at"].notna().mean() > 0.6
    days = plans["logged_at"].dropna().dt.normalize().unique()
    assert len(days) <= 2
    # parameters of a parameterised statement, from TEXT and JSON entries alike
    with_params = plans[plans["parameters"].notna()]
    assert with_params["parameters"].str.startswith("$1 = ").all()
    kinds = {log.plan(int(i)).source_format for i in with_params["plan_id"]}
    assert kinds == {"text", "json"}
    assert not with_params["query"].str.contains("Query Parameters").any()
    nodes = log.nodes
    assert list(nodes.columns[:4]) == ["plan_id", "logged_at", "duration_ms", "query"]
    assert list(nodes.columns[4:]) == list(log.plan(0).nodes.columns)
    assert nodes.groupby("plan_id").size().tolist() == plans["nodes"].tolist()
    assert nodes.loc[nodes["node_id"] == 0, "plan_id"].tolist() == plans["plan_id"].tolist()
    quick = log.table(insights=False)
    pd.testing.assert_frame_equal(quick.drop(columns="top_insight"), plans.drop(columns="top_insight"))
    assert quick["top_insight"].isna().all()
    slow = log.slowest(3)
    assert slow["duration_ms"].tolist() == sorted(plans["duration_ms"], reverse=True)[:3]
    assert slow["top_insight"].tolist() == plans.set_index("plan_id").loc[slow["plan_id"], "top_insight"].tolist()


def test_a_broken_entry_is_counted_not_dropped(log_text: str) -> None:
    msgs = messages(log_text)
    json_at = next(i for i, m in enumerate(msgs) if MARKER.search(m.split("\n", 1)[0]) and "\n\t{" in m)
    text_at = next(i for i, m in enumerate(msgs) if MARKER.search(m.split("\n", 1)[0]) and "\n\tQuery Text:" in m)
    msgs[json_at] = msgs[json_at][: len(msgs[json_at]) // 2]  # a JSON entry cut in half
    msgs[text_at] = msgs[text_at].split("\n")[0] + "\n\tQuery Text: SELECT 1\n\tnot a plan at all"
    with pytest.warns(UserWarning, match="2 of .* could not be read"):
        log = read_auto_explain("\n".join(msgs))
    assert log.entries == len(entries(log_text))
    assert len(log) == log.entries - 2
    assert len(log.unreadable) == 2 and log.unreadable["error"].str.len().gt(0).all()
    starts = [ln.split("\n")[0] for ln in (msgs[json_at], msgs[text_at])]
    lines = "\n".join(msgs).split("\n")
    assert sorted(lines[n - 1] for n in log.unreadable["line"]) == sorted(starts)


def test_syslog_style_log(log_text: str) -> None:
    """syslog writes each line of a message as its own line, numbered [N-1], [N-2], ..."""
    out = []
    for n, msg in enumerate(messages(log_text)[:80], 1):
        for k, line in enumerate(msg.split("\n"), 1):
            out.append(f"Dec  3 06:20:27 host postgres[7755]: [{n}-{k}] {line.removeprefix(chr(9)) if k > 1 else line}")
    text = "\n".join(out)
    log = read_auto_explain(text)
    direct = read_auto_explain("\n".join(messages(log_text)[:80]))
    assert log.entries == direct.entries > 20 and log.unreadable.empty
    assert log.plans["nodes"].tolist() == direct.plans["nodes"].tolist()


def test_not_a_log_and_empty_log() -> None:
    log = read_auto_explain("2026-01-01 00:00:00 UTC [1] LOG:  database system is ready to accept connections\n")
    assert isinstance(log, PlanLog) and log.entries == 0 and log.nodes.empty and log.plans.empty
    assert list(log.nodes.columns)[4:] == list(parse_plan("Result  (cost=0.00..0.01 rows=1 width=4)").nodes.columns)
    with pytest.raises(KeyError, match="no plan 0"):
        log.plan(0)
    with pytest.raises(FileNotFoundError, match="no log file 'postgresq.log'"):
        read_auto_explain("postgresq.log")


def test_segments_cover_text_and_json_under_several_prefixes() -> None:
    assert {fmt for _, fmt in SEGMENTS} == {"text", "json"}
    assert len({p for p, _ in SEGMENTS}) >= 4


def test_cli_explain_log_lists_the_slowest(log_text: str, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from dbworkbench.cli import main

    path = tmp_path / "postgresql.log"
    path.write_text(log_text)
    n = len(entries(log_text))
    out = CliRunner().invoke(main, ["explain", "--log", str(path), "--top", "3"])
    assert out.exit_code == 0, out.output
    assert f"{n:,} auto_explain entries in {path}: {n:,} read, 0 unreadable" in out.output
    data = CliRunner().invoke(main, ["explain", "--log", str(path), "--top", "3", "--format", "json"])
    doc = json.loads(data.output)
    slowest = sorted((float(re.search(r"duration: (\S+) ms", e).group(1)) for e in entries(log_text)), reverse=True)[:3]  # type: ignore[union-attr]
    assert [p["duration_ms"] for p in doc["plans"]] == slowest and doc["entries"] == n
    assert all(str(round(d, 3)) in out.output for d in slowest)
    bad = CliRunner().invoke(main, ["explain", "--log", str(path), "--sql", "SELECT 1"])
    assert bad.exit_code == 2 and "--log FILE reads a server log" in bad.output
