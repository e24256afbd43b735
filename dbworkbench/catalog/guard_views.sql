-- guard_views: the definition of each named relation that is a view (names resolved by the search_path)
SELECT c.oid::regclass::text AS name, pg_catalog.pg_get_viewdef(c.oid) AS definition
FROM unnest(%(schemas)s::text[], %(names)s::text[]) AS r(schema, name)
JOIN pg_catalog.pg_class c
  ON c.oid = pg_catalog.to_regclass(coalesce(quote_ident(r.schema) || '.', '') || quote_ident(r.name))
WHERE c.relkind = 'v'
