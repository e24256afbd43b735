-- dataset_objects: what a schema holds under a dataset's table, type and function names, with each object's comment (the loader's mark)
WITH ns AS (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = %(schema)s)
SELECT CASE relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'partitioned table' WHEN 'v' THEN 'view'
         WHEN 'm' THEN 'materialized view' WHEN 'f' THEN 'foreign table' WHEN 'S' THEN 'sequence'
         WHEN 'i' THEN 'index' ELSE 'relation' END AS kind,
       relname AS name, pg_catalog.obj_description(oid, 'pg_class') AS comment
  FROM pg_catalog.pg_class WHERE relnamespace = (TABLE ns) AND relname = ANY(%(tables)s)
UNION ALL
SELECT 'type', typname, pg_catalog.obj_description(oid, 'pg_type')
  FROM pg_catalog.pg_type WHERE typnamespace = (TABLE ns) AND typname = ANY(%(types)s)
UNION ALL
SELECT 'function', proname, pg_catalog.obj_description(oid, 'pg_proc')
  FROM pg_catalog.pg_proc WHERE pronamespace = (TABLE ns) AND proname = ANY(%(functions)s) AND pronargs = 0
