-- report_security: roles that can log in, how many are superusers, and whether PUBLIC may create in schema public
SELECT count(*) FILTER (WHERE r.rolcanlogin)::int8 AS login_roles,
       count(*) FILTER (WHERE r.rolcanlogin AND r.rolsuper)::int8 AS login_superusers,
       coalesce((SELECT has_schema_privilege('public', n.oid, 'CREATE') FROM pg_namespace AS n WHERE n.nspname = 'public'), false)
         AS public_can_create,
       (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS current_user_is_superuser
  FROM pg_roles AS r
 WHERE r.rolname !~ '^pg_'
