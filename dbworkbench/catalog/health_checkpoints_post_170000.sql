-- health_checkpoints: checkpoints started by schedule (checkpoint_timeout) and by request (WAL volume, max_wal_size) since the reset
SELECT num_timed::int8 AS timed,
       num_requested::int8 AS requested,
       stats_reset
  FROM pg_stat_checkpointer
