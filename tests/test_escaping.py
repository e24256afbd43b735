"""Hostile text stays text: relation names, filters, aliases, queries and insight messages in every figure,
HTML repr and Markdown table are escaped (no tag, no attribute, no LaTeX), and still read as they were.

Offline plans are built by hand as EXPLAIN JSON; live ones come from EXPLAIN ANALYZE of queries on tables,
aliases, indexes and literals named after the hostile texts, on real servers.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs
import psycopg
import pytest
from psycopg import sql

import dbworkbench as wb
from dbworkbench import viz
from dbworkbench._escape import html_text, html_texts, markdown_text, math_off
from dbworkbench.health import figures as health_figures
from dbworkbench.health import to_markdown

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "</script>",
    "<b>bold</b>",
    '" onmouseover="alert(1)',
    '<a href="javascript:alert(1)">x</a>',
    '<span style="color:red">',
    "$x^2$",
    "$1 and $2",
]
IDS = ["script", "img", "end-script", "bold", "onmouseover", "js-link", "span-style", "latex", "dollars"]

# Markup the workbench writes itself into plotly text (line breaks, a bold title, a superscript subtitle).
_OWN_TAGS = re.compile(r"<br>|</?b>|</?sup>|<extra></extra>")
# What plotly.js decodes when it draws text: numeric references and these names (svg_text_utils.js).
_PLOTLY_ENTITIES = {"mu": "\u03bc", "amp": "&", "lt": "<", "gt": ">", "nbsp": "\xa0", "times": "\xd7", "plusmn": "\xb1",
                    "deg": "\xb0"}


def _plotly_decode(text: str) -> str:
    """The characters plotly.js draws for ``text`` (own tags removed), as its convertEntities does."""
    def one(m: re.Match[str]) -> str:
        ref = m.group(1)
        if ref.startswith("#x"):
            return chr(int(ref[2:], 16))
        if ref.startswith("#"):
            return chr(int(ref[1:]))
        return _PLOTLY_ENTITIES.get(ref, m.group(0))

    return re.sub(r"&(#\d+|#x[\da-fA-F]+|[a-z]+);", one, _OWN_TAGS.sub(" ", text))


def _strings(obj: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string in a figure's dict (data and layout, not the theme template), with where it sits."""
    if isinstance(obj, str):
        yield path, obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            if k != "template":
                yield from _strings(v, f"{path}.{k}")
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from _strings(v, f"{path}[{i}]")
    elif hasattr(obj, "tolist"):
        yield from _strings(obj.tolist(), path)


def assert_figure_safe(fig: go.Figure, hostile: str, *, must_show: bool = True) -> int:
    """No string plotly draws holds markup, a quote or a dollar sign of the hostile text; the text reads as it was.

    Returns how many strings were checked.
    """
    shown = []
    checked = 0
    for path, text in _strings(fig.to_dict()):
        checked += 1
        assert hostile not in text, f"raw hostile text at {path}: {text[:200]!r}"
        if path.endswith("hovertemplate"):  # the template is ours; the data it inserts is checked where it sits
            continue
        bare = _OWN_TAGS.sub(" ", text)
        assert "<" not in bare and ">" not in bare, f"markup at {path}: {text[:200]!r}"
        assert "$" not in text, f"a dollar sign plotly would typeset at {path}: {text[:200]!r}"
        assert '"' not in text, f"a raw quote at {path}: {text[:200]!r}"
        shown.append(_plotly_decode(text))
    if must_show:
        assert any(hostile in s for s in shown), "the hostile text is not shown literally anywhere"
    return checked


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


_REPR_TAGS = {"div", "b", "pre", "table", "tr", "th", "td", "p", "ul", "li", "br", "code"}


def assert_html_safe(markup: str, hostile: str) -> None:
    """Only the repr's own tags (no attribute but the MathJax-off class), no raw ``$``, the text read back whole."""
    assert hostile not in markup
    assert "$" not in markup, "a dollar sign MathJax could typeset"
    parser = _Tags()
    parser.feed(markup)
    parser.close()
    for tag, attrs in parser.tags:
        assert tag in _REPR_TAGS, f"tag {tag!r} in {markup[:300]!r}"
        assert attrs in ([], [("class", "tex2jax_ignore mathjax_ignore")]), f"attributes {attrs!r} on {tag}"
    assert parser.tags[0] == ("div", [("class", "tex2jax_ignore mathjax_ignore")]), "the repr is not out of MathJax's reach"
    assert hostile in "".join(parser.text), "the hostile text is not shown literally"


# --------------------------------------------------------------------------- the helper itself


@pytest.mark.parametrize("hostile", HOSTILE, ids=IDS)
def test_helper_escapes_and_round_trips(hostile: str) -> None:
    out = html_text(hostile)
    assert not set(out) & set("<>\"'$")
    assert html.unescape(out) == hostile  # a browser reads it back whole
    assert _plotly_decode(out) == hostile  # so does plotly.js
    assert html_texts(pd.Series([hostile, None])).tolist() == [out, ""]
    assert math_off(out).startswith('<div class="tex2jax_ignore mathjax_ignore">')


def test_markdown_cell() -> None:
    cell = markdown_text('a|b\n<b>x</b> [l](javascript:alert(1)) `c` *e* _f_ $x^2$ posts_user_id')
    assert "<b>" not in cell and "|" not in cell.replace("\\|", "")
    assert re.search(r"(?<!\\)[$\[\]`*]", cell) is None, cell
    assert "\\_f\\_" in cell and "posts_user_id" in cell  # emphasis stopped, names inside a word left readable
    assert "<br>" in cell and "\n" not in cell


# --------------------------------------------------------------------------- plans built by hand


def _plan_json(h: str, *, index_scan: bool) -> str:
    """A Hash Join of a selective Seq Scan (relation, filter = h) and an index scan (index, alias = h)."""
    outer: dict[str, Any] = {
        "Node Type": "Seq Scan", "Parent Relationship": "Outer", "Relation Name": h, "Schema": "public",
        "Alias": h, "Startup Cost": 0.0, "Total Cost": 2000.0, "Plan Rows": 50, "Plan Width": 8,
        "Actual Startup Time": 0.01, "Actual Total Time": 40.0, "Actual Rows": 5, "Actual Loops": 1,
        "Filter": f"(note = '{h}'::text)", "Rows Removed by Filter": 99995,
        "Shared Hit Blocks": 10, "Shared Read Blocks": 900,
    }
    if index_scan:
        outer = {**outer, "Node Type": "Index Scan", "Index Name": h, "Index Cond": f"(note = '{h}'::text)",
                 "Actual Total Time": 0.1, "Rows Removed by Filter": 0, "Shared Read Blocks": 3}
        del outer["Filter"]
    inner = {
        "Node Type": "Hash", "Parent Relationship": "Inner", "Startup Cost": 20.0, "Total Cost": 20.0,
        "Plan Rows": 100, "Plan Width": 8, "Actual Startup Time": 1.0, "Actual Total Time": 1.0,
        "Actual Rows": 100, "Actual Loops": 1,
        "Plans": [{"Node Type": "Seq Scan", "Parent Relationship": "Outer", "Relation Name": "users",
                   "Schema": "public", "Alias": h, "Startup Cost": 0.0, "Total Cost": 20.0, "Plan Rows": 100,
                   "Plan Width": 8, "Actual Startup Time": 0.01, "Actual Total Time": 0.5, "Actual Rows": 100,
                   "Actual Loops": 1}],
    }
    root = {"Node Type": "Hash Join", "Join Type": "Inner", "Startup Cost": 30.0, "Total Cost": 2100.0,
            "Plan Rows": 50, "Plan Width": 16, "Actual Startup Time": 1.5, "Actual Total Time": 42.0 if not index_scan
            else 2.0, "Actual Rows": 5, "Actual Loops": 1, "Hash Cond": f"(\"{h}\".id = users.id)",
            "Plans": [outer, inner]}
    return json.dumps([{"Plan": root, "Planning Time": 0.2, "Execution Time": root["Actual Total Time"]}])


def _surfaces(a: wb.Plan, b: wb.Plan, h: str) -> int:
    """Every picture and HTML repr of plan ``a`` (and of its diff to ``b``) is safe; returns the surfaces checked."""
    assert_figure_safe(a.figure(), h)
    assert_figure_safe(a.figure("shared_read"), h)
    assert_figure_safe(a.flame(), h)
    diff = a.diff(b)
    assert_figure_safe(diff.figure(), h)
    assert_html_safe(a._repr_html_(), h)
    assert_html_safe(diff._repr_html_(), h)
    return 6


@pytest.mark.parametrize("hostile", HOSTILE, ids=IDS)
def test_plan_by_hand(hostile: str) -> None:
    a = wb.parse_plan(_plan_json(hostile, index_scan=False))
    b = wb.parse_plan(_plan_json(hostile, index_scan=True))
    found = a.insights()
    assert found["message"].str.contains(hostile, regex=False).any(), "no insight quotes the hostile text"
    assert a.nodes["relation"].eq(hostile).any()  # the frames keep the text as it is: it is data
    _surfaces(a, b, hostile)
    # the insight frame on the plot: its hover shows the message, escaped
    fig = a.figure()
    insight_traces = [t for t in fig.data if (t.name or "").endswith("insight")]
    assert insight_traces
    for trace in insight_traces:
        for row in trace.customdata:
            assert all("<" not in _OWN_TAGS.sub("", str(cell)) for cell in row)


# --------------------------------------------------------------------------- live: real EXPLAIN ANALYZE


@pytest.fixture(scope="module")
def hostile_db(empty_db: str) -> str:
    """Tables, columns, indexes and rows named after the hostile texts (one table per text)."""
    with psycopg.connect(empty_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE plain AS SELECT g AS id FROM generate_series(1, 5000) g")
        conn.execute("ANALYZE plain")
        for i, h in enumerate(HOSTILE):
            table = sql.Identifier(h)
            conn.execute(sql.SQL("CREATE TABLE {} (id int PRIMARY KEY, {} text)").format(table, sql.Identifier(h)))
            conn.execute(sql.SQL("INSERT INTO {} SELECT g, CASE WHEN g % 500 = 0 THEN {} ELSE 'n' || g END "
                                 "FROM generate_series(1, 5000) g").format(table, sql.Literal(h)))
            conn.execute(sql.SQL("CREATE INDEX {} ON {} ({})").format(sql.Identifier(f"{h} idx{i}"[:63]), table,
                                                                     sql.Identifier(h)))
            conn.execute(sql.SQL("ANALYZE {}").format(table))
            conn.execute(sql.SQL("SELECT count(*) FROM {}").format(table))  # a sequential scan for the statistics
    return empty_db


def _query(conn: psycopg.Connection, h: str, *, seq: bool) -> str:
    """A join of the hostile table (alias "h a") to another, filtered on a literal h: text for db.explain."""
    q = sql.SQL("SELECT {a}.id FROM {t} AS {a} JOIN plain AS u ON u.id = {a}.id WHERE {a}.{c} {op} {lit}").format(
        t=sql.Identifier(h), a=sql.Identifier(h + " a"), c=sql.Identifier(h), lit=sql.Literal(h),
        op=sql.SQL("||'' =" if seq else "="))
    return q.as_string(conn)


@pytest.mark.parametrize("hostile", HOSTILE, ids=IDS)
def test_plan_live(hostile_db: str, hostile: str) -> None:
    with psycopg.connect(hostile_db) as conn:
        seq_sql, idx_sql = _query(conn, hostile, seq=True), _query(conn, hostile, seq=False)
    with wb.connect(hostile_db) as db:
        a = db.explain(seq_sql)
        b = db.explain(idx_sql)
    assert a.nodes["relation"].eq(hostile).any()
    assert a.nodes["alias"].eq(hostile + " a").any()
    _surfaces(a, b, hostile)
    # the scan reads 5,000 rows to keep 10: an insight quotes the hostile relation and filter, escaped where shown
    assert a.insights()["message"].str.contains(hostile, regex=False).any()


def test_health_figures_and_markdown_live(hostile_db: str) -> None:
    with wb.connect(hostile_db) as db:
        tables, indexes = db.tables(), db.indexes()
    assert set(HOSTILE) <= set(tables["table"])
    figs = [health_figures.scan_picture(tables, top=50), health_figures.cache_hit_by_table(tables),
            health_figures.index_size_vs_scans(indexes)]
    for h in HOSTILE:
        for fig in figs:
            assert_figure_safe(fig, h)
        # dead-tuple figure: only tables with tuples are drawn; check no markup survives either way
        assert_figure_safe(health_figures.dead_tuple_share(tables), h, must_show=False)
    md = to_markdown(tables[["schema", "table"]])
    lines = md.splitlines()
    assert len({line.count(" | ") for line in lines}) == 1, "a cell broke out of its column"
    assert "<" not in md and re.search(r"(?<!\\)\$", md) is None  # no markup, no math
    read_back = html.unescape(re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", md))  # as a Markdown renderer shows it
    for h in HOSTILE:
        assert h in read_back


# --------------------------------------------------------------------------- viz: statements


def _statements(h: str) -> pd.DataFrame:
    queries = [f"SELECT 1 WHERE '{h}' = c", f"SELECT {h} FROM posts WHERE id = $1 AND user_id = $2",
               "SELECT 1"]
    return pd.DataFrame({
        "query": queries, "calls": [10, 2000, 5], "total_exec_ms": [500.0, 300.0, 1.0],
        "mean_exec_ms": [50.0, 0.15, 0.2], "rows_per_call": [1.0, 3.0, 1.0], "cache_hit_ratio": [0.5, 1.0, None],
        "total_exec_ms_per_s": [5.0, 3.0, 0.01], "calls_per_s": [0.1, 20.0, 0.05],
    })


@pytest.mark.parametrize("hostile", HOSTILE, ids=IDS)
def test_viz_statements(hostile: str) -> None:
    frame = _statements(hostile)
    for fig in (viz.statements_pareto(frame), viz.statements_scatter(frame), viz.rates_bar(frame)):
        assert_figure_safe(fig, hostile)


# --------------------------------------------------------------------------- a real browser draws them

CHROMIUM = Path("/usr/bin/chromium")
# After plotting: hover every point (slices of an icicle get a mouseover), keep a copy of each hover label.
_CAPTURE = """
var gd = document.getElementById('{plot_id}');
var out = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
out.setAttribute('class', 'captured'); gd.appendChild(out);
var jobs = [];
gd._fullData.forEach(function (trace, c) {
  if (trace.type === 'icicle') {
    gd.querySelectorAll('g.slice').forEach(function (s) { jobs.push(function () {
      s.dispatchEvent(new MouseEvent('mouseover', {bubbles: true})); }); });
  } else if (trace.hoverinfo !== 'skip') {
    var n = gd.calcdata[c].length;
    for (var i = 0; i < n; i++) { (function (i) { jobs.push(function () {
      Plotly.Fx.hover(gd, [{curveNumber: c, pointNumber: i}], trace.xaxis + trace.yaxis); }); })(i); }
  }
});
(function next(k) {
  if (k > 0) { var layer = gd.querySelector('.hoverlayer'); if (layer) out.appendChild(layer.cloneNode(true)); }
  if (k < jobs.length) {
    try { jobs[k](); } catch (e) { gd.setAttribute('data-error', String(e)); }
    setTimeout(function () { next(k + 1); }, 80);
  }
  else { gd.setAttribute('data-hovered', String(jobs.length)); }
})(0);
"""


class _Dom(HTMLParser):
    """Elements, attributes and text of a page as chromium left it (only inside the plots' divs)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.texts.append(data)


def _browser_figures() -> dict[str, go.Figure]:
    """One page's worth: every figure kind, each holding all the hostile texts at once."""
    def joined(index_scan: bool) -> wb.Plan:
        parts = [json.loads(_plan_json(h, index_scan=index_scan))[0]["Plan"] for h in HOSTILE]
        root = {"Node Type": "Append", "Startup Cost": 0.0, "Total Cost": 30000.0, "Plan Rows": 450, "Plan Width": 8,
                "Actual Startup Time": 0.1, "Actual Total Time": sum(p["Actual Total Time"] for p in parts),
                "Actual Rows": 45, "Actual Loops": 1, "Plans": [{**p, "Parent Relationship": "Member"} for p in parts]}
        return wb.parse_plan([{"Plan": root, "Execution Time": root["Actual Total Time"]}])

    a, b = joined(False), joined(True)
    statements = pd.concat([_statements(h).head(2) for h in HOSTILE], ignore_index=True)
    n = len(HOSTILE)
    tables = pd.DataFrame({"schema": ["public"] * n, "table": HOSTILE, "seq_scan": range(1, n + 1),
                           "idx_scan": range(n), "seq_tup_read": [1000 * i for i in range(1, n + 1)],
                           "idx_tup_fetch": range(n), "n_live_tup": [100] * n})
    return {"plan": a.figure(), "flame": a.flame(), "diff": a.diff(b).figure(),
            "pareto": viz.statements_pareto(statements, top=2 * n), "rates": viz.rates_bar(statements, top=2 * n),
            "scans": health_figures.scan_picture(tables)}


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (Debian package chromium) to draw the figures")
def test_browser_draws_hostile_text_as_text(tmp_path: Path) -> None:
    """chromium loads the figures with plotly.js, hovers every point, and the page holds no element, attribute or
    style from the hostile texts, which read literally in the drawn labels and hover labels."""
    figs = _browser_figures()
    divs = "".join(fig.to_html(full_html=False, include_plotlyjs=False, div_id=name, post_script=_CAPTURE,
                               config={"displayModeBar": False}) for name, fig in figs.items())
    page = tmp_path / "hostile.html"
    page.write_text(f"<html><head><meta charset='utf-8'><script>{get_plotlyjs()}</script></head><body>{divs}</body></html>",
                    encoding="utf-8")
    dom = subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
         "--virtual-time-budget=60000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=180, check=True).stdout
    body = dom.split("<body>", 1)[1]
    parser = _Dom()
    parser.feed(body)
    for name in figs:  # every plot was drawn and every point hovered
        match = re.search(rf'<div id="{name}"[^>]*data-hovered="(\d+)"', body)
        assert match and int(match.group(1)) > 0, f"{name} was not drawn or hovered"
    tags = {tag for tag, _ in parser.elements}
    assert not tags & {"img", "a", "iframe", "object", "embed"}, tags & {"img", "a", "iframe", "object", "embed"}
    for tag, attrs in parser.elements:
        assert not any(k.startswith("on") for k in attrs), (tag, attrs)
        links = " ".join(str(v) for k, v in attrs.items() if k in ("href", "xlink:href", "src", "action"))
        assert "javascript:" not in links, (tag, attrs)
        assert "color:red" not in (attrs.get("style") or "").replace(" ", ""), (tag, attrs)
        if "data-unformatted" in attrs:  # what plotly.js matches LaTeX against: no dollar sign, so never typeset
            assert "$" not in (attrs["data-unformatted"] or ""), attrs
    scripts = re.findall(r"<script[^>]*>(.*?)</script>", body, flags=re.S)
    assert all("alert(1)" not in s or "Plotly.newPlot" in s for s in scripts)  # only the figures' own JSON data
    drawn = "\n".join(parser.texts)
    for h in HOSTILE:
        assert h in drawn, f"{h!r} is not drawn literally"
    hover_labels = re.findall(r'<g class="hovertext".*?</g>', body, flags=re.S)
    assert hover_labels, "no hover label was captured"
    hover_text = html.unescape(re.sub(r"<[^>]+>", "", "\n".join(hover_labels)))
    for h in HOSTILE:
        assert h in hover_text, f"{h!r} is not in any hover label"


def test_safe_tables_keeps_notebook_tables_text() -> None:
    """What the notebooks call first: DataFrame HTML is never typeset; with it, a Styler table
    formatted as notebook 01 formats its statements escapes the query text."""
    import pandas as pd

    import dbworkbench as wb

    frame = pd.DataFrame({"query": ["<img src=x onerror=alert(1)> WHERE a = $1 AND b = $2"], "calls": [3]})
    with pd.option_context("styler.format.escape", None, "styler.html.mathjax", True, "display.html.use_mathjax", True):
        assert "tex2jax_ignore" not in frame._repr_html_()
        wb.safe_tables()
        html = frame.style.format({"calls": "{:,}"}, escape="html").to_html()
        assert "<img" not in html and "&lt;img" in html
        assert "tex2jax_ignore" in html or "mathjax_ignore" in html
        assert "tex2jax_ignore" in frame._repr_html_() and "<img" not in frame._repr_html_()
        assert "<img" not in frame.style.to_html()  # the option itself, for tables styled without format()
