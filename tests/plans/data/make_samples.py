"""Regenerate the sample plans in this folder from a scratch PostgreSQL server.

Not a test: the tests read the files this wrote. Run it against a throwaway
server (it creates and fills tables in the database it connects to)::

    python tests/plans/data/make_samples.py "host=/tmp/pg port=5432 user=postgres" /tmp/pg/server.log

The second argument is the server's log file, for the auto_explain samples
(stderr logging, the default ``log_line_prefix``). Each query is explained in
TEXT, JSON, YAML and XML (``<name>.<format>``, as PostgreSQL returns them) and
logged by auto_explain in text and JSON (``<name>.log-text``, ``<name>.log-json``).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import psycopg
from psycopg.types.string import TextLoader

HERE = Path(__file__).resolve().parent

SETUP = """
DROP TABLE IF EXISTS items, orders, customers, audit CASCADE;
CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, country text NOT NULL);
CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES customers, amount numeric NOT NULL,
                     created_at timestamptz NOT NULL);
CREATE TABLE items (order_id int NOT NULL, product_id int NOT NULL, qty int NOT NULL);
CREATE TABLE audit (id bigserial PRIMARY KEY, order_id int, at timestamptz DEFAULT now());
INSERT INTO customers SELECT g, 'customer ' || g, (ARRAY['FR','DE','IT','ES','NL'])[1 + g % 5] FROM generate_series(1, 5000) g;
INSERT INTO orders SELECT g, 1 + (g::bigint * 7919) % 5000, (g % 1000) / 10.0, timestamptz '2024-01-01' + g * interval '1 minute'
  FROM generate_series(1, 300000) g;
INSERT INTO items SELECT 1 + (g::bigint * 31) % 300000, g % 500, 1 + g % 7 FROM generate_series(1, 600000) g;
CREATE INDEX ON orders (customer_id);
CREATE INDEX ON items (order_id);
CREATE OR REPLACE FUNCTION audit_order() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN INSERT INTO audit (order_id) VALUES (NEW.id); RETURN NEW; END $$;
CREATE TRIGGER orders_audit AFTER UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION audit_order();
ANALYZE;
"""

QUERIES = {
    # CTE (materialized), InitPlan, SubPlan, Hash Join, HashAggregate, top-N sort
    "serial": """
        WITH big AS MATERIALIZED (SELECT customer_id, sum(amount) AS s FROM orders GROUP BY customer_id)
        SELECT c.name, b.s,
               (SELECT count(*) FROM orders o2 WHERE o2.customer_id = c.id) AS n,
               (SELECT max(amount) FROM orders) AS top
        FROM customers c JOIN big b ON b.customer_id = c.id
        WHERE c.country = 'FR' AND b.s > (SELECT avg(amount) FROM orders WHERE id < 1000)
        ORDER BY b.s DESC LIMIT 20""",
    # Gather Merge, Partial/Finalize aggregates, Parallel Hash Join, per-worker lines
    "parallel": """
        SELECT c.country, count(*), sum(o.amount)
        FROM orders o JOIN customers c ON c.id = o.customer_id
        GROUP BY c.country ORDER BY c.country""",
    # Nested Loop with Memoize, Index Scans, Bitmap scans, Incremental Sort
    "memoize": """
        SELECT o.id, o.customer_id, i.qty
        FROM (SELECT * FROM orders WHERE id BETWEEN 1000 AND 3000 OR id BETWEEN 200000 AND 200500) o
        JOIN items i ON i.order_id = o.id
        JOIN customers c ON c.id = o.customer_id
        ORDER BY o.customer_id, i.qty LIMIT 500""",
    # UPDATE with a trigger (rolled back)
    "update": """
        UPDATE orders SET amount = amount + 1 WHERE id <= 50""",
}

OPTIONS = "ANALYZE, BUFFERS, VERBOSE, SETTINGS, WAL, SERIALIZE, MEMORY"
SESSION = [
    "SET max_parallel_workers_per_gather = 2",
    "SET parallel_setup_cost = 0",
    "SET parallel_tuple_cost = 0",
    "SET min_parallel_table_scan_size = 0",
    "SET jit = off",
]


def main(conninfo: str, log_path: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for loader in ("json", "jsonb"):
            conn.adapters.register_loader(loader, TextLoader)
        conn.execute(SETUP)
        for s in SESSION:
            conn.execute(s)
        for name, query in QUERIES.items():
            for fmt in ("text", "json", "yaml", "xml"):
                opts = OPTIONS + ("" if fmt == "text" else f", FORMAT {fmt.upper()}")
                with conn.transaction(force_rollback=True):
                    rows = conn.execute(f"EXPLAIN ({opts}) {query}").fetchall()
                body = "\n".join(r[0] for r in rows)
                (HERE / f"{name}.{fmt}").write_text(body + "\n", encoding="utf-8")
            for fmt in ("text", "json"):
                log = Path(log_path)
                start = log.stat().st_size
                conn.execute("LOAD 'auto_explain'")
                for s in (
                    "SET auto_explain.log_min_duration = 0",
                    "SET auto_explain.log_analyze = on",
                    "SET auto_explain.log_buffers = on",
                    f"SET auto_explain.log_format = {fmt}",
                ):
                    conn.execute(s)
                with conn.transaction(force_rollback=True):
                    conn.execute(query).fetchall() if query.lstrip().upper().startswith(("SELECT", "WITH")) else conn.execute(query)
                conn.execute("SET auto_explain.log_min_duration = -1")
                time.sleep(0.5)
                with log.open(encoding="utf-8") as fh:
                    fh.seek(start)
                    (HERE / f"{name}.log-{fmt}").write_text(fh.read(), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
