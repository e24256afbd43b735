"""The report's sections, laid out as the handbook's response format; each a DataFrame or a figure.

Every function only reads (catalog, statistics views, EXPLAIN without ANALYZE by default).
Text from the server reaches the page through :func:`~dbworkbench.report.display.table_html`,
:class:`SqlText` or :func:`checklist_html`: escaped, never typeset.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .._escape import html_text, html_texts, math_off
from ..frames import typed_frame

if TYPE_CHECKING:
    from ..workbench import Workbench

__all__ = [
    "CHECKLIST_COLUMNS", "COLUMNS_COLUMNS", "CONSTRAINTS_COLUMNS", "INDEX_PURPOSE_COLUMNS", "OVERVIEW_COLUMNS",
    "QUERY_FINDINGS_COLUMNS", "SETTINGS_REVIEW_COLUMNS", "SqlText", "backup_monitoring", "checklist_html", "columns",
    "constraints", "er_figure", "final_checklist", "index_purposes", "query_findings", "schema_overview", "table_ddl",
]

#: :func:`columns`: one row per column of each user table, in table order.
COLUMNS_COLUMNS = {"schema": "string", "table": "string", "position": "Int64", "column": "string", "type": "string",
                   "not_null": "boolean", "default": "string", "identity": "string", "relid": "Int64"}
#: :func:`constraints`: kind is p (primary key), u (unique), f (foreign key), c (check) or x (exclusion); NOT NULL is a column property (:data:`COLUMNS_COLUMNS`).
CONSTRAINTS_COLUMNS = {"schema": "string", "table": "string", "constraint": "string", "kind": "string",
                       "definition": "string", "ref_schema": "string", "ref_table": "string", "relid": "Int64"}
#: :func:`schema_overview`.
OVERVIEW_COLUMNS = {"schema": "string", "table": "string", "columns": "Int64", "rows": "Int64", "total_bytes": "Int64",
                    "primary_key": "string", "references": "string", "referenced_by": "string"}
#: :func:`index_purposes`: the handbook's indexes table (table, columns, type, purpose) and the numbers behind it.
INDEX_PURPOSE_COLUMNS = {"table": "string", "columns": "string", "type": "string", "purpose": "string",
                         "index": "string", "idx_scan": "Int64", "bytes": "Int64"}
#: :func:`query_findings`: the top statements with their plan insights and lint findings (codes and messages).
QUERY_FINDINGS_COLUMNS = {"rank": "Int64", "query": "string", "calls": "Int64", "total_exec_ms": "float64",
                          "mean_exec_ms": "float64", "share_of_total_time": "float64", "insights": "string",
                          "lint": "string", "next_step": "string"}
#: :func:`backup_monitoring`: section is ``backup`` or ``monitoring``; verdict ``ok``, ``missing`` or ``note``.
SETTINGS_REVIEW_COLUMNS = {"section": "string", "item": "string", "value": "string", "verdict": "string"}
#: :func:`final_checklist`: mark is ``pass``, ``fail``, ``warn`` or ``unknown`` (the server cannot tell).
CHECKLIST_COLUMNS = {"item": "string", "mark": "string", "evidence": "string"}


def _catalog(db: Workbench, name: str, schema: dict[str, str]) -> pd.DataFrame:
    from ..collectors import query_frame

    return query_frame(db.conn, name, schema, db.server)


def columns(db: Workbench) -> pd.DataFrame:
    """Every column of every user table (columns: :data:`COLUMNS_COLUMNS`)."""
    return _catalog(db, "report_columns", COLUMNS_COLUMNS)


def constraints(db: Workbench) -> pd.DataFrame:
    """Every constraint of every user table (columns: :data:`CONSTRAINTS_COLUMNS`)."""
    return _catalog(db, "report_constraints", CONSTRAINTS_COLUMNS)


def _qualified(schema: pd.Series, table: pd.Series) -> pd.Series:
    return (schema.where(schema != "public", "").fillna("") + ".").str.lstrip(".") + table


def schema_overview(db: Workbench) -> pd.DataFrame:
    """One row per user table: its columns, rows, size, primary key and foreign-key neighbours
    (columns: :data:`OVERVIEW_COLUMNS`), largest first."""
    cols, cons, tables = columns(db), constraints(db), db.tables()
    rows = []
    for (schema, table), part in cols.groupby(["schema", "table"], sort=False):
        mine = cons[(cons["schema"] == schema) & (cons["table"] == table)]
        fks = mine[mine["kind"] == "f"]
        incoming = cons[(cons["kind"] == "f") & (cons["ref_schema"] == schema) & (cons["ref_table"] == table)]
        stat = tables[(tables["schema"] == schema) & (tables["table"] == table)]
        pk = mine.loc[mine["kind"] == "p", "definition"]
        rows.append([schema, table, len(part), stat["n_live_tup"].iloc[0] if len(stat) else None,
                     stat["total_bytes"].iloc[0] if len(stat) else None, pk.iloc[0] if len(pk) else None,
                     ", ".join(sorted(set(_qualified(fks["ref_schema"], fks["ref_table"])))),
                     ", ".join(sorted(set(_qualified(incoming["schema"], incoming["table"]))))])
    frame = typed_frame(rows, list(OVERVIEW_COLUMNS), OVERVIEW_COLUMNS)
    return frame.sort_values("total_bytes", ascending=False, na_position="last").reset_index(drop=True)


def table_ddl(db: Workbench) -> pd.DataFrame:
    """``CREATE TABLE`` text of each user table, rebuilt from the catalog: columns with type, default,
    identity and NOT NULL, then its constraints (columns: ``schema``, ``table``, ``ddl``, all string)."""
    from psycopg import sql

    cols, cons = columns(db), constraints(db)
    rows = []
    for (schema, table), part in cols.groupby(["schema", "table"], sort=False):
        name = sql.Identifier(schema, table).as_string(db.conn)
        lines = []
        for c in part.itertuples(index=False):
            line = f"{sql.Identifier(c.column).as_string(db.conn)} {c.type}"
            if not pd.isna(c.identity):
                line += f" GENERATED {c.identity} AS IDENTITY"
            elif not pd.isna(c.default):
                line += f" DEFAULT {c.default}"
            lines.append(line + (" NOT NULL" if c.not_null else ""))
        mine = cons[(cons["schema"] == schema) & (cons["table"] == table)]
        lines += [f"CONSTRAINT {sql.Identifier(k.constraint).as_string(db.conn)} {k.definition}" for k in mine.itertuples()]
        rows.append([schema, table, f"CREATE TABLE {name} (\n  " + ",\n  ".join(lines) + "\n);"])
    return typed_frame(rows, ["schema", "table", "ddl"], {"schema": "string", "table": "string", "ddl": "string"})


@dataclass(frozen=True)
class SqlText:
    """SQL (or any text) shown as a literal code block in a notebook and in the report."""

    text: str

    def __str__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        return math_off(f"<pre style='white-space: pre-wrap; font-family: monospace'>{html_text(self.text)}</pre>")


def er_figure(db: Workbench) -> go.Figure:
    """The ER diagram from the catalog's foreign keys: a box per table (hover: its columns), an arrow
    from each referencing table to the table it references. Tables that reference nothing stand in the
    left column, each other table one column right of the furthest table it references."""
    cols, cons = columns(db), constraints(db)
    names = list(dict.fromkeys(zip(cols["schema"], cols["table"])))
    fks = cons[cons["kind"] == "f"]
    edges = [((s, t), (rs, rt)) for s, t, rs, rt in zip(fks["schema"], fks["table"], fks["ref_schema"], fks["ref_table"])
             if (rs, rt) in names]
    level = {n: 0 for n in names}
    for _ in range(len(names)):  # longest path from a table that references nothing (self-references ignored)
        changed = False
        for a, b in edges:
            if a != b and level[a] < level[b] + 1 <= len(names):
                level[a], changed = level[b] + 1, True
        if not changed:
            break
    slots: dict[int, int] = {}
    pos: dict[tuple[str, str], tuple[float, float]] = {}
    for n in sorted(names, key=lambda n: (level[n], n)):
        # odd columns sit half a row lower, so an arrow that skips a column passes between its boxes
        pos[n] = (float(level[n]), slots.get(level[n], 0) + 0.5 * (level[n] % 2))
        slots[level[n]] = slots.get(level[n], 0) + 1
    label = {n: n[1] if n[0] == "public" else f"{n[0]}.{n[1]}" for n in names}
    fig = go.Figure()
    for a, b in edges:
        (xa, ya), (xb, yb) = pos[a], pos[b]
        if a == b:  # a self-reference: a loop above the box
            fig.add_shape(type="path", path=f"M {xa - 0.06},{ya - 0.12} C {xa - 0.25},{ya - 0.6} {xa + 0.25},{ya - 0.6} {xa + 0.06},{ya - 0.12}",
                          line={"color": "#888", "width": 1.2})
            continue
        fig.add_annotation(x=xb, y=yb, ax=xa, ay=ya, xref="x", yref="y", axref="x", ayref="y", standoff=30,
                           startstandoff=30, showarrow=True, arrowhead=2, arrowwidth=1.2, arrowcolor="#888", text="")
    pk_cols = {(k.schema, k.table): k.definition for k in cons[cons["kind"] == "p"].itertuples()}
    hover = []
    for n in names:
        part = cols[(cols["schema"] == n[0]) & (cols["table"] == n[1])]
        listed = "<br>".join(html_texts(part["column"] + " " + part["type"]))
        hover.append(f"<b>{html_text(label[n])}</b> {html_text(pk_cols.get(n, 'no primary key'))}<br>{listed}")
    for n in names:  # the boxes: text with a border, as wide as the name
        fig.add_annotation(x=pos[n][0], y=pos[n][1], text=f"<b>{html_text(label[n])}</b>", showarrow=False, bgcolor="#deebf7",
                           bordercolor="#3182bd", borderwidth=1.5, borderpad=8, font={"size": 13})
    fig.add_scatter(  # invisible points under the boxes carry the hover text
        x=[pos[n][0] for n in names], y=[pos[n][1] for n in names], mode="markers", marker={"size": 40, "opacity": 0},
        hovertext=np.array(hover, dtype=object), hoverinfo="text", showlegend=False,
    )
    depth = max(level.values(), default=0)
    tall = max(slots.values(), default=1)
    fig.update_xaxes(visible=False, range=[-0.6, depth + 0.6])
    fig.update_yaxes(visible=False, range=[tall + 0.1, -0.9])
    fig.update_layout(title="Tables and their foreign keys (an arrow points to the table referenced)",
                      height=int(min(max(200 + 110 * tall, 320), 1400)), plot_bgcolor="white")
    return fig


def _index_type(ix: Any) -> str:
    if ix.is_primary:
        return "PRIMARY KEY"
    kind = "UNIQUE" if ix.is_unique else ("COMPOSITE" if len(ix.columns) > 1 else str(ix.method).upper())
    if len(ix.columns) > 1 and ix.is_unique:
        kind = "UNIQUE COMPOSITE"
    if ix.method != "btree" and kind in ("UNIQUE", "COMPOSITE", "UNIQUE COMPOSITE"):
        kind += f" {str(ix.method).upper()}"
    return kind + (" PARTIAL" if ix.is_partial else "")


def index_purposes(db: Workbench) -> pd.DataFrame:
    """The handbook's indexes table: each index's table, columns, type (PRIMARY KEY, UNIQUE, COMPOSITE,
    BTREE, GIN, ..., PARTIAL) and purpose, read from its constraint, the foreign key it serves and its
    scans (columns: :data:`INDEX_PURPOSE_COLUMNS`)."""
    indexes, cons = db.indexes(), constraints(db)
    fks = cons[cons["kind"] == "f"]
    rows = []
    for ix in indexes.itertuples(index=False):
        cols = [str(c) for c in ix.columns]
        served = [k for k in fks[(fks["schema"] == ix.schema) & (fks["table"] == ix.table)].itertuples()
                  if _fk_columns(k.definition) == cols[: len(_fk_columns(k.definition))]]
        if ix.is_primary:
            purpose = "row identity (primary key)"
        elif not pd.isna(ix.constraint):
            purpose = f"enforces uniqueness ({ix.constraint})"
        elif served:
            purpose = "joins and ON DELETE checks along " + ", ".join(f"{k.constraint} → {k.ref_table}" for k in served)
        elif ix.is_unique:
            purpose = "enforces uniqueness"
        else:
            purpose = "lookups and sorts"
        if not ix.is_primary and pd.isna(ix.constraint) and (pd.isna(ix.idx_scan) or ix.idx_scan == 0):
            purpose += "; never scanned since the statistics reset (see the health checklist's unused_index)"
        where = f" WHERE {ix.predicate}" if not pd.isna(ix.predicate) else ""
        rows.append([ix.table, ", ".join(cols) + where, _index_type(ix), purpose, ix.index, ix.idx_scan, ix.bytes])
    return typed_frame(rows, list(INDEX_PURPOSE_COLUMNS), INDEX_PURPOSE_COLUMNS)


def _fk_columns(definition: str) -> list[str]:
    inside = definition.split("(", 1)[1].split(")", 1)[0] if "(" in definition else ""
    return [c.strip().strip('"') for c in inside.split(",") if c.strip()]


def _lint_codes(query: str) -> str:
    from ..sqltools import lint

    found = lint(query)
    return "; ".join(f"{c}: {m}" for c, m in zip(found["code"], found["message"]))


def query_findings(db: Workbench, top: int = 10, *, analyze: bool = False) -> pd.DataFrame:
    """The ``top`` statements by total time (the workbench's own left out) with each one's plan
    insights and lint findings (columns: :data:`QUERY_FINDINGS_COLUMNS`). Plans are EXPLAINed
    without ANALYZE unless ``analyze`` (``$n`` statements get the generic plan); a statement that
    cannot be explained says why in ``insights``."""
    import psycopg

    from ..errors import WorkbenchError

    statements = db.statements().head(top)
    rows = []
    for rank, s in enumerate(statements.itertuples(index=False), start=1):
        try:
            found = db.explain(s.query, analyze=analyze).insights()
            insights = "; ".join(f"{c}: {m}" for c, m in zip(found["code"], found["message"])) or "none"
        except (WorkbenchError, psycopg.Error) as err:  # refused by the gate, or no longer valid (a dropped table)
            insights = f"not explained: {(str(err).strip().splitlines() or [type(err).__name__])[0]}"
        lint = _lint_codes(s.query) or "none"
        step = ("read its plan: db.explain(query).figure() (notebook 02_plan_explorer)" if insights not in ("none",)
                or lint != "none" else "")
        rows.append([rank, s.query, s.calls, s.total_exec_ms, s.mean_exec_ms, s.share_of_total_time, insights, lint, step])
    return typed_frame(rows, list(QUERY_FINDINGS_COLUMNS), QUERY_FINDINGS_COLUMNS)


_BACKUP = ("wal_level", "archive_mode", "archive_timeout", "max_wal_senders", "wal_keep_size", "summarize_wal")
_MONITORING = ("log_min_duration_statement", "log_lock_waits", "log_checkpoints", "log_autovacuum_min_duration",
               "log_temp_files", "track_io_timing", "track_functions", "deadlock_timeout", "auto_explain.log_min_duration",
               "pg_stat_statements.track", "idle_in_transaction_session_timeout", "statement_timeout")


def _verdict(name: str, value: str) -> str:
    ok = {"wal_level": value in ("replica", "logical"), "archive_mode": value in ("on", "always"),
          "max_wal_senders": value not in ("0", ""), "log_min_duration_statement": value not in ("-1", ""),
          "log_lock_waits": value == "on", "log_checkpoints": value == "on", "track_io_timing": value == "on",
          "auto_explain.log_min_duration": value not in ("-1", "")}
    return "note" if name not in ok else ("ok" if ok[name] else "missing")


def backup_monitoring(db: Workbench) -> pd.DataFrame:
    """Backup strategy and monitoring as the server's settings show them: WAL level and archiving,
    replication senders, slow-statement and lock-wait logging, I/O timing, pg_stat_statements and
    auto_explain (columns: :data:`SETTINGS_REVIEW_COLUMNS`). ``archive_command`` itself is not shown
    (it may hold credentials); only whether one is set."""
    settings = db.settings().set_index("name")
    rows = []
    for section, names in (("backup", _BACKUP), ("monitoring", _MONITORING)):
        for name in names:
            if name not in settings.index:
                continue
            s = settings.loc[name]
            value = str(s["setting"]) + ("" if pd.isna(s["unit"]) else f" ({s['unit']})")
            rows.append([section, name, value, _verdict(name, str(s["setting"]))])
    if "archive_command" in settings.index:
        set_ = str(settings.loc["archive_command", "setting"] or "") not in ("", "(disabled)")
        rows.append(["backup", "archive_command", "set (not shown)" if set_ else "empty", "ok" if set_ else "missing"])
    extensions = {"pg_stat_statements": db.server.has_extension("pg_stat_statements")}
    for ext, present in extensions.items():
        rows.append(["monitoring", f"extension {ext}", "installed" if present else "not installed", "ok" if present else "missing"])
    return typed_frame(rows, list(SETTINGS_REVIEW_COLUMNS), SETTINGS_REVIEW_COLUMNS)


# -- the handbook's final checklist: one small function per line, in the handbook's order ----------------

Evidence = dict[str, Any]  # health (frame), constraints (frame), security (frame), advice (Advice or None)


def _from_health(health: pd.DataFrame, checks: tuple[str, ...]) -> tuple[str, str]:
    part = health[health["check"].isin(checks)]
    if not len(part) or (part["status"] == "skip").all():
        return "unknown", f"{', '.join(checks)} could not run here"
    bad = part[part["status"].isin(["fail", "warn"])]
    mark = "fail" if (bad["status"] == "fail").any() else ("warn" if len(bad) else "pass")
    if not len(bad):
        return mark, f"{', '.join(checks)}: all pass"
    shown = "; ".join(f"{o or c}: {e}" for c, o, e in zip(bad["check"], bad["object"].fillna(""), bad["evidence"].fillna(""))
                      ) if len(bad) <= 4 else f"{len(bad)} findings of {', '.join(sorted(set(bad['check'])))}"
    return mark, shown


def schema_is_normalized(e: Evidence) -> tuple[str, str]:
    return "unknown", "the catalog cannot tell intent: read the tables above (repeated column groups, lists in text columns)"


def primary_keys_defined(e: Evidence) -> tuple[str, str]:
    return _from_health(e["health"], ("primary_key_missing",))


def foreign_keys_on_delete(e: Evidence) -> tuple[str, str]:
    n = int((e["constraints"]["kind"] == "f").sum())
    if not n:
        return "warn", "no foreign keys at all: relations between tables are not enforced"
    mark, why = _from_health(e["health"], ("fk_on_delete", "fk_without_index"))
    return mark, f"{n} foreign keys; {why}"


def indexes_for_query_patterns(e: Evidence) -> tuple[str, str]:
    mark, why = _from_health(e["health"], ("seq_scan_heavy", "fk_without_index", "unused_index", "duplicate_index"))
    advice = e.get("advice")
    if advice is not None and len(advice.selected):
        mark = "fail" if mark == "pass" else mark
        why += f"; the advisor proposes {len(advice.selected)} index(es), workload cost {advice.relative_cost:.0%} of today's"
    return mark, why


def constraints_for_integrity(e: Evidence) -> tuple[str, str]:
    kinds = e["constraints"]["kind"].value_counts()
    counts = {"primary key": kinds.get("p", 0), "unique": kinds.get("u", 0), "foreign key": kinds.get("f", 0),
              "check": kinds.get("c", 0), "exclusion": kinds.get("x", 0)}
    text = ", ".join(f"{v} {k}" for k, v in counts.items())
    return ("pass" if counts["check"] + counts["unique"] + counts["foreign key"] else "warn"), text


def migrations_created(e: Evidence) -> tuple[str, str]:
    return "unknown", ("the server does not know the files; the advisor's migration above is written by "
                       "advice.write_migration(folder) or `dbworkbench advise --out FOLDER`")


def backup_strategy(e: Evidence) -> tuple[str, str]:
    return _from_health(e["health"], ("backup_readiness",))


def recovery_documented(e: Evidence) -> tuple[str, str]:
    return "unknown", "a document, not a setting: write down and rehearse the restore (pg_basebackup + WAL replay)"


def monitoring_configured(e: Evidence) -> tuple[str, str]:
    return _from_health(e["health"], ("pg_stat_statements", "logging_settings"))


def security_configured(e: Evidence) -> tuple[str, str]:
    s = e["security"].iloc[0]
    facts = [f"{s['login_roles']} login roles, {s['login_superusers']} of them superusers"]
    mark = "pass"
    if s["public_can_create"]:
        facts.append("PUBLIC may CREATE in schema public (REVOKE CREATE ON SCHEMA public FROM PUBLIC)")
        mark = "warn"
    if s["current_user_is_superuser"]:
        facts.append("this report connected as a superuser: give applications a role of their own")
        mark = "warn"
    return mark, "; ".join(facts)


#: The handbook's final checklist, in its order: (line, rule).
CHECKLIST: tuple[tuple[str, Callable[[Evidence], tuple[str, str]]], ...] = (
    ("Schema is normalized (or denormalized intentionally)", schema_is_normalized),
    ("Primary keys defined", primary_keys_defined),
    ("Foreign keys with appropriate ON DELETE behavior", foreign_keys_on_delete),
    ("Indexes created for query patterns", indexes_for_query_patterns),
    ("Constraints for data integrity", constraints_for_integrity),
    ("Migration files created (up and down)", migrations_created),
    ("Backup strategy defined", backup_strategy),
    ("Recovery procedure documented", recovery_documented),
    ("Performance monitoring configured", monitoring_configured),
    ("Security (roles, permissions) configured", security_configured),
)


def final_checklist(db: Workbench, health: pd.DataFrame | None = None, advice: Any = None) -> pd.DataFrame:
    """The handbook's final checklist, each line marked from evidence (columns: :data:`CHECKLIST_COLUMNS`).

    ``health``: a :meth:`Workbench.health` frame (run here when None); ``advice``: an
    :class:`~dbworkbench.advisor.advice.Advice`, if one was made."""
    evidence: Evidence = {"health": db.health() if health is None else health, "constraints": constraints(db),
                          "security": _catalog(db, "report_security", {"login_roles": "Int64", "login_superusers": "Int64",
                                                                       "public_can_create": "boolean",
                                                                       "current_user_is_superuser": "boolean"}),
                          "advice": advice}
    rows = [[item, *rule(evidence)] for item, rule in CHECKLIST]
    return typed_frame(rows, list(CHECKLIST_COLUMNS), CHECKLIST_COLUMNS)


_MARKS = {"pass": "☑", "fail": "☐", "warn": "☐", "unknown": "?"}


def checklist_html(frame: pd.DataFrame, text: str = "item", mark: str = "mark", detail: str = "evidence") -> str:
    """A checklist frame as an HTML list: ☑ pass, ☐ fail or warn, ? unknown; every text escaped."""
    items = "".join(
        f"<li style='list-style: none'>{_MARKS.get(str(m), '?')} <b>{html_text(t)}</b> "
        f"<span style='color:#666'>({html_text(m)}) {html_text(d)}</span></li>"
        for t, m, d in zip(frame[text], frame[mark], frame[detail]))
    return math_off(f"<ul>{items}</ul>")
