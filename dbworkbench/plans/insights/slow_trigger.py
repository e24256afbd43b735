"""slow-trigger: trigger time, often a foreign key whose referencing column has no index."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ._base import Finding, fmt_ms, fmt_pct, view
from ._index import columns_index, index_sql
from ._sql import fk_from_name, quote_literal

if TYPE_CHECKING:
    from .._plan import Plan

CODE = "slow-trigger"
#: A trigger is reported when it took at least this share of the execution time ...
MIN_SHARE = 0.10
#: ... or at least this many milliseconds.
MIN_MS = 10.0


def _check_query(constraint: str) -> str:
    return (
        "SELECT conrelid::regclass AS referencing_table, pg_get_constraintdef(oid) FROM pg_constraint "
        f"WHERE conname = {quote_literal(constraint)};"
    )


def _number(v: Any) -> float | None:
    if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
        return float(v)
    return None


def _text(v: Any) -> str | None:
    return v if isinstance(v, str) else None


def _kind(name: str | None, constraint: str | None, operation: str | None) -> str:
    """'action' (a foreign key's trigger on the referenced table), 'check' (on the referencing
    table), 'fk' (a foreign key, side unknown) or 'user'. TEXT plans give no trigger name for
    a constraint's trigger: the statement decides (a DELETE fires the actions, an INSERT the checks)."""
    if name and name.startswith("RI_ConstraintTrigger_a_"):
        return "action"
    if name and name.startswith("RI_ConstraintTrigger_c_"):
        return "check"
    if constraint and not name:
        return {"Delete": "action", "Insert": "check"}.get(operation or "", "fk")
    return "user"


def slow_trigger(plan: Plan) -> Iterator[Finding]:
    """A trigger that took 10 ms or 10% of the execution time. For the action trigger of a
    foreign key (``RI_ConstraintTrigger_a_...`` on the referenced table), each deleted or
    updated row makes PostgreSQL look up, and here maybe cascade to, the referencing rows:
    without an index on the referencing column that is a scan per row. The referencing
    table and column are read from the constraint's default name (``<table>_<column>_fkey``),
    with the catalog query that confirms them. Saving: the trigger's time.
    """
    v = view(plan)
    execution = v.execution_ms or 0.0
    operation = next(
        (str(raw.get("Operation")) for raw, r in zip(v.raw, v.rows, strict=True) if r["node_type"] == "ModifyTable"), None
    )
    for t in plan.triggers.to_dict("records"):
        spent = _number(t.get("time_ms"))
        if spent is None or (spent < MIN_MS and spent < MIN_SHARE * execution):
            continue
        name, relation, constraint = (_text(t.get(k)) for k in ("name", "relation", "constraint"))
        calls = int(_number(t.get("calls")) or 0)
        share = f", {fmt_pct(spent / execution)} of the execution" if execution else ""
        per = f", {fmt_ms(spent / calls)} a call" if calls > 1 else ""
        on = f" on {relation}" if relation else ""
        what = f"Trigger for constraint {constraint}{on}" if constraint else f"Trigger {name or '?'}{on}"
        msg = f"{what}: {fmt_ms(spent)} in {calls:,} call{'s' if calls != 1 else ''}{per}{share}."
        kind = _kind(name, constraint, operation)
        if kind in ("action", "fk") and constraint:
            fk = fk_from_name(constraint, relation)
            if kind == "action":
                msg += (
                    f" Each row deleted or updated in {relation or 'the referenced table'} makes PostgreSQL "
                    f"find the rows that reference it"
                    + (f" in {fk[0]}.{fk[1]}" if fk else "")
                    + "; without an index there that is a scan of the referencing table per row."
                )
            ix = columns_index(None, fk[0], [fk[1]]) if fk else None
            if ix is not None:
                fix = (
                    f"Index the referencing column: {index_sql(ix)} "
                    f"(table and column read from the constraint name; confirm with: {_check_query(constraint)})"
                )
            else:
                fix = "Index the referencing columns of the foreign key; find them with: " + _check_query(constraint)
            if kind == "fk":
                fix = (
                    "If this is the foreign key's action (rows of the referenced table deleted or updated), "
                    + fix[0].lower() + fix[1:]
                    + " If it is the check of rows written to the referencing table, it is an index lookup per row."
                )
        elif kind == "check":
            fix = (
                f"Each inserted or updated row of {relation or 'the table'} checks that the referenced "
                "key exists (an index lookup on the referenced table's key). For bulk loads, load "
                "first and add the constraint afterwards (ADD CONSTRAINT ... NOT VALID, then "
                "VALIDATE CONSTRAINT), or load in fewer, larger statements."
            )
        else:
            fix = (
                f"The trigger function runs {'once per row' if calls > 1 else 'for this statement'}: "
                "review what it does (auto_explain.log_nested_statements = on logs the plans of its "
                "queries), or make it a statement-level trigger with transition tables."
            )
        yield Finding(CODE, None, msg, fix, spent)
