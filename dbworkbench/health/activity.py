"""Sessions now: lock contention, long-running queries, idle transactions, connection count."""

from __future__ import annotations

import re

from ._context import Finding, HealthContext, Row, pretty_seconds
from ._shared import fmt_pct

QUERY_CHARS = 1000


def _sessions(ctx: HealthContext) -> list[Row]:
    return ctx.rows("activity", query_chars=QUERY_CHARS)


def _short(query: str | None, width: int = 160) -> str:
    if query is None:
        return "(query not visible)"
    flat = re.sub(r"\s+", " ", query).strip()
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _who(s: Row) -> str:
    parts = [f"pid {s['pid']}", s["user"] or "?", f"db {s['database']}" if s["database"] else None,
             f"app {s['application_name']!r}" if s["application_name"] else None]
    return ", ".join(p for p in parts if p)


def _visibility_note(ctx: HealthContext, sessions: list[Row]) -> str:
    if ctx.server.is_superuser or ctx.server.reads_all_stats:
        return ""
    hidden = sum(1 for s in sessions if not s["query_visible"])
    return (f" {hidden} sessions of other roles are only partly visible: grant pg_read_all_stats (or pg_monitor)."
            if hidden else "")


def lock_contention(ctx: HealthContext) -> list[Finding]:
    """Sessions waiting for a lock now, with the sessions blocking them (pg_blocking_pids; the handbook's lock query).

    Warns for any waiting session, fails past ``lock_wait_fail_s``. The fix terminates the
    session at the head of the chain (one not itself waiting), which releases its locks:
    check first what it is doing.
    """
    t = ctx.thresholds
    sessions = _sessions(ctx)
    by_pid = {s["pid"]: s for s in sessions}
    blocked = [s for s in sessions if s["blocked_by"]]
    out = []
    for s in blocked:
        waited = s["state_s"] if s["state_s"] is not None else s["query_s"]
        blockers = [by_pid.get(p) for p in s["blocked_by"]]
        heads = _heads(s, by_pid)
        blocker_text = "; ".join(
            f"{_who(b)} ({b['state']}, transaction open {pretty_seconds(b['xact_s'])}): {_short(b['query'], 120)}"
            if b else f"pid {p} (not visible)" for p, b in zip(s["blocked_by"], blockers))
        status = "fail" if (waited or 0) >= t.lock_wait_fail_s else "warn"
        fix = "\n".join(f"SELECT pg_terminate_backend({int(p)});" for p in sorted(heads)) or None
        out.append(Finding(
            status, f"pid {s['pid']}",
            f"{_who(s)} has waited {pretty_seconds(waited)} for a {s['wait_event']} lock: {_short(s['query'])}. "
            f"Blocked by {blocker_text}.",
            "A session holding locks while idle in a transaction, or a long statement, makes everyone behind it wait "
            "(and a waiting ALTER TABLE makes every later reader wait too). Ask its owner to finish or roll back; "
            "the fix terminates the head of the chain. Set lock_timeout for DDL and "
            "idle_in_transaction_session_timeout to keep it from happening.",
            fix, "critical" if status == "fail" else "warning"))
    if not out:
        out.append(Finding("pass", ctx.database, f"no session is waiting for a lock ({len(sessions)} other sessions)"
                           + _visibility_note(ctx, sessions)))
    return out


def _heads(s: Row, by_pid: dict[int, Row]) -> set[int]:
    """Blockers at the head of the wait chain(s) of ``s``: blocking, not themselves waiting."""
    heads: set[int] = set()
    seen: set[int] = {s["pid"]}
    stack = list(s["blocked_by"])
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        b = by_pid.get(pid)
        if b is None or not b["blocked_by"]:
            heads.add(pid)
        else:
            stack.extend(b["blocked_by"])
    return heads


def long_running_queries(ctx: HealthContext) -> list[Finding]:
    """Statements running longer than ``long_query_warn_s`` (PgHero long_running_queries, 60 s)."""
    t = ctx.thresholds
    sessions = _sessions(ctx)
    out = []
    for s in sessions:
        if s["state"] != "active" or s["backend_type"] != "client backend" or (s["query_s"] or 0) < t.long_query_warn_s:
            continue
        status = "fail" if s["query_s"] >= t.long_query_fail_s else "warn"
        out.append(Finding(
            status, f"pid {s['pid']}",
            f"{_who(s)} has run for {pretty_seconds(s['query_s'])}"
            + (f", waiting on {s['wait_event_type']}:{s['wait_event']}" if s["wait_event_type"] else "")
            + f": {_short(s['query'])}",
            "A long statement holds its snapshot (vacuum cannot remove rows it might see) and its locks. If it is not "
            "an expected report, cancel it (the fix) and EXPLAIN it; statement_timeout bounds such statements.",
            f"SELECT pg_cancel_backend({int(s['pid'])});", "critical" if status == "fail" else "warning"))
    if not out:
        out.append(Finding("pass", ctx.database, f"no statement has run for {pretty_seconds(t.long_query_warn_s)} or "
                           f"longer ({len(sessions)} other sessions)" + _visibility_note(ctx, sessions)))
    return out


def idle_in_transaction(ctx: HealthContext) -> list[Finding]:
    """Sessions idle inside an open transaction longer than ``idle_in_transaction_warn_s``.

    They keep their locks and hold back vacuum's cleanup horizon for the whole cluster.
    """
    t = ctx.thresholds
    sessions = _sessions(ctx)
    out = []
    for s in sessions:
        if not (s["state"] or "").startswith("idle in transaction") or (s["state_s"] or 0) < t.idle_in_transaction_warn_s:
            continue
        status = "fail" if s["state_s"] >= t.idle_in_transaction_fail_s else "warn"
        out.append(Finding(
            status, f"pid {s['pid']}",
            f"{_who(s)} is {s['state']} for {pretty_seconds(s['state_s'])} (transaction open "
            f"{pretty_seconds(s['xact_s'])}); last statement: {_short(s['query'])}",
            "An application that opened a transaction and forgot it (or waits on something slow between statements). "
            "Its locks block others and vacuum cannot clean up behind it. Fix the application; "
            "idle_in_transaction_session_timeout ends such sessions automatically; the fix terminates this one "
            "(its transaction rolls back).",
            f"SELECT pg_terminate_backend({int(s['pid'])});", "critical" if status == "fail" else "warning"))
    if not out:
        out.append(Finding("pass", ctx.database, f"no session idle in a transaction for "
                           f"{pretty_seconds(t.idle_in_transaction_warn_s)} or longer" + _visibility_note(ctx, sessions)))
    return out


def connections(ctx: HealthContext) -> list[Finding]:
    """Client connections against max_connections (PgHero connections, check_postgres backends)."""
    t = ctx.thresholds
    sessions = _sessions(ctx)
    clients = [s for s in sessions if s["backend_type"] == "client backend"]
    in_use = len(clients) + 1  # and this one
    max_conn = int(ctx.setting("max_connections"))
    reserved = int(ctx.setting("superuser_reserved_connections"))
    if "reserved_connections" in ctx.settings:
        reserved += int(ctx.setting("reserved_connections"))
    usable = max(1, max_conn - reserved)
    share = in_use / usable
    states: dict[str, int] = {}
    for s in clients:
        states[s["state"] or "unknown"] = states.get(s["state"] or "unknown", 0) + 1
    breakdown = ", ".join(f"{n} {state}" for state, n in sorted(states.items(), key=lambda kv: -kv[1]))
    evidence = (f"{in_use} client connections of {usable} usable (max_connections {max_conn} minus {reserved} "
                f"reserved): {fmt_pct(share)}" + (f"; {breakdown}" if breakdown else ""))
    if share < t.connections_warn:
        return [Finding("pass", "connections", evidence)]
    status = "fail" if share >= t.connections_fail else "warn"
    return [Finding(
        status, "connections", evidence + ".",
        "When they run out new connections are refused. Put a pooler (PgBouncer, transaction mode) in front of the "
        "application and close idle connections; raising max_connections costs memory per connection.",
        None, "critical" if status == "fail" else "warning")]

