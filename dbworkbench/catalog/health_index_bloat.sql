-- health_index_bloat: what a statistics-based btree bloat estimate needs per index (pages, entries, fillfactor, key widths from pg_stats)
WITH st AS MATERIALIZED (
    SELECT schemaname, tablename, attname, null_frac, avg_width FROM pg_stats WHERE NOT inherited
),
atts AS (
    SELECT x.indexrelid, k,
           coalesce(ts.null_frac, xs.null_frac) AS null_frac,
           coalesce(ts.avg_width, xs.avg_width) AS avg_width
      FROM pg_index AS x
      JOIN pg_class AS i ON i.oid = x.indexrelid
      JOIN pg_class AS t ON t.oid = x.indrelid
      JOIN pg_namespace AS n ON n.oid = t.relnamespace
      JOIN pg_am AS am ON am.oid = i.relam AND am.amname = 'btree'
      CROSS JOIN LATERAL generate_series(1, x.indnatts) AS k
      LEFT JOIN pg_attribute AS ta ON ta.attrelid = x.indrelid AND ta.attnum = x.indkey[k - 1] AND x.indkey[k - 1] <> 0
      LEFT JOIN pg_attribute AS ia ON ia.attrelid = x.indexrelid AND ia.attnum = k AND x.indkey[k - 1] = 0
      LEFT JOIN st AS ts ON ts.schemaname = n.nspname AND ts.tablename = t.relname AND ts.attname = ta.attname
      LEFT JOIN st AS xs ON xs.schemaname = n.nspname AND xs.tablename = i.relname AND xs.attname = ia.attname
     WHERE t.relkind IN ('r', 'm')
       AND t.relpersistence <> 't'
       AND n.nspname NOT IN ('pg_catalog', 'information_schema')
       AND n.nspname !~ '^pg_toast'
)
SELECT i.oid::int8 AS indexrelid,
       n.nspname AS schema,
       t.relname AS "table",
       i.relname AS "index",
       i.relpages::int8 AS relpages,
       i.reltuples::float8 AS reltuples,
       current_setting('block_size')::int AS block_size,
       coalesce((SELECT substr(o, 12)::int FROM unnest(i.reloptions) AS o WHERE o LIKE 'fillfactor=%%'), 90) AS fillfactor,
       count(*)::int AS n_columns,
       count(a.avg_width)::int AS n_stats,
       coalesce(sum((1 - a.null_frac) * a.avg_width), 0)::float8 AS data_width,
       coalesce(bool_or(a.null_frac > 0), false) AS has_nulls
  FROM atts AS a
  JOIN pg_class AS i ON i.oid = a.indexrelid
  JOIN pg_index AS x ON x.indexrelid = i.oid
  JOIN pg_class AS t ON t.oid = x.indrelid
  JOIN pg_namespace AS n ON n.oid = t.relnamespace
 WHERE NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = t.oid AND d.deptype = 'e')
 GROUP BY i.oid, n.nspname, t.relname, i.relname
 ORDER BY n.nspname, t.relname, i.relname
