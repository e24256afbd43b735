-- health_table_bloat: what a statistics-based heap bloat estimate needs per table (pages, rows, fillfactor, column widths from pg_stats)
WITH st AS MATERIALIZED (
    SELECT schemaname, tablename, attname, null_frac, avg_width FROM pg_stats WHERE NOT inherited
)
SELECT c.oid::int8 AS relid,
       n.nspname AS schema,
       c.relname AS "table",
       c.relpages::int8 AS relpages,
       c.reltuples::float8 AS reltuples,
       current_setting('block_size')::int AS block_size,
       coalesce((SELECT substr(o, 12)::int FROM unnest(c.reloptions) AS o WHERE o LIKE 'fillfactor=%%'), 100) AS fillfactor,
       count(*)::int AS n_columns,
       count(st.attname)::int AS n_stats,
       coalesce(sum((1 - st.null_frac) * st.avg_width), 0)::float8 AS data_width,
       coalesce(bool_or(st.null_frac > 0), false) AS has_nulls
  FROM pg_class AS c
  JOIN pg_namespace AS n ON n.oid = c.relnamespace
  JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  LEFT JOIN st ON st.schemaname = n.nspname AND st.tablename = c.relname AND st.attname = a.attname
 WHERE c.relkind IN ('r', 'm')
   AND c.relpersistence <> 't'
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname !~ '^pg_toast'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
 GROUP BY c.oid, n.nspname, c.relname
 ORDER BY n.nspname, c.relname
