-- health_indexes: every index on a user table: keys, options, backing constraint, validity, scans, size
WITH fk_refs AS MATERIALIZED (
    SELECT f.conindid, array_agg(f.conname::text ORDER BY f.conname) AS names
      FROM pg_constraint f
     WHERE f.contype = 'f'
     GROUP BY f.conindid
),
building AS MATERIALIZED (
    SELECT DISTINCT index_relid FROM pg_stat_progress_create_index
)
SELECT x.indexrelid::int8 AS indexrelid,
       x.indrelid::int8 AS relid,
       n.nspname AS schema,
       t.relname AS "table",
       t.relkind::text AS table_relkind,
       i.relname AS "index",
       am.amname AS method,
       pg_get_indexdef(x.indexrelid) AS definition,
       x.indnkeyatts::int AS n_key_columns,
       x.indkey::text AS indkey,
       x.indclass::text AS indclass,
       x.indcollation::text AS indcollation,
       x.indoption::text AS indoption,
       ARRAY(SELECT pg_get_indexdef(x.indexrelid, k, true)
               FROM generate_series(1, x.indnatts) AS k ORDER BY k) AS columns,
       pg_get_expr(x.indpred, x.indrelid, true) AS predicate,
       x.indisunique AS is_unique,
       x.indisprimary AS is_primary,
       x.indisexclusion AS is_exclusion,
       x.indisvalid AS is_valid,
       x.indisready AS is_ready,
       x.indimmediate AS is_immediate,
       0 <> ALL (x.indkey::int2[])
         AND (SELECT bool_and(a.attnotnull) FROM pg_attribute a
               WHERE a.attrelid = x.indrelid AND a.attnum = ANY (x.indkey::int2[])) AS keys_not_null,
       k.conname AS "constraint",
       k.contype::text AS constraint_type,
       coalesce(r.names, '{}') AS referenced_by,
       s.idx_scan,
       s.idx_tup_read,
       pg_relation_size(x.indexrelid) AS bytes,
       i.reltuples::float8 AS reltuples,
       i.relpages::int8 AS relpages,
       coalesce(i.reloptions, '{}') AS reloptions,
       b.index_relid IS NOT NULL AS being_built
  FROM pg_index AS x
  JOIN pg_class AS i ON i.oid = x.indexrelid
  JOIN pg_class AS t ON t.oid = x.indrelid
  JOIN pg_namespace AS n ON n.oid = t.relnamespace
  JOIN pg_am AS am ON am.oid = i.relam
  LEFT JOIN pg_stat_all_indexes AS s ON s.indexrelid = x.indexrelid
  LEFT JOIN pg_constraint AS k
         ON k.conindid = x.indexrelid AND k.conrelid = x.indrelid AND k.contype IN ('p', 'u', 'x')
  LEFT JOIN fk_refs AS r ON r.conindid = x.indexrelid
  LEFT JOIN building AS b ON b.index_relid = x.indexrelid
 WHERE t.relkind IN ('r', 'p', 'm')
   AND t.relpersistence <> 't'
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname !~ '^pg_toast'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = t.oid AND d.deptype = 'e')
 ORDER BY n.nspname, t.relname, i.relname
