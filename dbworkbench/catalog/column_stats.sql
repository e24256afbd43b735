-- column_stats: planner statistics per column (pg_stats) with the distinct count made absolute
SELECT s.schemaname AS schema,
       s.tablename AS "table",
       s.attname AS "column",
       s.null_frac,
       s.avg_width,
       s.n_distinct,
       CASE WHEN s.n_distinct >= 0 THEN s.n_distinct::float8
            ELSE -s.n_distinct * greatest(c.reltuples, 0)::float8 END AS estimated_distinct,
       s.correlation,
       CASE WHEN %(values)s THEN s.most_common_vals::text::text[] END AS most_common_vals,
       s.most_common_freqs,
       CASE WHEN %(values)s THEN s.histogram_bounds::text::text[] END AS histogram_bounds,
       s.inherited
  FROM pg_stats AS s
  JOIN pg_namespace AS n ON n.nspname = s.schemaname
  JOIN pg_class AS c ON c.relnamespace = n.oid AND c.relname = s.tablename
  JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attname = s.attname
 WHERE s.schemaname NOT IN ('pg_catalog', 'information_schema')
   AND s.schemaname NOT LIKE 'pg\_toast%%'
   AND (%(schema)s::text IS NULL OR s.schemaname = %(schema)s::text)
   AND (%(table)s::text IS NULL OR s.tablename = %(table)s::text)
 ORDER BY s.schemaname, s.tablename, s.inherited, a.attnum
