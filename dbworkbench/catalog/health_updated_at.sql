-- health_updated_at: tables with an updated_at-style timestamp column, whether a BEFORE UPDATE row trigger keeps it current, and the function other tables use for it
WITH cols AS (
    SELECT c.oid AS relid, n.nspname AS schema, c.relname AS "table", a.attname AS "column"
      FROM pg_attribute a
      JOIN pg_class c ON c.oid = a.attrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
       AND a.attnum > 0 AND NOT a.attisdropped
       AND a.attname = ANY (%(columns)s)
       AND a.atttypid IN ('timestamptz'::regtype, 'timestamp'::regtype)
       AND n.nspname NOT IN ('pg_catalog', 'information_schema')
       AND NOT EXISTS (SELECT 1 FROM pg_depend d
                        WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
),
triggers AS (
    -- enabled row-level BEFORE triggers that fire on UPDATE (tgtype bits: 1 row, 2 before, 16 update)
    SELECT tg.tgrelid AS relid, tg.tgfoid
      FROM pg_trigger tg
     WHERE NOT tg.tgisinternal AND tg.tgenabled <> 'D'
       AND tg.tgtype & 1 = 1 AND tg.tgtype & 2 = 2 AND tg.tgtype & 16 = 16
),
setter AS (
    SELECT t.tgfoid, count(*) AS uses
      FROM triggers t JOIN cols c ON c.relid = t.relid
     GROUP BY t.tgfoid
     ORDER BY count(*) DESC, t.tgfoid
     LIMIT 1
)
SELECT c.schema, c."table", c."column",
       EXISTS (SELECT 1 FROM triggers t WHERE t.relid = c.relid) AS has_trigger,
       fn.nspname AS function_schema,
       p.proname AS function_name,
       ARRAY(SELECT tg.tgname::text FROM pg_trigger tg WHERE tg.tgrelid = c.relid) AS trigger_names
  FROM cols c
  LEFT JOIN setter s ON true
  LEFT JOIN pg_proc p ON p.oid = s.tgfoid
  LEFT JOIN pg_namespace fn ON fn.oid = p.pronamespace
 ORDER BY c.schema, c."table", c."column"
