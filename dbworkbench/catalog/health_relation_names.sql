-- health_relation_names: every relation name in one schema (tables, indexes, sequences, views, composite types), for picking a free index name
SELECT c.relname AS name
  FROM pg_class AS c
  JOIN pg_namespace AS n ON n.oid = c.relnamespace
 WHERE n.nspname = %(schema)s
