-- health_archiver: the WAL archiver's counters: last success, last failure, failures since the reset
SELECT archived_count,
       last_archived_wal,
       last_archived_time,
       failed_count,
       last_failed_wal,
       last_failed_time,
       stats_reset,
       extract(epoch FROM now() - last_archived_time)::float8 AS last_archived_s
  FROM pg_stat_archiver
