-- lock_holders: other sessions holding an ACCESS EXCLUSIVE lock on a relation of this database (the only mode a read waits for)
SELECT coalesce(l.relation::regclass::text, l.relation::text) AS relation,
       l.pid,
       a.application_name,
       a.state,
       extract(epoch FROM now() - a.xact_start)::float8 AS xact_s
  FROM pg_locks AS l
  LEFT JOIN pg_stat_activity AS a ON a.pid = l.pid
 WHERE l.locktype = 'relation'
   AND l.granted
   AND l.mode = 'AccessExclusiveLock'
   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
   AND l.pid IS DISTINCT FROM pg_backend_pid()
 ORDER BY a.xact_start NULLS LAST, l.pid
 LIMIT 3
