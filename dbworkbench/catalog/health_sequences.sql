-- health_sequences: every sequence with its last value, limits and the column it feeds (owned, identity or DEFAULT nextval)
WITH feeds AS (
    -- owned by a column (serial) or backing an identity column
    SELECT d.objid AS seqid, d.refobjid AS relid, d.refobjsubid AS attnum
      FROM pg_depend d
     WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
       AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0
    UNION
    -- named in a column DEFAULT (nextval('...'))
    SELECT d.refobjid, ad.adrelid, ad.adnum
      FROM pg_depend d
      JOIN pg_attrdef ad ON ad.oid = d.objid
     WHERE d.classid = 'pg_attrdef'::regclass AND d.refclassid = 'pg_class'::regclass
)
SELECT c.oid::int8 AS seqid,
       n.nspname AS schema,
       c.relname AS sequence,
       format_type(s.seqtypid, NULL) AS data_type,
       s.seqmin AS min_value,
       s.seqmax AS max_value,
       s.seqincrement AS increment_by,
       s.seqcycle AS cycle,
       ps.last_value,
       has_sequence_privilege(c.oid, 'SELECT,USAGE') AS can_read,
       tn.nspname AS table_schema,
       t.relname AS "table",
       a.attname AS "column",
       format_type(a.atttypid, a.atttypmod) AS column_type
  FROM pg_sequence AS s
  JOIN pg_class AS c ON c.oid = s.seqrelid
  JOIN pg_namespace AS n ON n.oid = c.relnamespace
  LEFT JOIN pg_sequences AS ps ON ps.schemaname = n.nspname AND ps.sequencename = c.relname
  LEFT JOIN feeds AS f ON f.seqid = c.oid
  LEFT JOIN pg_class AS t ON t.oid = f.relid
  LEFT JOIN pg_namespace AS tn ON tn.oid = t.relnamespace
  LEFT JOIN pg_attribute AS a ON a.attrelid = f.relid AND a.attnum = f.attnum
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND c.relpersistence <> 't'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
 ORDER BY n.nspname, c.relname, tn.nspname, t.relname, a.attname
