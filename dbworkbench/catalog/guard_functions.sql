-- guard_functions: every function (each overload, each schema) with one of the given names, and whether it is VOLATILE
SELECT n.nspname AS schema, p.proname AS name, p.provolatile = 'v' AS volatile
FROM pg_catalog.pg_proc p
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
WHERE p.proname = ANY(%(names)s::text[])
