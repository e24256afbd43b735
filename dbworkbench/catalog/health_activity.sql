-- health_activity: every other session now: state, durations, what it waits for and which sessions block it
SELECT a.pid,
       a.datname AS database,
       a.usename AS "user",
       a.application_name,
       a.client_addr::text AS client_addr,
       a.backend_type,
       a.state,
       a.wait_event_type,
       a.wait_event,
       extract(epoch FROM now() - a.backend_start)::float8 AS backend_s,
       extract(epoch FROM now() - a.xact_start)::float8 AS xact_s,
       extract(epoch FROM now() - a.query_start)::float8 AS query_s,
       extract(epoch FROM now() - a.state_change)::float8 AS state_s,
       CASE WHEN a.wait_event_type = 'Lock' THEN pg_blocking_pids(a.pid) ELSE '{}'::int[] END AS blocked_by,
       left(a.query, %(query_chars)s) AS query,
       a.query IS NOT NULL AND a.query <> '<insufficient privilege>' AS query_visible
  FROM pg_stat_activity AS a
 WHERE a.pid <> pg_backend_pid()
 ORDER BY a.pid
