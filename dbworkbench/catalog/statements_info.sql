-- statements_info: when pg_stat_statements was last reset (PostgreSQL 14+)
SELECT stats_reset, dealloc FROM {view}
