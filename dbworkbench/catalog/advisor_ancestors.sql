-- advisor_ancestors: the tables the given relations inherit from or are partitions of, at every level (what-if relevance)
WITH RECURSIVE given AS (
    SELECT c.oid
    FROM unnest(%(schemas)s::text[], %(relations)s::text[]) AS g(schema_name, relation_name)
    JOIN pg_catalog.pg_namespace n ON n.nspname = g.schema_name
    JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = g.relation_name
), up AS (
    SELECT i.inhparent AS oid FROM pg_catalog.pg_inherits i JOIN given ON i.inhrelid = given.oid
    UNION
    SELECT i.inhparent FROM pg_catalog.pg_inherits i JOIN up ON i.inhrelid = up.oid
)
SELECT n.nspname AS schema, c.relname AS relation
FROM up
JOIN pg_catalog.pg_class c ON c.oid = up.oid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
