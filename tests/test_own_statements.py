"""statements() shows the user's workload, not the workbench's own queries.

After the demo workload, a session of the public surface a user reaches for (collectors,
health, explain, the advisor, snapshots, N+1, the report's query section) runs against the
database; then every statement pg_stat_statements holds for it that ``statements()`` shows
must be one of the workload's. Each query of ours that showed up before was a row a user had
to read past (and a statement the advisor was asked to index): HypoPG's calls (682,692 of them
after the TPC-H benchmark), the what-if DROP INDEX lists (one entry per set tried), the advisor's
value samples, the snapshot's clock.
"""

from __future__ import annotations

import dbworkbench as wb
from dbworkbench import report
from dbworkbench.datasets import load_workload

from .advisor.test_advise import worked  # noqa: F401, F811  (the demo after its workload, pg_stat_statements holding only that)
from .test_datasets import _same_shape


def test_a_session_leaves_only_the_workload_in_statements(worked: str, server) -> None:  # noqa: F811
    real = server.name == "pg18"  # no HypoPG there: the advisor builds real indexes and rolls them back
    with wb.connect(worked, allow_writes=real) as db:
        before = db.snapshot()
        top = db.statements()
        for frame in (db.tables(), db.indexes(), db.settings(), db.column_stats("posts"), db.workload(), db.health()):
            assert len(frame)
        plan = db.explain(str(top["query"].iloc[0]), analyze=False)
        assert len(plan.nodes)
        advice = db.advise(50, allow_real_indexes=real, progress=False)
        assert len(advice.selected)
        delta = db.snapshot() - before
        db.n_plus_one(delta, min_calls=1)
        report.query_findings(db, top=5)
        shown = list(db.statements()["query"])
    written = {" ".join(s.sql.split()) for s in load_workload()}
    # this test's reset, and the transaction control psycopg sends as plain BEGIN/ROLLBACK (an
    # application's own look the same, so statements() keeps them)
    ours_unmarked = {"SELECT pg_stat_statements_reset()", "BEGIN", "COMMIT", "ROLLBACK"}
    strangers = [t for t in shown if t not in ours_unmarked and not any(_same_shape(t, w) for w in written)]
    assert shown and not strangers, "\n".join(strangers)
