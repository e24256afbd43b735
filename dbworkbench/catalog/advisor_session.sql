-- advisor_session: the session's search path, the installed extensions and the default text search configuration (one row)
SELECT current_schemas(false)::text[] AS search_path,
       ARRAY(SELECT e.extname::text FROM pg_extension AS e ORDER BY 1) AS extensions,
       current_setting('default_text_search_config') AS text_search_config
