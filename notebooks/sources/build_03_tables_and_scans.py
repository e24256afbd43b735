"""Build notebooks/03_tables_and_scans.ipynb (without outputs) with nbformat."""

import sys

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

md, code = new_markdown_cell, new_code_cell
cells = [
    md("""# 3 · Tables, scans and the health checklist

This page shows **how each table is read** (sequential against index scans, the cache, dead rows, which indexes are used) and then runs **the health checklist**: index hygiene, the schema audit, vacuum and bloat, numbers running out, the settings review against the handbook's `postgresql.conf`, backups and what sessions are doing right now. Every finding carries its evidence and, where there is one, the SQL that fixes it.

Run it top to bottom. Against your own server set `dsn` below: the workbench is read-only there (the checklist only reads the catalog and the statistics views), with a 30 s statement timeout on every session."""),
    code("""dsn = None               # None: the sandbox with the demo database; or "postgresql://…"
workload_seconds = 5.0   # on the sandbox: run the demo workload this long first, so the statistics have something to show
ram_gb = None            # the server machine's RAM in GB; None: read it on the server where possible""", metadata={"tags": ["parameters"]}),
    code("""import pandas as pd

import dbworkbench as wb
from dbworkbench.health import HealthThresholds, describe_checks, figures

wb.setup_notebook()  # figures drawn live and in exported HTML (offline); tables show server text as text, never as math
db = wb.connect(dsn)
db"""),
    md("""## Traffic first

The scan counters (`pg_stat_user_tables`) count what has run since the statistics were last reset. On the sandbox the demo application's workload runs for a few seconds so the pictures below have something to show; on your own server they show its real traffic."""),
    code("""if db.target.is_sandbox:
    from dbworkbench.datasets import run_workload

    summary = run_workload(db.conn, seconds=workload_seconds, seed=3, progress=False)
    print(f"{int(summary['calls'].sum())} statements of the demo workload ran")"""),
    md("""## The scan picture

One row per table: how often it was scanned sequentially (red) and through an index (blue), and how many rows each way read. The handbook's *Find table scan statistics* query, drawn. **A long red bar on the right** (many rows read by sequential scans) on a table with many rows is the classic missing index; a small table read sequentially is fine (it fits in a page or two)."""),
    code("""tables = db.tables()
tables[['table', 'n_live_tup', 'seq_scan', 'seq_tup_read', 'idx_scan', 'idx_tup_fetch', 'idx_scan_ratio',
        'cache_hit_ratio', 'total_bytes']].sort_values('seq_tup_read', ascending=False).head(15)"""),
    code("""figures.scan_picture(tables)"""),
    md("""## Cache hit ratio per table

The share of each table's block requests served from shared buffers. PgHero's line is 99 %: below it (red), reads go to the operating system's cache or the disk. On a hot table that means the working set does not fit in `shared_buffers`, or the table is read more than it needs to be (sequential scans, bloat)."""),
    code("""figures.cache_hit_by_table(tables, threshold=0.99)"""),
    md("""## Index size against scans

Each point is an index: its size and how often it has been scanned. **Big red points** (never scanned, backing no constraint) cost every INSERT, UPDATE and DELETE and serve no read: candidates to drop once the statistics cover a full business cycle. Grey points are never scanned either but enforce a primary key or uniqueness: keep them."""),
    code("""indexes = db.indexes()
figures.index_size_vs_scans(indexes)"""),
    md("""## Dead tuples

Rows deleted or updated leave dead versions behind until VACUUM removes them. Past about 20 % (autovacuum's default trigger) autovacuum should have run; a table above the line means it is turned off for the table, too slow for its update rate, or held back by a long transaction."""),
    code("""figures.dead_tuple_share(tables)"""),
    md("""## The checklist

`db.health()` runs every check and returns one row per check and object: **status** `fail` (a defect to fix), `warn` (worth a look), `pass` or `skip` (could not run here: the evidence says why), a **severity**, the **evidence** with its numbers, a **recommendation**, and **fix_sql**. Failures come first. Thresholds are parameters with documented defaults (PgHero, postgres-checkup, check_postgres, the handbook): pass any of them by name, e.g. `db.health(unused_index_max_scans=50)`."""),
    code("""report = db.health(ram_bytes=int(ram_gb * 2**30) if ram_gb else None)
report['status'].value_counts().reindex(['fail', 'warn', 'pass', 'skip'], fill_value=0)"""),
    md("""What needs attention. On the demo database the checklist finds what the handbook's own schema gets wrong: plain and UNIQUE indexes that repeat the indexes of its UNIQUE constraints (`idx_users_email`, `idx_users_username`, `idx_posts_slug`), foreign keys without a supporting index (`comments.user_id`; `comments.parent_id` is only the second column of `idx_comments_post_parent`), the `comments.updated_at` column no trigger keeps current, and whatever the server's settings and statistics show."""),
    code("""findings = report[report['status'].isin(['fail', 'warn'])]
with pd.option_context('display.max_colwidth', 400, 'display.max_rows', 200):
    display(findings[['check', 'status', 'severity', 'object', 'evidence']])"""),
    md("""## The fixes

Each fix is plain SQL, every name quoted wherever PostgreSQL needs it (odd characters, upper case, keywords). Nothing here runs it: read it, try it on a copy first, then run it yourself (`psql -f`, or your migration tool). Index changes use `CONCURRENTLY`, so reads and writes go on meanwhile (run those statements outside a transaction block). Each DROP's recommendation holds the `CREATE INDEX` that undoes it. `ALTER SYSTEM` changes take effect on reload, or, where the recommendation says so, after a restart."""),
    code("""script = [f"-- {r.check} ({r.status}): {r.object}\\n{r.fix_sql}" for r in findings.itertuples() if not pd.isna(r.fix_sql)]
print("\\n\\n".join(script))"""),
    md("""Why each one: the recommendation says what to do and what it costs."""),
    code("""with pd.option_context('display.max_colwidth', 500, 'display.max_rows', 200):
    display(findings[['check', 'object', 'recommendation']])"""),
    md("""## What passed, and what could not run

Passing rows say what was checked (`all 3 tables have a primary key`, the oldest transaction ID age, the settings that match the handbook). `skip` rows name what was missing: usually a privilege (`pg_monitor`, `pg_read_server_files` to read the machine's RAM) or an extension (`pgstattuple` measures bloat exactly where installed: on the sandbox by default, elsewhere with `db.health(exact_bloat=True)`, since it reads each flagged relation whole)."""),
    code("""with pd.option_context('display.max_colwidth', 300, 'display.max_rows', 200):
    display(report[report['status'].isin(['pass', 'skip'])][['check', 'status', 'object', 'evidence']])"""),
    md("""## The checklist itself

The checks in order, and the thresholds they use with their defaults. Each check is one function; `dbworkbench health --format markdown` prints the same report for a pull request or a ticket, and `--fail-on fail` makes it a CI gate."""),
    code("""describe_checks()"""),
    code("""pd.Series({name: getattr(HealthThresholds(), name) for name in HealthThresholds.names()}, name='default').to_frame()"""),
    md("""## What to do next

- Foreign keys without an index and duplicate indexes: the fixes above are safe to run as they are (CONCURRENTLY), after a look.
- Unused indexes: confirm the statistics cover a full cycle (and the replicas), then drop them.
- Tables read mostly by sequential scans: find their statements in `01_workload.ipynb` and read their plans in `02_plan_explorer.ipynb`; the advisor proposes indexes and costs them.
- Settings: the memory rules depend on the machine's RAM (pass `ram_gb` above when the server cannot tell); restart-only settings need a maintenance window."""),
]

nb = new_notebook(cells=cells, metadata={
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
})
nbformat.validate(nb)
nbformat.write(nb, sys.argv[1] if len(sys.argv) > 1 else "notebooks/03_tables_and_scans.ipynb")
