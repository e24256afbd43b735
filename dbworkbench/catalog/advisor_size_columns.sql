-- advisor_size_columns: per column of one table, its type's length and alignment, the planner's width, null fraction, distinct count and correlation, and the rows ANALYZE samples (index size estimates)
SELECT DISTINCT ON (a.attnum)
    a.attname AS column_name,
    t.typname::text AS type_name,
    t.typlen::int AS typlen,
    t.typalign AS typalign,
    s.avg_width::int AS avg_width,
    s.null_frac::float8 AS null_frac,
    s.n_distinct::float8 AS n_distinct,
    s.correlation::float8 AS correlation,
    300 * max(coalesce(nullif(a.attstattarget, -1), current_setting('default_statistics_target')::int))
        OVER () AS sample_rows,
    c.reltuples::float8 AS reltuples,
    c.relpages::bigint AS relpages,
    current_setting('block_size')::int AS block_size
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_catalog.pg_stats s
    ON s.schemaname = n.nspname AND s.tablename = c.relname AND s.attname = a.attname
WHERE n.nspname = %(schema)s AND c.relname = %(table)s AND c.relkind IN ('r', 'p', 'm')
ORDER BY a.attnum, s.inherited DESC
