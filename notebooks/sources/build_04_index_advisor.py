"""Build notebooks/04_index_advisor.ipynb (without outputs) with nbformat: python notebooks/sources/build_04_index_advisor.py"""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

md, code = new_markdown_cell, new_code_cell
cells = [
    md("""# 4 · The index advisor

Which new indexes would the workload thank you for, and which existing ones only cost you writes? This page takes the statements that matter from `pg_stat_statements`, derives **candidate indexes** from them (equality, range, join, sort and grouping columns, expressions such as `lower(email)`, partial and full-text indexes), asks the planner what each statement would cost **with and without** them (HypoPG's hypothetical indexes where installed; on the sandbox, real indexes in a transaction that is rolled back), and picks the set that saves the most within a **storage budget**.

Then it shows what each chosen index buys, writes the **migration** (up and down), and, on the sandbox, **verifies** the advice by running the statements with and without the indexes.

Against your own server set `dsn`: it only reads there, and needs HypoPG (`CREATE EXTENSION hypopg`) for the what-if costs."""),
    code("""dsn = None               # None: the sandbox with the demo database; or "postgresql://…"
budget_mb = 50           # storage the new indexes may take
workload_seconds = 5.0   # on the sandbox: run the demo workload this long first if the statistics are thin""",
         metadata={"tags": ["parameters"]}),
    code("""import ipywidgets as widgets

import dbworkbench as wb

wb.setup_notebook()  # figures drawn live and in exported HTML (offline); tables show server text as text, never as math
db = wb.connect(dsn)
if db.target.is_sandbox and db.statements()['calls'].sum() < 200:
    from dbworkbench.datasets import run_workload

    run_workload(db.conn, seconds=workload_seconds, seed=4, progress=False)
db"""),
    md("""## The workload

The statements the advice works for: the slowest in total, and every statement that writes (each index makes those a little dearer). `kind` tells reads from writes; `tables` what each one touches."""),
    code("""workload = db.workload(top=20)
workload[['query', 'calls', 'total_ms', 'kind', 'tables']]"""),
    md("""## The advice

`selected` lists the chosen indexes, each with the `CREATE INDEX` that makes it, its estimated size, and `benefit_pct`: the share of the workload's estimated cost it saves given the others. `statements_helped` and `calls_helped` say how many statements (and how many of their calls) the new plans use it for."""),
    code("""# what-if costs need HypoPG on your server, or the sandbox (real indexes in a rolled-back transaction)
can_cost = db.target.is_sandbox or db.capabilities['hypopg']
if not can_cost:
    print('No HypoPG here: run CREATE EXTENSION hypopg (Debian: apt-get install postgresql-NN-hypopg) '
          'or load a copy into the sandbox; the rest of this page is skipped.')
advice = db.advise(budget_mb, workload=workload, progress=False) if can_cost else None
if advice is not None:
    print(advice)
    for message in advice.messages:
        print('note:', message)
    display(advice.selected[['index_sql', 'bytes', 'benefit_pct', 'statements_helped', 'calls_helped', 'total_ms_helped']])"""),
    md("""### Try another budget

Move the slider: the advice is worked out again for that much storage (a few seconds on the demo)."""),
    code("""def at_budget(budget):
    chosen = db.advise(budget, workload=workload, progress=False)
    print(chosen)
    display(chosen.selected[['index_sql', 'bytes', 'benefit_pct']])

if can_cost:
    widgets.interact(at_budget, budget=widgets.FloatLogSlider(value=budget_mb, base=10, min=-1, max=3, step=0.25,
                                                              description='budget MB', continuous_update=False))"""),
    md("""## Every candidate: benefit against size

Each point is a candidate, costed alone: how much of the workload's cost it would save, against the space it takes. Filled points are the chosen ones; the dotted line is the budget. A point high and to the left is a bargain; one far right and low is not worth its space."""),
    code("""advice.figure() if advice is not None else None"""),
    md("""## Per statement, before and after

The planner's estimated cost of each statement today and with the advice, and which new indexes its plan would use. `note` says why a statement could not be costed (a table that vanished, say)."""),
    code("""if advice is not None:
    display(advice.per_statement.sort_values('benefit_pct', ascending=False)[
        ['query', 'calls', 'cost_before', 'cost_after', 'benefit_pct', 'indexes_used', 'note']])"""),
    md("""## Indexes to drop

Existing indexes the workload never uses, or that duplicate another, still cost every write. They come from the health checklist (`duplicate_index`, `unused_index`), with the statement that drops each."""),
    code("""if advice is not None:
    display(advice.drops[['check', 'object', 'evidence', 'fix_sql']] if len(advice.drops) else 'no index to drop')"""),
    md("""## The migration

`advice.migration()` gives the up and down SQL; `advice.write_migration('migrations/')` writes them as numbered files (`NNN_add_advised_indexes.up.sql` and `.down.sql`), as the handbook lays migrations out. `CREATE INDEX CONCURRENTLY` doesn't block writes; run each file outside a transaction (psql does by default), and the down file removes exactly what the up file made."""),
    code("""if advice is not None and len(advice.selected):
    up_sql, down_sql = advice.migration()
    print(up_sql)
    print(down_sql)"""),
    md("""## Does it really help? Verification

An estimate is a promise, not a timing. On the sandbox, `advice.verify(db)` builds the chosen indexes for real, runs each statement they help several times **without and with** them, interleaved, and drops the indexes again. Statements with `$n` parameters run with values sampled from the columns they are compared with. A `not faster` verdict is an estimate that did not turn into speed: look at that statement's plan before trusting the index."""),
    code("""checked = advice.verify(db, runs=3, progress=False) if advice is not None and db.target.is_sandbox else None
checked"""),
    md("""## What to do next

- Apply the up migration in a quiet hour (`psql -f NNN_add_advised_indexes.up.sql`); keep the down file beside it.
- Drop the unused and duplicate indexes listed above after checking them on every replica (statistics are per server).
- From a terminal: `dbworkbench advise --budget-mb 50 --out migrations/` does the same against `--dsn` or the sandbox."""),
]
nb = new_notebook(cells=cells)
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nb.metadata["language_info"] = {"name": "python"}
nbformat.write(nb, str(Path(__file__).resolve().parents[1] / "04_index_advisor.ipynb"))
