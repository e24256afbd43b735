-- report_constraints: every constraint of every user table (primary key, unique, foreign key, check, exclusion) with its definition
SELECT n.nspname AS schema,
       c.relname AS "table",
       k.conname AS "constraint",
       k.contype::text AS kind,
       pg_get_constraintdef(k.oid, true) AS definition,
       rn.nspname AS ref_schema,
       r.relname AS ref_table,
       c.oid::int8 AS relid
  FROM pg_constraint AS k
  JOIN pg_class AS c ON c.oid = k.conrelid
  JOIN pg_namespace AS n ON n.oid = c.relnamespace
  LEFT JOIN pg_class AS r ON r.oid = k.confrelid AND k.contype = 'f'
  LEFT JOIN pg_namespace AS rn ON rn.oid = r.relnamespace
 WHERE c.relkind IN ('r', 'p')
   AND NOT c.relispartition
   AND k.conparentid = 0
   AND k.contype <> 'n'  -- NOT NULL (PostgreSQL 18 catalogs it as a constraint): shown on its column
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg\_%%'
   AND NOT EXISTS (SELECT 1 FROM pg_depend AS e
                    WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e')
 ORDER BY n.nspname, c.relname, k.contype DESC, k.conname
