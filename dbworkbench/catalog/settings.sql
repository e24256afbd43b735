-- settings: every server setting with its source and whether a restart is pending
SELECT name, setting, unit, category, source, pending_restart, short_desc,
       vartype, context, boot_val, reset_val, sourcefile
  FROM pg_settings
 ORDER BY name
