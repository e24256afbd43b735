-- health_tables: every user table with its size, options, wraparound age, scan, tuple and cache statistics
SELECT c.oid::int8 AS relid,
       n.nspname AS schema,
       c.relname AS "table",
       c.relkind::text AS relkind,
       c.relispartition AS is_partition,
       c.reltuples::float8 AS reltuples,
       c.relpages::int8 AS relpages,
       CASE WHEN c.relkind <> 'p' THEN pg_table_size(c.oid) END AS table_bytes,
       CASE WHEN c.relkind <> 'p' THEN pg_total_relation_size(c.oid) END AS total_bytes,
       EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'p') AS has_pk,
       coalesce(c.reloptions, '{}') AS reloptions,
       coalesce(t.reloptions, '{}') AS toast_reloptions,
       CASE WHEN c.relkind IN ('r', 'm') THEN greatest(age(c.relfrozenxid), age(t.relfrozenxid)) END AS xid_age,
       CASE WHEN c.relkind IN ('r', 'm') THEN greatest(mxid_age(c.relminmxid), mxid_age(t.relminmxid)) END AS mxid_age,
       has_table_privilege(c.oid, 'SELECT') AS can_select,
       (SELECT count(*) FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)::int AS n_columns,
       coalesce(st.n_stats_columns, 0) AS n_stats_columns,
       coalesce(st.n_inherited_stats_columns, 0) AS n_inherited_stats_columns,
       s.seq_scan,
       s.seq_tup_read,
       s.idx_scan,
       s.idx_tup_fetch,
       s.n_live_tup,
       s.n_dead_tup,
       s.n_mod_since_analyze,
       s.n_tup_ins,
       s.n_tup_upd,
       s.n_tup_del,
       s.last_vacuum,
       s.last_autovacuum,
       s.last_analyze,
       s.last_autoanalyze,
       io.heap_blks_hit,
       io.heap_blks_read,
       io.idx_blks_hit,
       io.idx_blks_read,
       EXISTS (SELECT 1 FROM pg_index x WHERE x.indrelid = c.oid) AS has_indexes
  FROM pg_class AS c
  JOIN pg_namespace AS n ON n.oid = c.relnamespace
  LEFT JOIN pg_class AS t ON t.oid = c.reltoastrelid
  LEFT JOIN pg_stat_all_tables AS s ON s.relid = c.oid
  LEFT JOIN pg_statio_all_tables AS io ON io.relid = c.oid
  LEFT JOIN (SELECT schemaname, tablename,
                    (count(*) FILTER (WHERE NOT inherited))::int AS n_stats_columns,
                    (count(*) FILTER (WHERE inherited))::int AS n_inherited_stats_columns
               FROM pg_stats GROUP BY 1, 2) AS st
         ON st.schemaname = n.nspname AND st.tablename = c.relname
 WHERE c.relkind IN ('r', 'p', 'm')
   AND c.relpersistence <> 't'
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname !~ '^pg_toast'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
 ORDER BY n.nspname, c.relname
