"""Build notebooks/06_report.ipynb (without outputs) with nbformat: python notebooks/sources/build_06_report.py"""

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

md, code = new_markdown_cell, new_code_cell
cells = [
    md("""# 6 · The database report

One page to hand to someone else, laid out as the database engineer's handbook answers (its *Response Format*): the schema and its ER diagram, the tables, the indexes and what each is for, the migrations to create, the queries to optimise, performance recommendations as a checklist, the backup and monitoring picture, and the handbook's final checklist with each line marked from evidence.

`dbworkbench report --out report.html` runs this notebook and writes it as one HTML file that opens offline (code hidden). Against your own server (`dsn`) it only reads: catalog, statistics views, EXPLAIN without ANALYZE."""),
    code("""dsn = None              # None: the sandbox with the demo database; or "postgresql://…"
top = 10                # statements in "Query optimisation" and in the advisor's workload
budget_mb = 100.0       # storage the index advisor may spend on new indexes
analyze = False         # True: EXPLAIN ANALYZE the top statements (they run; writes are rolled back)
column_stats = False    # True: show the planner's per-column statistics with most_common_vals and histograms (real data)
workload_seconds = 3.0  # on the sandbox: run the demo workload this long first, so the statistics have something to show""",
         metadata={"tags": ["parameters"]}),
    code("""import dbworkbench as wb
from dbworkbench import report

wb.setup_notebook()  # figures drawn live and in exported HTML (offline); tables show server text as text, never as math
db = wb.connect(dsn)
if db.target.is_sandbox and workload_seconds:
    from dbworkbench.datasets import run_workload

    run_workload(db.conn, seconds=workload_seconds, seed=6, progress=False)
db"""),
    md("""## Database design

### Schema overview

Each user table with its columns, live rows, size on disk, primary key, and the tables it references and is referenced by."""),
    code("""overview = report.schema_overview(db)
print(f"{len(overview)} tables in {overview['schema'].nunique()} schema(s), "
      f"{int(overview['rows'].fillna(0).sum()):,} rows, {overview['total_bytes'].fillna(0).sum() / 2**20:,.1f} MB")
overview"""),
    md("""### ER diagram

Drawn from the catalog's foreign keys: an arrow leaves the referencing table and points to the table it references. Hover a table for its columns and primary key."""),
    code("""report.er_figure(db)"""),
    md("""### Tables

Each table's `CREATE TABLE`, rebuilt from the catalog (columns, defaults, NOT NULL, constraints)."""),
    code("""ddl = report.table_ddl(db)
report.SqlText("\\n\\n".join(ddl["ddl"]))"""),
    md("""### Indexes

The handbook's table: table, columns, type and purpose. The purpose is read from the index's constraint, the foreign key it serves and whether it has been scanned since the statistics were reset."""),
    code("""report.index_purposes(db)[['table', 'columns', 'type', 'purpose', 'idx_scan']]"""),
    md("""### Migrations to create

The index advisor (`db.advise()`) costs index candidates from the workload and picks the set that lowers its cost most within `budget_mb`. Its migration is a pair of files, `NNN_add_advised_indexes.up.sql` and `.down.sql`: write them with `advice.write_migration("migrations")` or `dbworkbench advise --out migrations`. Where it cannot cost candidates here (no HypoPG on a server other than the sandbox) it says what to install."""),
    code("""try:
    advice = db.advise(budget_mb=budget_mb, top=top, progress=False)
except wb.WorkbenchError as err:
    advice = None
    print(f"no index advice here: {err}")
if advice is not None and len(advice.selected):
    up, down = advice.migration()
    display(advice.selected[['table', 'columns', 'bytes', 'benefit_pct', 'index_sql']])
    display(report.SqlText("-- migrations/NNN_add_advised_indexes.up.sql\\n" + up + "\\n-- migrations/NNN_add_advised_indexes.down.sql\\n" + down))
elif advice is not None:
    print("The advisor finds no new index worth its space for this workload.")"""),
    md("""### Query optimisation

The statements that take the most time in all (`pg_stat_statements`; the workbench's own queries and EXPLAINs left out), each with what its plan shows (plan insights) and what its text shows (lint: anti-patterns with suggested rewrites). Take a statement with findings to the plan explorer (`02_plan_explorer.ipynb`) and the rewrite lab (`05_rewrite_lab.ipynb`)."""),
    code("""try:
    findings = report.query_findings(db, top=top, analyze=analyze)
except wb.ExtensionMissing as err:  # no pg_stat_statements on this server: the message says how to add it
    findings = None
    print(err)
findings[['rank', 'query', 'calls', 'total_exec_ms', 'share_of_total_time', 'insights', 'lint']] if findings is not None else None"""),
    md("""### Performance recommendations

The health checklist (`db.health()`, notebook `03_tables_and_scans.ipynb`): each failed or questionable check is an open box with its evidence and what to do."""),
    code("""health = db.health()
todo = health[health['status'].isin(['fail', 'warn'])].assign(
    line=lambda f: f['check'] + ' ' + f['object'].fillna(''), detail=lambda f: f['recommendation'].fillna(f['evidence']))
display(HTML(report.checklist_html(todo, text='line', mark='status', detail='detail')))
print(f"{len(todo)} open of {len(health)} checks; {int((health['status'] == 'pass').sum())} pass")"""),
    md("""### Backup strategy and monitoring

What the server's settings say about backups (WAL level, archiving, replication senders) and monitoring (slow-statement and lock-wait logging, I/O timing, pg_stat_statements, auto_explain). `missing` is a setting that leaves the matter undone; `note` is shown for the record."""),
    code("""report.backup_monitoring(db)"""),
    md("""### Column statistics

The planner's per-column statistics. `most_common_vals` and histograms hold real data, so they are left out unless `column_stats = True`."""),
    code("""db.column_stats(values=column_stats).head(40)"""),
    md("""## Final checklist

The handbook's final checklist, each line marked from the evidence above: ☑ pass, ☐ fail or warn, ? the server cannot tell (a document or intent, not a setting)."""),
    code("""checklist = report.final_checklist(db, health=health, advice=advice)
HTML(report.checklist_html(checklist))"""),
]
cells[2].source = "from IPython.display import HTML, display\n\n" + cells[2].source
nb = new_notebook(cells=cells)
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nb.metadata["language_info"] = {"name": "python"}
nbformat.write(nb, sys.argv[1] if len(sys.argv) > 1 else str(Path(__file__).resolve().parents[1] / "06_report.ipynb"))
