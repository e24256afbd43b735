-- health_integer_keys: smallint and integer columns of primary keys with the largest value the planner statistics have seen
WITH refs AS MATERIALIZED (
    -- integer columns of foreign keys, by the referenced table and column
    SELECT f.confrelid, f.confkey[u.ord] AS ref_attnum,
           array_agg(format('%%I.%%I(%%I)', fn.nspname, ft.relname, fa.attname) ORDER BY 1) AS columns
      FROM pg_constraint f
      CROSS JOIN LATERAL unnest(f.conkey) WITH ORDINALITY AS u(attnum, ord)
      JOIN pg_class ft ON ft.oid = f.conrelid
      JOIN pg_namespace fn ON fn.oid = ft.relnamespace
      JOIN pg_attribute fa ON fa.attrelid = f.conrelid AND fa.attnum = u.attnum
     WHERE f.contype = 'f' AND f.conparentid = 0
       AND fa.atttypid IN ('int2'::regtype, 'int4'::regtype)
     GROUP BY 1, 2
)
SELECT n.nspname AS schema,
       t.relname AS "table",
       t.oid::int8 AS relid,
       k.conname AS "constraint",
       a.attname AS "column",
       format_type(a.atttypid, a.atttypmod) AS column_type,
       CASE a.atttypid WHEN 'int2'::regtype THEN 32767 ELSE 2147483647 END::int8 AS type_max,
       greatest(
           (SELECT max(v) FROM unnest(s.histogram_bounds::text::int8[]) AS v),
           (SELECT max(v) FROM unnest(s.most_common_vals::text::int8[]) AS v)
       ) AS max_seen,
       least(
           (SELECT min(v) FROM unnest(s.histogram_bounds::text::int8[]) AS v),
           (SELECT min(v) FROM unnest(s.most_common_vals::text::int8[]) AS v)
       ) AS min_seen,
       s.attname IS NOT NULL AS has_stats,
       coalesce(r.columns, '{}') AS referencing_columns
  FROM pg_constraint AS k
  JOIN pg_class AS t ON t.oid = k.conrelid
  JOIN pg_namespace AS n ON n.oid = t.relnamespace
  JOIN pg_attribute AS a ON a.attrelid = t.oid AND a.attnum = ANY (k.conkey)
  LEFT JOIN refs AS r ON r.confrelid = t.oid AND r.ref_attnum = a.attnum
  LEFT JOIN pg_stats AS s ON s.schemaname = n.nspname AND s.tablename = t.relname
                         AND s.attname = a.attname AND s.inherited = (t.relkind = 'p')
 WHERE k.contype = 'p'
   AND a.atttypid IN ('int2'::regtype, 'int4'::regtype)
   AND NOT t.relispartition
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = t.oid AND d.deptype = 'e')
 ORDER BY n.nspname, t.relname, a.attname
