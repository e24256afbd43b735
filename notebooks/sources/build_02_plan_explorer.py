"""Build notebooks/02_plan_explorer.ipynb (without outputs) with nbformat: python notebooks/sources/build_02_plan_explorer.py"""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

md, code = new_markdown_cell, new_code_cell
cells = [
    md("""# 2 · The plan explorer

This page reads **one plan** closely: the tree with each node's cost in time, rows and buffers, where the time goes, what the planner misjudged, the findings of the insight rules, and then **a rewrite compared node by node** with the plan it replaces.

It starts from the statement that costs the server the most time in all (from `pg_stat_statements`, see `01_workload.ipynb`). To read a plan you already have instead, paste it into `plan_text` below: any format PostgreSQL or `auto_explain` prints (TEXT as psql shows it, with or without its frame, JSON, YAML, XML). That needs no database at all; the sections that run statements are then skipped.

Against your own server set `dsn`: the workbench is read-only there. `EXPLAIN ANALYZE` runs the statement, inside a transaction that is always rolled back, so give it statements whose running time you can afford."""),
    code("""dsn = None               # None: the sandbox with the demo database; or "postgresql://…"
plan_text = None         # a pasted plan (EXPLAIN output, any format) to read offline instead
sql = None               # a statement with real values to EXPLAIN ANALYZE; None: pick one below
workload_seconds = 3.0   # on the sandbox: run the demo workload this long first if the statistics are empty
auto_explain_log = None  # a server log with auto_explain entries; None: the demo workload's sample log""",
         metadata={"tags": ["parameters"]}),
    code("""import pandas as pd
import psycopg

import dbworkbench as wb
from dbworkbench.datasets import demo_is_loaded
from dbworkbench.plans import parse_plan
from dbworkbench.plans.diff import diff_plans
from dbworkbench.plans.figure import plan_figure, plan_flame

wb.setup_notebook()  # figures drawn live and in exported HTML (offline); tables show server text as text, never as math
db = None if plan_text is not None else wb.connect(dsn)
demo = db is not None and demo_is_loaded(db.conn)  # the last two sections use the demo's tables
db"""),
    md("""## Which statement

The statements that read, slowest in total first. As `pg_stat_statements` keeps them, their constants are `$1`, `$2`, …: explaining such text gives the planner's **generic plan**, its estimate for any values, without running it. The first one that can be explained is taken; the others are listed with the reason."""),
    code("""top_plan = top_query = None
if db is not None:
    statements = db.statements()
    if db.target.is_sandbox and statements['calls'].sum() < 100:
        from dbworkbench.datasets import run_workload

        run_workload(db.conn, seconds=workload_seconds, seed=2, progress=False)
        statements = db.statements()
    reads = statements[statements['query'].str.match(r'(?is)^\\s*(select|with)\\b')]
    for query in reads['query'].head(10):
        try:
            top_plan, top_query = db.explain(query), query
            break
        except (wb.WorkbenchError, psycopg.Error) as err:
            print(f'skipped ({err}): {query[:80]!r}')
    display(reads[['query', 'calls', 'total_exec_ms', 'mean_exec_ms', 'rows_per_call']].head(5))
    print(top_query)
top_plan"""),
    md("""## The plan to read

A generic plan has estimates only. To measure, the statement must run with real values: set `sql` above to your statement with its constants written in. Left empty, on the sandbox the page takes the demo's slowest read with real search words, the full-text search on posts (the handbook's, but its GIN index was never created). On another server it stays with the generic plan, and every picture below falls back to the planner's cost."""),
    code("""if plan_text is not None:
    plan = parse_plan(plan_text)
elif sql is not None:
    plan = db.explain(sql)
elif top_plan is not None and top_plan.execution_ms is not None:
    plan = top_plan  # the top statement had no parameters: it ran as it is
elif db.target.is_sandbox:
    plan = db.explain(\"\"\"SELECT id, title, slug, published_at
FROM posts
WHERE to_tsvector('english', content) @@ plainto_tsquery('english', 'sequential request')
ORDER BY published_at DESC
LIMIT 20\"\"\")
else:
    plan = top_plan
plan"""),
    md("""## The tree

The plan as PostgreSQL builds it: the root on the left, each node's inputs to its right, read from the leaves (where rows come from) to the root (what the client gets). The text form first, one line per node with rows actual against planned, time with and without the node's children, and loops:"""),
    code("""print(plan.text())"""),
    md("""The same tree as a picture. **Box colour and size: the time spent in the node itself** (exclusive time; a node's own work, its children's time taken out). The big red boxes are where to look. A framed box has findings of the insight rules (blue info, orange warning, red critical). Hover a box for its rows planned and actual, loops, times, cost, buffers and conditions. `plan_figure(plan, metric)` draws any other measure: `inclusive_ms`, `actual_rows`, `misestimate`, `buffers`, `shared_read`, `total_cost`, …"""),
    code("""plan_figure(plan)"""),
    md("""## Where the time goes

An icicle: the root on top as wide as the whole run, and each node's box as wide as the time it and its inputs took, so the widest boxes at the bottom are the expensive work. Click a box to zoom into its subtree, click the top bar to go back."""),
    code("""plan_flame(plan)"""),
    md("""## Where the planner misjudged

Colour and size: how many times the row estimate was off (actual against planned rows, either way). A node off by 10× or more near the leaves misleads every choice above it (join methods, memory for hashes and sorts). The usual fixes: `ANALYZE` the table, raise the column's statistics target, or extended statistics (`CREATE STATISTICS`) for correlated columns."""),
    code("""plan_figure(plan, 'misestimate')"""),
    md("""## What the insight rules found

One row per finding: the rule, the node it concerns (`node_id`, as in the pictures; empty for the plan as a whole), its severity and what to do. An empty table means no rule fired."""),
    code("""with pd.option_context('display.max_colwidth', 300):
    display(plan.insights())"""),
    md("""## The node table

`plan.nodes` is an ordinary DataFrame with one row per node (its columns are documented in `help(plan)`). The busiest nodes first, with the columns that usually tell the story: the node's own time and share, rows per loop actual against planned, loops, rows thrown away by a filter, and blocks read from cache (`shared_hit`) or from disk (`shared_read`)."""),
    code("""key = ['node_id', 'parent_id', 'node_type', 'relation', 'index_name', 'actual_rows', 'plan_rows', 'actual_loops',
       'exclusive_ms', 'exclusive_pct', 'misestimate', 'rows_removed_by_filter', 'shared_hit', 'shared_read', 'filter']
by = 'exclusive_ms' if plan.nodes['exclusive_ms'].notna().any() else 'total_cost'
plan.nodes.sort_values(by, ascending=False)[key].head(15)"""),
    md("""## A rewrite, compared

The demo's *new users without posts* uses `NOT IN (subquery)`, which PostgreSQL plans as a SubPlan run against every user row (and which returns nothing at all if the subquery ever yields a NULL). `NOT EXISTS` says the same thing (without the NULL trap) and lets the planner use an **anti-join**. Both forms run here; `diff_plans` matches the nodes of the two plans and says what changed."""),
    code("""not_in = \"\"\"SELECT u.id, u.username, u.created_at FROM users u
WHERE u.created_at > now() - interval '30 days'
  AND u.id NOT IN (SELECT p.user_id FROM posts p WHERE p.created_at > now() - interval '30 days')
ORDER BY u.created_at DESC LIMIT 50\"\"\"
not_exists = \"\"\"SELECT u.id, u.username, u.created_at FROM users u
WHERE u.created_at > now() - interval '30 days'
  AND NOT EXISTS (SELECT FROM posts p WHERE p.user_id = u.id AND p.created_at > now() - interval '30 days')
ORDER BY u.created_at DESC LIMIT 50\"\"\"
rewrite = diff_plans(db.explain(not_in), db.explain(not_exists)) if demo else None
rewrite"""),
    md("""`changes` lists the nodes that are not the same: `changed` (another node type, index, join type or place in the tree, said in `note`), `added` and `removed`. `time_delta_ms` is the change in each node's own time; the deltas add up to the change in the whole. `totals` compares the plans as a whole: a `ratio` below 1 means the rewrite needs less."""),
    code("""if rewrite is not None:
    display(rewrite.nodes[['node_id_a', 'node_id_b', 'change', 'label_a', 'label_b', 'time_ms_a', 'time_ms_b',
                           'time_delta_ms', 'shared_blocks_a', 'shared_blocks_b', 'note']])
    display(rewrite.totals)"""),
    md("""Each node's own time before (light) and after (dark), labelled `#before→#after`; a dash marks a node that exists on one side only."""),
    code("""rewrite.figure() if rewrite is not None else None"""),
    md("""## What an index would do

`LOWER(email) = LOWER($1)` cannot use the index on `email`, so every login by e-mail reads the whole `users` table. On the sandbox this page creates the expression index **inside a transaction that is rolled back**, explains the lookup again within it, and compares: nothing is left behind (the last line checks). On any other server this section only shows the plan as it is. (Both this and the previous section use the demo's tables, and are skipped where they don't exist.)"""),
    code("""index_diff = None
if demo:
    email = db.conn.execute('SELECT email FROM users ORDER BY id LIMIT 1').fetchone()[0]
    lookup = 'SELECT * FROM users WHERE LOWER(email) = LOWER($1)'  # the value goes as a parameter, never into the text
    before = db.explain(lookup, params=[email.upper()])
    if db.target.is_sandbox:
        with db.conn.transaction(force_rollback=True):
            db.conn.execute('CREATE INDEX idx_users_lower_email ON users (LOWER(email))')
            after = db.explain(lookup, params=[email.upper()])
        index_diff = diff_plans(before, after)
        print('index left behind:', 'idx_users_lower_email' in set(db.indexes()['index']))
    else:
        print(before.text())
index_diff"""),
    code("""index_diff.changes[['node_id_a', 'node_id_b', 'change', 'time_ms_a', 'time_ms_b', 'note']] if index_diff is not None else None"""),
    md("""## Every plan of a day: an auto_explain log

A server with `auto_explain` loaded writes the plan of each statement slower than `auto_explain.log_min_duration` into its log, in TEXT or JSON (`auto_explain.log_format`), after whatever `log_line_prefix` the server uses. `read_auto_explain` reads all of them in one pass: `log.plans` has one row per entry (when, how long, the query and its parameters, the number of nodes, the most severe insight), `log.nodes` one row per node of every plan, and `log.plan(plan_id)` gives one plan to read as above. Entries it cannot read are counted in `log.unreadable`, never dropped.

Below: a log the demo workload wrote with every plan logged (`auto_explain.log_min_duration = 0`, TEXT and JSON entries, three prefixes). Set `auto_explain_log` above to read your server's log instead."""),
    code("""from dbworkbench.datasets.workload import auto_explain_log_path

log = wb.read_auto_explain(auto_explain_log if auto_explain_log is not None else auto_explain_log_path())
print(log)
log.slowest(5)"""),
    md("""Where the logged time went, by kind of node over all plans (exclusive time, so each millisecond counts once), and the slowest plan's tree:"""),
    code("""display(log.nodes.groupby('node_type')['exclusive_ms'].agg(['count', 'sum']).sort_values('sum', ascending=False).head(8))
print(log.plan(int(log.slowest(1)['plan_id'].iloc[0])).text())"""),
    md("""## What to do next

- The biggest boxes of the tree are the work list. A Seq Scan with a large *removed by filter* count wants an index on the filtered columns; a Sort or Hash that spills (`temp` in its hover, *external merge*) wants more `work_mem` or fewer rows; a misestimate by 10× or more wants `ANALYZE` or extended statistics.
- Try the rewrite or the index here first, and compare with `diff_plans`; then time both forms with repeated runs before changing the application.
- Create a real index with `CREATE INDEX CONCURRENTLY` in a migration, not from this page.
- From a terminal: `dbworkbench explain plan.txt` prints the same tree, top nodes and insights for a saved plan (`-` reads stdin, `--sql "SELECT …"` runs one, `--format json` for scripts); `dbworkbench explain --log postgresql.log` lists the slowest plans of a server log with their top insight."""),
]
nb = new_notebook(cells=cells)
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nb.metadata["language_info"] = {"name": "python"}
nbformat.write(nb, str(Path(__file__).resolve().parents[1] / "02_plan_explorer.ipynb"))
