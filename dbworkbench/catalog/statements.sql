-- statements: pg_stat_statements with derived ratios, slowest in total first
-- {view} is the schema-qualified view; {blk_read}, {blk_write}, {toplevel} differ by version.
SELECT s.queryid,
       s.query,
       s.calls,
       s.total_exec_time AS total_exec_ms,
       s.mean_exec_time AS mean_exec_ms,
       s.stddev_exec_time AS stddev_exec_ms,
       s.min_exec_time AS min_exec_ms,
       s.max_exec_time AS max_exec_ms,
       s.total_plan_time AS total_plan_ms,
       s.rows,
       s.rows::float8 / nullif(s.calls, 0) AS rows_per_call,
       s.shared_blks_hit,
       s.shared_blks_read,
       s.shared_blks_dirtied,
       s.shared_blks_written,
       s.temp_blks_read,
       s.temp_blks_written,
       {blk_read} AS blk_read_ms,
       {blk_write} AS blk_write_ms,
       s.wal_bytes::int8 AS wal_bytes,
       s.shared_blks_hit::float8 / nullif(s.shared_blks_hit + s.shared_blks_read, 0) AS cache_hit_ratio,
       s.total_exec_time / nullif(sum(s.total_exec_time) OVER (), 0) AS share_of_total_time,
       d.datname AS database,
       r.rolname AS "user",
       {toplevel} AS toplevel,
       s.local_blks_hit,
       s.local_blks_read,
       s.wal_records
  FROM {view} AS s
  LEFT JOIN pg_database AS d ON d.oid = s.dbid
  LEFT JOIN pg_roles AS r ON r.oid = s.userid
 WHERE (%(all_databases)s OR s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database()))
   -- catalog.own_marker: the workbench's catalog queries, EXPLAINs and what-if indexes
   AND (%(include_own)s OR coalesce(s.query, '') NOT LIKE '%%/* dbworkbench:%%')
 ORDER BY s.total_exec_time DESC
