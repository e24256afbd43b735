-- health_foreign_keys: every foreign key of a user table with its columns, referenced table and ON DELETE/UPDATE actions
SELECT f.oid::int8 AS oid,
       f.conname AS "constraint",
       n.nspname AS schema,
       t.relname AS "table",
       t.oid::int8 AS relid,
       t.relkind::text AS relkind,
       f.conkey::int2[]::text AS conkey,
       ARRAY(SELECT a.attname::text FROM unnest(f.conkey) WITH ORDINALITY AS u(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = f.conrelid AND a.attnum = u.attnum ORDER BY u.ord) AS columns,
       f.confrelid::int8 AS ref_relid,
       rn.nspname AS ref_schema,
       r.relname AS ref_table,
       ARRAY(SELECT a.attname::text FROM unnest(f.confkey) WITH ORDINALITY AS u(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = f.confrelid AND a.attnum = u.attnum ORDER BY u.ord) AS ref_columns,
       (SELECT bool_and(a.attnotnull) FROM pg_attribute a
         WHERE a.attrelid = f.conrelid AND a.attnum = ANY (f.conkey)) AS columns_not_null,
       ARRAY(SELECT a.attname::text FROM pg_attribute a
              WHERE a.attrelid = f.conrelid AND a.attnum = ANY (f.conkey) AND a.atthasdef ORDER BY a.attnum) AS columns_with_default,
       f.confdeltype::text AS on_delete,
       f.confupdtype::text AS on_update,
       f.convalidated AS is_validated,
       t.reltuples::float8 AS reltuples,
       pg_get_constraintdef(f.oid, true) AS definition
  FROM pg_constraint AS f
  JOIN pg_class AS t ON t.oid = f.conrelid
  JOIN pg_namespace AS n ON n.oid = t.relnamespace
  JOIN pg_class AS r ON r.oid = f.confrelid
  JOIN pg_namespace AS rn ON rn.oid = r.relnamespace
 WHERE f.contype = 'f'
   AND f.conparentid = 0
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = t.oid AND d.deptype = 'e')
 ORDER BY n.nspname, t.relname, f.conname
