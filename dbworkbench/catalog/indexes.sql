-- indexes: every user index with its definition, key columns, flags, backing constraint, scans and size
SELECT s.schemaname AS schema,
       s.relname AS "table",
       s.indexrelname AS "index",
       pg_get_indexdef(x.indexrelid) AS definition,
       ARRAY(SELECT pg_get_indexdef(x.indexrelid, k, true)
               FROM generate_series(1, x.indnkeyatts) AS k ORDER BY k) AS columns,
       x.indisunique AS is_unique,
       x.indisprimary AS is_primary,
       x.indisvalid AS is_valid,
       x.indpred IS NOT NULL AS is_partial,
       c.conname AS "constraint",
       s.idx_scan,
       s.idx_tup_read,
       s.idx_tup_fetch,
       pg_relation_size(x.indexrelid) AS bytes,
       am.amname AS method,
       ARRAY(SELECT pg_get_indexdef(x.indexrelid, k, true)
               FROM generate_series(x.indnkeyatts + 1, x.indnatts) AS k ORDER BY k) AS include_columns,
       pg_get_expr(x.indpred, x.indrelid) AS predicate,
       io.idx_blks_hit,
       io.idx_blks_read,
       x.indexrelid::int8 AS indexrelid,
       x.indrelid::int8 AS relid
  FROM pg_stat_user_indexes AS s
  JOIN pg_index AS x ON x.indexrelid = s.indexrelid
  JOIN pg_class AS i ON i.oid = x.indexrelid
  JOIN pg_am AS am ON am.oid = i.relam
  JOIN pg_statio_user_indexes AS io ON io.indexrelid = s.indexrelid
  LEFT JOIN pg_constraint AS c ON c.conindid = x.indexrelid AND c.conrelid = x.indrelid AND c.contype IN ('p', 'u', 'x')
 ORDER BY s.schemaname, s.relname, s.indexrelname
