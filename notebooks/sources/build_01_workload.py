"""Build notebooks/01_workload.ipynb (without outputs) with nbformat: python notebooks/sources/build_01_workload.py"""
import nbformat as nbf
nb = nbf.v4.new_notebook()
md, code = nbf.v4.new_markdown_cell, nbf.v4.new_code_cell
params = code('dsn = None                # None: the sandbox with the demo database; or "postgresql://…"\n'
              'workload_seconds = 5.0   # on the sandbox: run the demo workload this long between the snapshots\n'
              'observe_seconds = 10.0   # on any other server: just watch real traffic this long')
params.metadata["tags"] = ["parameters"]
nb.cells = [
    md("# 1 · Where the time goes\n\n"
       "This page reads `pg_stat_statements` (every statement the server has run since the last reset, "
       "normalised: constants become `$1`) and answers the first question of any tuning session: "
       "**which few statements account for most of the server's time?** "
       "Tune those first; the long tail rarely pays.\n\n"
       "Run it top to bottom. Against your own server set `dsn` below: the workbench is then read-only, "
       "with a 30 s statement timeout and a 2 s lock timeout on every session."),
    params,
    code("import dbworkbench as wb\n"
         "from dbworkbench import viz\n\n"
         "wb.setup_notebook()  # figures drawn live and in exported HTML (offline); tables show server text as text, never as math\n"
         "db = wb.connect(dsn)\n"
         "db"),
    md("## The top statements by total time\n\n"
       "`total_exec_ms` is calls × mean time: the time the server spent on that statement in all. "
       "`share_of_total_time` is its slice of the whole. `cache_hit_ratio` below ~0.99 on a hot statement "
       "means it reads from disk; `rows_per_call` tells a lookup (1) from a report (thousands)."),
    code("statements = db.statements()\n"
         "columns = ['query', 'calls', 'total_exec_ms', 'mean_exec_ms', 'share_of_total_time',\n"
         "           'rows_per_call', 'cache_hit_ratio', 'shared_blks_read']\n"
         "statements[columns].head(10).style.format(\n"
         "    {'total_exec_ms': '{:,.1f}', 'mean_exec_ms': '{:,.3f}', 'share_of_total_time': '{:.1%}',\n"
         "     'rows_per_call': '{:,.1f}', 'cache_hit_ratio': '{:.3f}'}, escape='html')"),
    md("## The Pareto chart\n\n"
       "Bars are each statement's total time, the line the running share of all time. "
       "The statements left of where the line crosses 80 % are your work list; hover a bar for its query."),
    code("viz.statements_pareto(statements, top=20)"),
    md("## Mean time against calls\n\n"
       "Each point is a statement (log scales). **Top right**: frequent and slow, the first to tune. "
       "**Far right, low**: cheap but called very often; if they come in bursts of one row each, "
       "that is the N+1 pattern, to be replaced by one query with a JOIN. "
       "**Red**: low cache hit ratio, the statement reads from disk (a missing index or a table larger than memory). "
       "Big points return many rows per call."),
    code("viz.statements_scatter(statements)"),
    md("## What changes now: two snapshots\n\n"
       "Totals since the last reset mix old and new traffic. A snapshot before and after a short interval "
       "shows what the server is doing **now**, as rates per second. On the sandbox the demo workload runs "
       "in between; on another server we only watch. A `pg_stat_statements_reset()` in between is handled "
       "(`restarted` marks the rows)."),
    code("import time\n"
         "from dbworkbench.datasets import run_workload\n\n"
         "before = db.snapshot()\n"
         "if db.target.is_sandbox:\n"
         "    summary = run_workload(db.conn, seconds=workload_seconds, seed=1, progress=False)\n"
         "else:\n"
         "    time.sleep(observe_seconds)\n"
         "delta = db.snapshot() - before\n"
         "print(f'{delta.seconds:.1f} s between the snapshots, {len(delta.statements)} statements ran')\n"
         "delta.statements[['query', 'calls', 'calls_per_s', 'total_exec_ms_per_s', 'mean_exec_ms', 'shared_blks_read_per_s']].head(10)"),
    code("viz.rates_bar(delta.statements)"),
    md("Tables touched in the interval, with sequential and index scans per second. A table with many "
       "sequential scans per second and many rows read per scan is the classic missing index."),
    code("delta.tables[['schema', 'table', 'seq_scan_per_s', 'seq_tup_read_per_s', 'idx_scan_per_s', 'n_tup_ins_per_s', 'n_tup_upd_per_s']]"),
    md("## What to do next\n\n"
       "- Take the top statements of the Pareto chart to the plan explorer (`02_plan_explorer.ipynb`) and read their plans.\n"
       "- A frequent statement with a low cache hit ratio or a high `shared_blks_read`: look for a missing index "
       "(`03_tables_and_scans.ipynb` shows which tables are read by sequential scans).\n"
       "- Many calls of one tiny statement in bursts: an N+1 loop in the application; fetch it in one query.\n"
       "- To start a clean measurement, `SELECT pg_stat_statements_reset()` (needs the right privileges), "
       "or just compare two snapshots as above."),
]
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nb.metadata["language_info"] = {"name": "python"}
nbf.write(nb, "notebooks/01_workload.ipynb")
