"""The scan picture: tables read mostly by sequential scans, cache hit ratios."""

from __future__ import annotations

from .._pretty import pretty_bytes
from ._context import Finding, HealthContext
from ._shared import fmt_int, fmt_pct, row_count, table_name


def seq_scan_heavy(ctx: HealthContext) -> list[Finding]:
    """Tables with many rows that are read mostly by sequential scans (PgHero missing_indexes).

    The handbook's "Find table scan statistics" query, with PgHero's rule: at least
    ``seq_scan_min_rows`` rows and index scans under ``seq_scan_min_index_share`` of all
    scans. Fails under ``seq_scan_fail_index_share``.
    """
    t = ctx.thresholds
    tables = [r for r in ctx.rows("tables") if r["relkind"] != "p"]
    big = [r for r in tables if row_count(r) >= t.seq_scan_min_rows]
    out = []
    for r in big:
        seq, idx = r["seq_scan"] or 0, r["idx_scan"] or 0
        if seq < t.seq_scan_min_scans:
            continue
        share = idx / (seq + idx)
        if share >= t.seq_scan_min_index_share:
            continue
        rows = row_count(r)
        name = table_name(ctx, r)
        per_scan = (r["seq_tup_read"] or 0) / seq
        status = "fail" if share < t.seq_scan_fail_index_share else "warn"
        out.append(Finding(
            status, name,
            f"{fmt_int(seq)} sequential scans read {fmt_int(r['seq_tup_read'])} rows ({fmt_int(per_scan)} per scan); "
            f"{fmt_int(idx)} index scans fetched {fmt_int(r['idx_tup_fetch'])} rows; {fmt_pct(share)} of scans use "
            f"an index. {fmt_int(rows)} rows, {pretty_bytes(r['table_bytes'])}"
            + ("; the table has no index at all." if not r["has_indexes"] else "."),
            "Find the statements that scan it (db.statements(), filtered on the table name), EXPLAIN them, and "
            "index their WHERE and JOIN columns (db.advise() proposes and costs candidates). Scans of a report "
            "that reads the whole table anyway are fine.",
            None, "warning"))
    if not out:
        out.append(Finding(
            "pass", ctx.database,
            f"{len(big)} tables with at least {fmt_int(t.seq_scan_min_rows)} rows; each is read through an index in "
            f"at least {fmt_pct(t.seq_scan_min_index_share, 0)} of scans, or scanned sequentially fewer than "
            f"{fmt_int(t.seq_scan_min_scans)} times"
            if big else f"no table has {fmt_int(t.seq_scan_min_rows)} rows or more"))
    return out


def cache_hit(ctx: HealthContext) -> list[Finding]:
    """Share of table and index block reads served from shared buffers (PgHero cache hit rate).

    One row for all tables, one for all indexes, and one per table below the line with at
    least ``cache_min_blocks`` block requests. Reads that miss shared buffers may still
    hit the operating system's cache; a low ratio on a hot table means the working set
    does not fit in shared_buffers.
    """
    t = ctx.thresholds
    tables = ctx.rows("tables")
    out = []
    for label, hit_col, read_col in (("tables", "heap_blks_hit", "heap_blks_read"),
                                     ("indexes", "idx_blks_hit", "idx_blks_read")):
        hit = sum(r[hit_col] or 0 for r in tables)
        read = sum(r[read_col] or 0 for r in tables)
        out.append(_ratio_finding(ctx, f"{label} (all)", hit, read, f"{label} of {ctx.database}"))
    for r in tables:
        hit, read = r["heap_blks_hit"] or 0, r["heap_blks_read"] or 0
        if hit + read < t.cache_min_blocks or hit / (hit + read) >= t.cache_hit_warn:
            continue
        out.append(_ratio_finding(ctx, table_name(ctx, r), hit, read, f"table {r['table']}"))
    return out


def _ratio_finding(ctx: HealthContext, obj: str, hit: int, read: int, what: str) -> Finding:
    t = ctx.thresholds
    total = hit + read
    if total < t.cache_min_blocks:
        return Finding("pass", obj, f"{what}: only {fmt_int(total)} block requests so far, too few to judge "
                                    f"(at least {fmt_int(t.cache_min_blocks)})")
    ratio = hit / total
    evidence = (f"{what}: {fmt_pct(ratio, 2)} of {fmt_int(total)} block requests hit shared buffers; "
                f"{fmt_int(read)} blocks ({pretty_bytes(read * int(ctx.setting('block_size')))}) were read from the OS cache or disk")
    if ratio >= t.cache_hit_warn:
        return Finding("pass", obj, evidence)
    status = "fail" if ratio < t.cache_hit_fail else "warn"
    return Finding(
        status, obj, evidence + f" (the line is {fmt_pct(t.cache_hit_warn, 0)}).",
        "The working set does not fit in shared buffers: check memory_settings (shared_buffers ~25 % of RAM), "
        "and cut the blocks read: seq_scan_heavy tables need indexes, bloated tables need VACUUM.",
        None, "warning")
