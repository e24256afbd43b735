-- health_database: the current database's counters (blocks, temp files, deadlocks), when they were reset and when the server started
SELECT d.datname AS database,
       d.numbackends,
       d.blks_hit,
       d.blks_read,
       d.temp_files,
       d.temp_bytes,
       d.deadlocks,
       d.stats_reset,
       pg_postmaster_start_time() AS postmaster_start,
       (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int AS client_connections,
       current_setting('block_size')::int AS block_size
  FROM pg_stat_database AS d
 WHERE d.datname = current_database()
