"""Settings review against the handbook's postgresql.conf, and backup readiness."""

from __future__ import annotations

from psycopg import sql

from .._pretty import pretty_bytes
from ._context import Finding, HealthContext, pretty_seconds, reloption
from ._shared import alter_system_sql, fmt_int, fmt_pct, table_name

MiB = 1024**2


def _mb(n: float) -> str:
    """A memory size as a setting value, whole megabytes ('4096MB')."""
    return f"{max(1, round(n / MiB))}MB"


def _needs_restart(ctx: HealthContext, name: str) -> bool:
    return bool(ctx.settings[name]["context"] == "postmaster")


def _set_fix(ctx: HealthContext, name: str, value: str | list[str]) -> str:
    return alter_system_sql(ctx, name, value, reload=not _needs_restart(ctx, name))


def _apply_note(ctx: HealthContext, name: str) -> str:
    return " Takes effect after a server restart." if _needs_restart(ctx, name) else " Takes effect on reload."


def _memory_rule(ctx: HealthContext, name: str, target: int, why: str) -> Finding:
    t = ctx.thresholds
    actual = ctx.setting_bytes(name) or 0
    ratio = actual / target
    evidence = f"{name} = {pretty_bytes(actual)}; target {pretty_bytes(target)} ({why}): {ratio:.2f}x the target"
    low, high = t.memory_tolerance
    flow, fhigh = t.memory_fail_tolerance
    if low <= ratio <= high:
        return Finding("pass", name, evidence)
    status = "fail" if ratio < flow or ratio > fhigh else "warn"
    direction = "too small" if ratio < low else "too large"
    return Finding(status, name, evidence + f": {direction}.",
                   f"Set {name} to about {_mb(target)}.{_apply_note(ctx, name)}",
                   _set_fix(ctx, name, _mb(target)), "warning")


def memory_settings(ctx: HealthContext) -> list[Finding]:
    """shared_buffers, effective_cache_size, maintenance_work_mem and work_mem against RAM (postgres-checkup G001).

    The handbook's rules: shared_buffers 25 % of RAM, effective_cache_size 75 %,
    maintenance_work_mem 1 GB (1/16 of its 16 GB machine), work_mem 64 MB. RAM is the
    ``ram_bytes`` given, else read on the server (/proc/meminfo and the cgroup limit,
    which needs pg_read_server_files); without it the RAM rules skip. work_mem is judged
    by evidence: temp files written (too small) or work_mem x max_connections over RAM
    (too large).
    """
    t = ctx.thresholds
    ram, source = ctx.machine_ram()
    out = []
    if ram is None:
        for name in ("shared_buffers", "effective_cache_size", "maintenance_work_mem"):
            out.append(Finding("skip", name, f"{name} = {pretty_bytes(ctx.setting_bytes(name))}; RAM {source}",
                               "Pass the machine's RAM: db.health(ram_bytes=16 * 2**30)."))
    else:
        of = f"{pretty_bytes(ram)} RAM, {source}"
        out.append(_memory_rule(ctx, "shared_buffers", int(ram * t.shared_buffers_share),
                                f"{fmt_pct(t.shared_buffers_share, 0)} of {of}"))
        out.append(_memory_rule(ctx, "effective_cache_size", int(ram * t.effective_cache_size_share),
                                f"{fmt_pct(t.effective_cache_size_share, 0)} of {of}"))
        out.append(_memory_rule(ctx, "maintenance_work_mem",
                                int(min(ram * t.maintenance_work_mem_share, t.maintenance_work_mem_cap)),
                                f"1/{round(1 / t.maintenance_work_mem_share)} of {of}, at most "
                                f"{pretty_bytes(t.maintenance_work_mem_cap)}"))
    out.append(_work_mem(ctx, ram))
    return out


def _work_mem(ctx: HealthContext, ram: int | None) -> Finding:
    t = ctx.thresholds
    work_mem = ctx.setting_bytes("work_mem") or 0
    max_conn = int(ctx.setting("max_connections"))
    db = ctx.rows("database")[0]
    evidence = (f"work_mem = {pretty_bytes(work_mem)}, max_connections = {max_conn}; {fmt_int(db['temp_files'])} temp "
                f"files ({pretty_bytes(db['temp_bytes'])}) written in {ctx.database} since the statistics reset")
    if ram is not None and work_mem * max_conn > ram:
        target = max(4 * MiB, ram // max_conn // 2)
        return Finding(
            "warn", "work_mem",
            evidence + f"; work_mem x max_connections = {pretty_bytes(work_mem * max_conn)} exceeds "
            f"{pretty_bytes(ram)} RAM.",
            "Each sort or hash of each connection may use work_mem (hashes hash_mem_multiplier times it): a busy "
            f"moment can run the machine out of memory. Lower it to about {_mb(target)} and raise it per role or per "
            "session for the reports that need more (ALTER ROLE ... SET work_mem).",
            _set_fix(ctx, "work_mem", _mb(target)), "warning")
    if (db["temp_files"] or 0) > 0 and work_mem < t.work_mem_target:
        return Finding(
            "warn", "work_mem", evidence + ": sorts and hashes spill to disk.",
            f"Raise work_mem towards the handbook's {pretty_bytes(t.work_mem_target)} (watch work_mem x "
            "max_connections against RAM), or per role for the reporting queries; log_temp_files = 0 logs which "
            "statements spill.",
            _set_fix(ctx, "work_mem", _mb(t.work_mem_target)), "warning")
    return Finding("pass", "work_mem", evidence)


def planner_settings(ctx: HealthContext) -> list[Finding]:
    """random_page_cost and effective_io_concurrency for the storage (handbook: 1.1 and 200 on SSD).

    ``storage`` ("ssd", the default, or "hdd") says what the server's disks are; the
    server cannot tell.
    """
    t = ctx.thresholds
    out = []
    rpc = float(ctx.setting("random_page_cost"))
    seq = float(ctx.setting("seq_page_cost"))
    if ctx.storage == "ssd":
        evidence = f"random_page_cost = {rpc:g} (seq_page_cost {seq:g}); storage: SSD (as told)"
        if rpc > t.random_page_cost_ssd_max:
            out.append(Finding(
                "warn", "random_page_cost", evidence + f"; the handbook sets {t.random_page_cost_ssd:g} for SSD.",
                "On SSD a random read costs about as much as a sequential one; the default 4 makes the planner "
                "shy away from index scans." + _apply_note(ctx, "random_page_cost"),
                _set_fix(ctx, "random_page_cost", f"{t.random_page_cost_ssd:g}"), "warning"))
        else:
            out.append(Finding("pass", "random_page_cost", evidence))
        eic = int(ctx.setting("effective_io_concurrency"))
        evidence = f"effective_io_concurrency = {eic}; storage: SSD (as told)"
        if eic < t.effective_io_concurrency_ssd // 2:
            out.append(Finding(
                "warn", "effective_io_concurrency",
                evidence + f"; the handbook sets {t.effective_io_concurrency_ssd} for SSD.",
                "SSDs serve many reads at once: bitmap heap scans (and, from PostgreSQL 18, more scans) prefetch "
                "that many blocks." + _apply_note(ctx, "effective_io_concurrency"),
                _set_fix(ctx, "effective_io_concurrency", str(t.effective_io_concurrency_ssd)), "info"))
        else:
            out.append(Finding("pass", "effective_io_concurrency", evidence))
    else:
        evidence = f"random_page_cost = {rpc:g}; storage: spinning disks (as told)"
        if rpc < 2:
            out.append(Finding("warn", "random_page_cost", evidence + ": the planner overrates index scans on HDD.",
                               "Keep the default 4 on spinning disks.", _set_fix(ctx, "random_page_cost", "4"),
                               "warning"))
        else:
            out.append(Finding("pass", "random_page_cost", evidence))
    return out


def logging_settings(ctx: HealthContext) -> list[Finding]:
    """The handbook's logging: slow statements (1 s), lock waits, temp files, checkpoints."""
    t = ctx.thresholds
    out = []
    lmd = ctx.setting_ms("log_min_duration_statement")
    if lmd < 0:
        out.append(Finding("warn", "log_min_duration_statement",
                           "log_min_duration_statement = -1: slow statements are not logged.",
                           f"Log statements slower than {t.log_min_duration_ms} ms (the handbook's setting) to catch "
                           "slow queries pg_stat_statements averages away." + _apply_note(ctx, "log_min_duration_statement"),
                           _set_fix(ctx, "log_min_duration_statement", f"{t.log_min_duration_ms}ms"), "warning"))
    elif lmd == 0:
        out.append(Finding("warn", "log_min_duration_statement",
                           "log_min_duration_statement = 0: every statement is logged.",
                           "Logging everything costs I/O and floods the log; log the slow ones only.",
                           _set_fix(ctx, "log_min_duration_statement", f"{t.log_min_duration_ms}ms"), "info"))
    elif lmd > t.log_min_duration_ms:
        out.append(Finding("warn", "log_min_duration_statement",
                           f"log_min_duration_statement = {lmd:g} ms: statements between {t.log_min_duration_ms} ms "
                           "and that are not logged.", f"The handbook logs from {t.log_min_duration_ms} ms.",
                           _set_fix(ctx, "log_min_duration_statement", f"{t.log_min_duration_ms}ms"), "info"))
    else:
        out.append(Finding("pass", "log_min_duration_statement",
                           f"log_min_duration_statement = {lmd:g} ms (handbook: {t.log_min_duration_ms} ms)"))
    for name, want, why in (
        ("log_lock_waits", "on", "sessions waiting longer than deadlock_timeout for a lock are logged with the lock holder"),
        ("log_checkpoints", "on", "each checkpoint is logged with its duration and cause"),
        ("log_temp_files", "0", "every temp file a sort or hash spills to disk is logged with its statement"),
    ):
        value = ctx.setting(name)
        if value == want:
            out.append(Finding("pass", name, f"{name} = {value} (handbook: {want})"))
        else:
            out.append(Finding("warn", name, f"{name} = {value}; the handbook sets {want}.",
                               f"With {name} = {want} {why}." + _apply_note(ctx, name),
                               _set_fix(ctx, name, want), "info"))
    return out


def pg_stat_statements(ctx: HealthContext) -> list[Finding]:
    """pg_stat_statements preloaded and created in this database (the handbook's "Find slow queries")."""
    preload = [lib for lib in ctx.server.preload_libraries]
    loaded = "pg_stat_statements" in preload
    created = ctx.server.has_extension("pg_stat_statements")
    if loaded and created:
        return [Finding("pass", "pg_stat_statements",
                        f"preloaded and installed (version {ctx.server.installed_extensions['pg_stat_statements']['version']})")]
    if not loaded:
        return [Finding(
            "fail", "pg_stat_statements",
            f"pg_stat_statements is not in shared_preload_libraries ({', '.join(preload) or 'empty'}).",
            "Without it there is no record of which statements take the time: the first question of any tuning "
            "session. Add it (keeping the libraries already listed), restart the server, then CREATE EXTENSION "
            "pg_stat_statements in this database.",
            alter_system_sql(ctx, "shared_preload_libraries", [*preload, "pg_stat_statements"], reload=False),
            "warning")]
    return [Finding(
        "fail", "pg_stat_statements",
        f"pg_stat_statements is preloaded but the extension is not created in {ctx.database}: its view is missing.",
        "Create the extension (no restart needed).", "CREATE EXTENSION IF NOT EXISTS pg_stat_statements;", "warning")]


def autovacuum_settings(ctx: HealthContext) -> list[Finding]:
    """autovacuum and track_counts on (the handbook), and no table with autovacuum turned off."""
    out = []
    for name in ("autovacuum", "track_counts"):
        value = ctx.setting(name)
        if value == "on":
            out.append(Finding("pass", name, f"{name} = on"))
        else:
            out.append(Finding(
                "fail", name, f"{name} = {value}.",
                "Without autovacuum dead rows pile up, statistics go stale and transaction IDs run toward wraparound "
                "(an anti-wraparound vacuum still runs, late and all at once). Turn it on." + _apply_note(ctx, name),
                _set_fix(ctx, name, "on"), "critical"))
    for r in ctx.rows("tables"):
        off = [opt for opt, opts in (("autovacuum_enabled", r["reloptions"]),
                                     ("toast.autovacuum_enabled", r["toast_reloptions"]))
               if reloption(opts, "autovacuum_enabled") == "false"]
        if not off:
            continue
        name = table_name(ctx, r)
        fix = ctx.render(sql.SQL("ALTER TABLE {} RESET ({});").format(
            sql.Identifier(r["schema"], r["table"]), sql.SQL(", ").join(sql.SQL(o) for o in off)))
        out.append(Finding(
            "warn", name, f"{name} has {' and '.join(o + ' = false' for o in off)}; {fmt_int(r['n_dead_tup'])} dead "
            "tuples now.",
            "Autovacuum skips this table except to prevent wraparound: nothing removes its dead rows or refreshes its "
            "statistics unless someone runs VACUUM and ANALYZE by hand. Tune its autovacuum_* options instead of "
            "turning it off.", fix, "warning"))
    return out


def checkpoint_settings(ctx: HealthContext) -> list[Finding]:
    """max_wal_size: checkpoints should come from checkpoint_timeout, not from WAL volume (handbook: 4GB).

    More requested than timed checkpoints (at least 10 of them) means max_wal_size is
    too small for the write rate: each checkpoint flushes everything and the first
    change of each page after it writes a full page image to WAL.
    """
    row = ctx.rows("checkpoints")[0]
    timed, requested = row["timed"] or 0, row["requested"] or 0
    size = ctx.setting_bytes("max_wal_size") or 0
    since = f"since {row['stats_reset']:%Y-%m-%d %H:%M}" if row["stats_reset"] else "since the statistics began"
    evidence = (f"max_wal_size = {pretty_bytes(size)}, checkpoint_timeout = "
                f"{pretty_seconds(ctx.setting_ms('checkpoint_timeout') / 1000)}; {fmt_int(timed)} timed and "
                f"{fmt_int(requested)} requested checkpoints {since}")
    if requested >= 10 and requested > timed:
        target = max(2 * size, 4 * 1024**3)
        return [Finding(
            "warn", "max_wal_size",
            evidence + " (requested: WAL reached max_wal_size, or a CHECKPOINT, CREATE or DROP DATABASE command asked for one).",
            f"Raise max_wal_size to about {_mb(target)} (the handbook uses 4GB) so checkpoints come every "
            "checkpoint_timeout; log_checkpoints shows each one's cause." + _apply_note(ctx, "max_wal_size"),
            _set_fix(ctx, "max_wal_size", _mb(target)), "warning")]
    return [Finding("pass", "max_wal_size", evidence)]


def backup_readiness(ctx: HealthContext) -> list[Finding]:
    """WAL level, WAL archiving and the archiver's last success and failure (the handbook's backup strategy).

    The handbook's backup plan has WAL archiving for point-in-time recovery; pg_dump
    alone restores only to the moment of the dump. The server cannot see backups taken
    elsewhere (pg_basebackup schedules, snapshots): this checks what it can.
    """
    out = []
    wal_level = ctx.setting("wal_level")
    if wal_level == "minimal":
        out.append(Finding(
            "fail", "wal_level", "wal_level = minimal: no WAL archiving, no replicas, no point-in-time recovery.",
            "Set wal_level = replica (the handbook's setting).", _set_fix(ctx, "wal_level", "replica"), "critical"))
    else:
        out.append(Finding("pass", "wal_level", f"wal_level = {wal_level}"))
    senders = int(ctx.setting("max_wal_senders"))
    if senders == 0:
        out.append(Finding("warn", "max_wal_senders", "max_wal_senders = 0: pg_basebackup and replicas cannot connect.",
                           "The handbook sets 3.", _set_fix(ctx, "max_wal_senders", "3"), "warning"))
    mode = ctx.setting("archive_mode")
    command = ctx.setting("archive_command")
    library = ctx.settings.get("archive_library", {}).get("setting") or ""
    if mode == "off":
        out.append(Finding(
            "warn", "archive_mode",
            "archive_mode = off: no WAL is archived, so a restore can only go back to the last full backup.",
            "For point-in-time recovery (the handbook's WAL archiving) set archive_mode = on and an archive_command "
            "or archive_library that copies each segment off the machine (pgBackRest, WAL-G, barman); restart the "
            "server; take a base backup.", None, "warning"))
        return out
    if not command.strip() and not library.strip():
        out.append(Finding(
            "fail", "archive_command",
            f"archive_mode = {mode} but archive_command and archive_library are empty: WAL segments pile up in "
            "pg_wal, unarchived, until the disk fills.",
            "Set an archive_command (or archive_library), then reload.", None, "critical"))
        return out
    out.append(Finding("pass", "archive_mode", f"archive_mode = {mode}, "
                       + (f"archive_library = {library}" if library.strip() else f"archive_command = {command}")))
    a = ctx.rows("archiver")[0]
    last_ok, last_fail = a["last_archived_time"], a["last_failed_time"]
    evidence = (f"{fmt_int(a['archived_count'])} segments archived, last {a['last_archived_wal'] or '-'} at "
                f"{last_ok:%Y-%m-%d %H:%M:%S}" if last_ok else f"{fmt_int(a['archived_count'])} segments archived")
    evidence += (f"; {fmt_int(a['failed_count'])} failures, last {a['last_failed_wal']} at {last_fail:%Y-%m-%d %H:%M:%S}"
                 if last_fail else "; no failures")
    if last_fail is not None and (last_ok is None or last_fail > last_ok):
        out.append(Finding(
            "fail", "archiver", evidence + ": the latest attempt failed.",
            "Archiving is failing: the segments wait in pg_wal (the disk fills) and point-in-time recovery has a gap. "
            "Read the server log for the archive_command's error and fix it; the archiver retries by itself.",
            None, "critical"))
    elif (a["failed_count"] or 0) > 0:
        out.append(Finding("warn", "archiver", evidence + ": it failed before, it works now.",
                           "Read the server log for what failed; SELECT pg_stat_reset_shared('archiver') clears the "
                           "counters once understood.", None, "info"))
    else:
        out.append(Finding("pass", "archiver", evidence))
    return out
