"""Build notebooks/05_rewrite_lab.ipynb (without outputs) with nbformat: python notebooks/sources/build_05_rewrite_lab.py"""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

md, code = new_markdown_cell, new_code_cell
cells = [
    md("""# 5 · The rewrite lab

A slow statement, a rewrite, and two questions: **is the rewrite really faster, and does it still return the same rows?** This page lints the workload's worst offenders (anti-patterns found in the SQL, sharpened by the catalog: indexes, column types, NOT NULL), opens the **QueryLab** on them, and then works one example of the handbook from BAD to GOOD: timed runs of both, interleaved, with their statistics, and a check of the complete results.

Against your own server set `dsn`: the workbench only reads there. Every run is a real execution of the statement (inside a read-only transaction), so compare statements whose running time you can afford, and keep `max_seconds` modest."""),
    code("""dsn = None               # None: the sandbox with the demo database; or "postgresql://…"
runs = 30                # timed runs of each variant in a comparison
max_seconds = 60.0       # time budget of one comparison
workload_seconds = 3.0   # on the sandbox: run the demo workload this long first if the statistics are thin""",
         metadata={"tags": ["parameters"]}),
    code("""import dbworkbench as wb
from dbworkbench.datasets import demo_is_loaded
from dbworkbench.widgets import QueryLab

%load_ext dbworkbench
wb.setup_notebook()  # figures drawn live and in exported HTML (offline); tables show server text as text, never as math
db = wb.connect(dsn)
demo = demo_is_loaded(db.conn)  # the worked example uses the demo's tables
db"""),
    md("""## The worst offenders, linted

The statements that cost the server the most time in all (`pg_stat_statements`), each with the codes lint finds in it. `select-star`, `function-on-indexed-column`, `offset-pagination`, `not-in-subquery`, … are listed with what they mean in the README; `db.lint(sql)` gives each finding's message, its position in the text, a suggestion and, where the fix is mechanical and safe, the whole rewritten statement."""),
    code("""try:
    statements = db.statements()
except wb.ExtensionMissing as err:  # no pg_stat_statements here: the message says how to add it
    print(err)
    statements = None
if statements is not None and db.target.is_sandbox and statements['calls'].sum() < 100:
    from dbworkbench.datasets import run_workload

    run_workload(db.conn, seconds=workload_seconds, seed=5, progress=False)
    statements = db.statements()
offenders = None
if statements is not None:
    offenders = statements[['query', 'calls', 'total_exec_ms', 'mean_exec_ms', 'rows_per_call']].head(10).copy()
    offenders['findings'] = [', '.join(db.lint(query)['code']) for query in offenders['query']]
offenders"""),
    md("""## The QueryLab on the worst of them

The first offender lint has something to say about. In the lab:

- **A** is the statement, with its findings below it. **Apply** puts a finding's rewrite into **B** (where lint has a mechanical one); otherwise write B yourself from the suggestion.
- **Run** explains both once with `EXPLAIN ANALYZE` (rolled back) and shows their plans and the plan diff. **Compare** times A and B interleaved after warm-ups, with a progress bar; **Stop** ends a long comparison after the run in progress.
- The verdict says whether B is faster, slower, or not detectably different at 95 % confidence; the same-results line says whether B returns exactly A's rows, and shows the first rows that differ when it does not.
- `pg_stat_statements` shows constants as `$1`, `$2`, …: the lab samples values for them from the columns they are compared with (the status line shows them, and the `$n values` field holds them: write others there as a Python list)."""),
    code("""worst = None
if offenders is not None:
    worst = next((q for q, f in zip(offenders['query'], offenders['findings']) if f), None)
lab = QueryLab(db, worst, runs=runs, max_seconds=max_seconds) if worst is not None else None
if lab is None:
    print('No offender with findings here: paste a statement into QueryLab(db, "…") yourself.')
lab"""),
    md("""## Worked example: `LOWER(email)`, from BAD to GOOD

The handbook's first pair:

```sql
-- ❌ BAD - Full table scan
SELECT * FROM users WHERE LOWER(email) = 'test@example.com';
-- ✅ GOOD - Index-friendly query
SELECT id, name, email FROM users WHERE email = 'test@example.com';
```

First, what lint makes of the BAD one. The `%%lint` cell magic (loaded above with `%load_ext dbworkbench`) lints a cell's SQL against the current database (`--db db`); `%%explain` shows a cell's plan with its insights, and `%%lab` opens the QueryLab on the cell."""),
    code("""%%lint --db db
SELECT * FROM users WHERE LOWER(email) = 'test@example.com'"""),
    md("""Two findings: `select-star` (all columns are read and sent, so no index-only scan and more bytes) and `function-on-indexed-column` (`LOWER(email)` hides the column from its index, so every lookup reads the whole table). Neither has a mechanical rewrite: which columns the application needs, and whether `email` is stored in lower case, are not in the SQL.

The GOOD form fixes both: it names its columns, and compares `email` itself. To time the second fix alone, both variants below select the GOOD's columns (the demo names `name` `full_name`). The value is an e-mail **as a person types it**: lower case. First for a user whose e-mail is stored in lower case:"""),
    code("""bad = 'SELECT id, full_name, email FROM users WHERE LOWER(email) = LOWER($1)'
good = 'SELECT id, full_name, email FROM users WHERE email = $1'
if demo:
    stored_lower = db.conn.execute(
        "SELECT email FROM users WHERE email = lower(email) ORDER BY id LIMIT 1").fetchone()[0]
    example = QueryLab(db, bad, good, params=[stored_lower], runs=runs, max_seconds=max_seconds)
    comparison = example.compare()
    display(example)  # the lab as it stands after the comparison: try other rewrites in B
    print(comparison.verdict_text)
    display(comparison.summary)
else:
    print("The worked example uses the demo's users table, which this database does not have.")"""),
    md("""`summary` has one row per variant: the median, 95th percentile, interquartile range and mean (with its confidence interval) of the timed runs, and on B's row the **ratio of medians B/A** with its bootstrap interval and the rank test's p-value. The GOOD form reads one index entry instead of every row, and returns the same row: for this user the rewrite holds.

The figure shows every run of each variant; overlapping boxes would mean no real difference."""),
    code("""comparison.figure() if demo else None"""),
    md("""Now the same rewrite for a user who signed up as `John.Smith42@Example.com` (about a quarter of the demo's users did: their e-mail is stored as typed) and logs in typing it in lower case:"""),
    code("""if demo:
    stored_mixed = db.conn.execute(
        "SELECT email FROM users WHERE email <> lower(email) ORDER BY id LIMIT 1").fetchone()[0]
    example.lab.params = [stored_mixed.lower()]
    wrong = example.compare()
    print(wrong.verdict_text)
    display(wrong.same_results.first_differences)"""),
    md("""Faster, and **wrong**: the GOOD form finds nobody, so the verdict is `different results`, whatever the timing says. The handbook's GOOD holds only where e-mails are stored in one case. Two ways to get its speed without losing users:

- store e-mails in lower case (normalise on write, and `ALTER TABLE users ADD CHECK (email = lower(email))` once the data is clean); then the GOOD form is right, and the lab above shows what it gains;
- or keep `LOWER(email) = LOWER($1)` and give it the expression index lint suggests (`CREATE INDEX … ON users (lower(email))`): the index advisor (`04_index_advisor.ipynb`) costs it against the whole workload, and `db.advise(...).verify(db)` times it on the sandbox.

`history` lists every variant tried in this lab, with its median, its ratio to A, the verdict and the same-results check:"""),
    code("""example.history[['variant', 'params', 'action', 'runs', 'median_ms', 'baseline_ms', 'ratio', 'verdict', 'same_results', 'stopped']] if demo else None"""),
    md("""## What to do next

- Work down the offenders: open `QueryLab(db, sql)` (or a `%%lab --db db` cell) on each, apply or write a rewrite, and keep only those that are faster **and** return the same rows.
- `db.compare(a, b, params=[…])` gives the same comparison without the widget, and `db.same_results(a, b)` the results check alone (streamed: results of millions of rows don't fill memory).
- From a terminal: `dbworkbench lint query.sql` lists the findings, and `dbworkbench compare a.sql b.sql` times a pair."""),
]
nb = new_notebook(cells=cells)
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nb.metadata["language_info"] = {"name": "python"}
nbformat.write(nb, str(Path(__file__).resolve().parents[1] / "05_rewrite_lab.ipynb"))
