"""Which functions the gate lets a statement call when it is going to be executed.

Three lists, read in this order (names compare in lower case, in any schema):

1. :data:`DENIED` and :data:`DENIED_PREFIXES`: built-in (and common extension) functions whose
   effect reaches outside the transaction, so a ROLLBACK does not undo it: they end or signal
   other sessions, take session locks, advance sequences, send notifications, change settings,
   configuration or replication state, write files or run SQL text the gate cannot see.
   Refused everywhere, with or without a server to ask.
2. :data:`ALLOWED_VOLATILE` and :data:`ALLOWED_PREFIXES`: functions PostgreSQL marks VOLATILE
   that only read (clocks, random numbers, sizes, WAL positions, statistics) or sleep.
3. Everything else: on a live target the gate asks ``pg_proc``; a function any of whose
   overloads is VOLATILE is refused, user-defined functions included.

``allow_side_effects=True`` (``db.explain(..., allow_side_effects=True)``) lets all of them
through; the plan then names the side effects in ``plan.cannot_undo``.

What this cannot see, said plainly: a function can lie about its volatility (a user's function
marked STABLE or IMMUTABLE that writes is taken at its word); planning alone may evaluate
IMMUTABLE and, for estimates, STABLE functions, so even ``analyze=False`` runs those; operators,
casts and type input functions call functions without naming them (the gate checks
user-defined operators on a live target, not casts); triggers and rules of a writing statement
run inside the rolled-back transaction and are not inspected.
"""

from __future__ import annotations

#: Functions whose effects a ROLLBACK does not undo (or that run SQL text the gate cannot read).
DENIED: frozenset[str] = frozenset({
    # other sessions and the server process
    "pg_terminate_backend", "pg_cancel_backend", "pg_reload_conf", "pg_rotate_logfile",
    "pg_log_backend_memory_contexts", "pg_promote",
    # WAL, backups, replication
    "pg_switch_wal", "pg_create_restore_point", "pg_backup_start", "pg_backup_stop", "pg_start_backup",
    "pg_stop_backup", "pg_wal_replay_pause", "pg_wal_replay_resume", "pg_log_standby_snapshot",
    "pg_logical_emit_message", "pg_create_physical_replication_slot", "pg_create_logical_replication_slot",
    "pg_drop_replication_slot", "pg_copy_physical_replication_slot", "pg_copy_logical_replication_slot",
    "pg_replication_slot_advance", "pg_logical_slot_get_changes", "pg_logical_slot_get_binary_changes",
    "pg_sync_replication_slots", "pg_replication_origin_create", "pg_replication_origin_drop",
    "pg_replication_origin_advance", "pg_replication_origin_session_setup", "pg_replication_origin_session_reset",
    "pg_replication_origin_xact_setup", "pg_replication_origin_xact_reset",
    # sequences: nextval and setval are never rolled back
    "nextval", "setval",
    # notifications, session settings and state
    "pg_notify", "set_config", "setseed",
    # statistics resets and in-place statistics edits
    "pg_stat_statements_reset", "pg_qualstats_reset", "pg_clear_relation_stats", "pg_clear_attribute_stats",
    "pg_restore_relation_stats", "pg_restore_attribute_stats",
    # maintenance with effects of its own
    "brin_summarize_new_values", "brin_summarize_range", "brin_desummarize_range", "gin_clean_pending_list",
    "pg_import_system_collations", "pg_stop_making_pinned_objects", "pg_nextoid", "pg_extension_config_dump",
    # large objects and server files
    "lowrite", "loread", "pg_file_write", "pg_file_rename", "pg_file_unlink", "pg_file_sync",
    # SQL given as text: the gate cannot see what it runs
    "query_to_xml", "query_to_xmlschema", "query_to_xml_and_xmlschema", "cursor_to_xml", "cursor_to_xmlschema",
    "ts_stat", "ts_rewrite",
    # pg_prewarm fills shared buffers for everyone
    "pg_prewarm", "autoprewarm_start_worker", "autoprewarm_dump_now",
})

#: Name prefixes refused like :data:`DENIED`.
DENIED_PREFIXES: tuple[str, ...] = (
    "pg_advisory_", "pg_try_advisory_",  # session and transaction advisory locks
    "dblink",                              # other connections: nothing there is rolled back
    "pg_stat_reset",                       # statistics resets
    "binary_upgrade_",
    "hypopg_",                             # hypothetical indexes live in the session, not the transaction
    "lo_",                                 # large objects (lo_import and lo_export touch server files)
)

#: VOLATILE functions that only read or wait, so running them changes nothing.
ALLOWED_VOLATILE: frozenset[str] = frozenset({
    "random", "random_normal", "array_sample", "array_shuffle", "gen_random_uuid", "uuidv4", "uuidv7",
    "uuid_generate_v1", "uuid_generate_v1mc", "uuid_generate_v4",
    "clock_timestamp", "timeofday", "now", "statement_timestamp", "transaction_timestamp",
    "pg_sleep", "pg_sleep_for", "pg_sleep_until",
    "currval", "lastval", "current_query", "pg_sequence_last_value",
    "pg_relation_size", "pg_table_size", "pg_indexes_size", "pg_total_relation_size", "pg_database_size",
    "pg_tablespace_size", "pg_partition_tree", "pg_partition_ancestors",
    "pg_is_in_recovery", "pg_is_wal_replay_paused", "pg_jit_available", "pg_blocking_pids",
    "pg_safe_snapshot_blocking_pids", "pg_lock_status", "pg_notification_queue_usage", "pg_prepared_xact",
    "pg_xact_commit_timestamp", "pg_xact_commit_timestamp_origin", "pg_xact_status", "txid_status",
    "pg_collation_actual_version", "pg_database_collation_actual_version", "pg_show_all_file_settings",
    "pg_hba_file_rules", "pg_ident_file_mappings", "pg_show_replication_origin_status",
    "pg_replication_origin_progress", "pg_replication_origin_session_is_setup",
    "pg_replication_origin_session_progress", "pg_logical_slot_peek_changes",
    "pg_logical_slot_peek_binary_changes", "pg_available_wal_summaries", "pg_wal_summary_contents",
    "pg_current_logfile", "pg_stat_file", "pg_read_file", "pg_read_binary_file", "pg_stat_have_stats",
    "pg_stat_clear_snapshot", "pg_stat_statements", "pg_stat_statements_info", "pg_export_snapshot",
})

#: Name prefixes of VOLATILE functions that only read.
ALLOWED_PREFIXES: tuple[str, ...] = (
    "pg_stat_get_", "pg_get_", "pg_ls_", "pg_control_", "pg_current_wal_", "pg_last_wal_", "pg_last_xact_",
    "pg_last_committed_xact",
)


def denied(name: str) -> bool:
    """Whether ``name`` (a function's name, any schema) is on the deny-list.

    >>> denied("pg_terminate_backend"), denied("pg_advisory_xact_lock"), denied("lower")
    (True, True, False)
    """
    name = name.lower()
    return name in DENIED or name.startswith(DENIED_PREFIXES)


def allowed_volatile(name: str) -> bool:
    """Whether ``name`` is VOLATILE in PostgreSQL's eyes but harmless to run.

    >>> allowed_volatile("random"), allowed_volatile("pg_stat_get_xact_numscans"), allowed_volatile("nextval")
    (True, True, False)
    """
    name = name.lower()
    return not denied(name) and (name in ALLOWED_VOLATILE or name.startswith(ALLOWED_PREFIXES))
