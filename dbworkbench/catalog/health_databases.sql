-- health_databases: every database of the cluster with its transaction ID and multixact ages (wraparound)
SELECT d.datname AS database,
       age(d.datfrozenxid)::int8 AS xid_age,
       mxid_age(d.datminmxid)::int8 AS mxid_age,
       d.datallowconn AS allows_connections,
       d.datname = current_database() AS is_current
  FROM pg_database AS d
 ORDER BY age(d.datfrozenxid) DESC
