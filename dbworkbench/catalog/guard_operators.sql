-- guard_operators: user-defined operators with one of the given names whose function is VOLATILE
SELECT n.nspname AS schema, o.oprname AS name, f.nspname || '.' || p.proname AS function
FROM pg_catalog.pg_operator o
JOIN pg_catalog.pg_namespace n ON n.oid = o.oprnamespace
JOIN pg_catalog.pg_proc p ON p.oid = o.oprcode
JOIN pg_catalog.pg_namespace f ON f.oid = p.pronamespace
WHERE o.oprname = ANY(%(names)s::text[]) AND n.nspname <> 'pg_catalog' AND p.provolatile = 'v'
