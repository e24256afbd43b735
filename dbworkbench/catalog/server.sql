-- server: version, identity and capabilities of the connected server (one row)
SELECT current_setting('server_version_num')::int AS version_num,
       current_setting('server_version') AS version,
       current_database() AS database,
       current_user AS "user",
       (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS is_superuser,
       pg_has_role(current_user, 'pg_read_all_stats', 'MEMBER') AS reads_all_stats,
       pg_is_in_recovery() AS in_recovery,
       coalesce((SELECT setting FROM pg_settings WHERE name = 'shared_preload_libraries'), '') AS preload_libraries,
       current_setting('default_transaction_read_only')::bool AS read_only,
       (SELECT coalesce(jsonb_object_agg(e.extname, jsonb_build_object('version', e.extversion, 'schema', n.nspname)), '{}')
          FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace) AS installed_extensions,
       (SELECT coalesce(array_agg(name ORDER BY name), '{}') FROM pg_available_extensions) AS available_extensions
