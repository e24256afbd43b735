"""The QueryLab and the cell magics leave a user's server as it was (the ledger, tests/ledger.py).

On the private ledger clusters (PostgreSQL 18 and 15, the demo loaded, connected as a role that
*can* write, without ``allow_writes``): a whole lab session (lint, values sampled for ``$n``,
Run, Compare, Stop, hostile variants) and the three magics, then the ledger and the
workbench's own session are compared with how they were.
"""

from __future__ import annotations

import pytest
from IPython.core.interactiveshell import InteractiveShell

import dbworkbench as wb
from dbworkbench.widgets import Lab, QueryLab
from tests.fix_ledger import PURGE_FUNCTION, WRITER_PASSWORD, LedgerCluster
from tests.ledger import session_state
from tests.test_ledger import CLEAN_SESSION, Outcome, Witness, _assert_no_differences, witness  # noqa: F401

LOOKUP = "SELECT * FROM users WHERE lower(email) = lower($1)"


def _lab_session(db: wb.Workbench) -> list[str]:
    """Everything the lab's buttons do, hostile variants included; what each did, in words."""
    done: list[str] = []
    ql = QueryLab(db, LOOKUP, "SELECT * FROM users WHERE email = $1", runs=4, max_seconds=30)
    done.append(f"opened: {len(ql.lab.findings)} findings, params sampled: {ql.lab.params is not None}")
    ql.run()
    done.append(f"run: {ql.lab.error!r}")
    cmp = ql.compare()
    done.append(f"compare: {cmp.verdict if cmp is not None else ql.lab.error!r}")
    ql.editor_a.value = "SELECT count(*) FROM generate_series(1, 200000)"
    ql.editor_b.value = "SELECT count(g) FROM generate_series(1, 200000) AS g"
    ql.lab.params = None
    ql.runs.value = 1000
    ql.compare_button.click()
    ql.stop_button.click()
    ql.wait(60)
    done.append(f"stopped: {ql.lab.comparison.stopped if ql.lab.comparison is not None else ql.lab.error!r}")
    for hostile in ("DELETE FROM comments", f"SELECT {PURGE_FUNCTION}()", "SELECT pg_advisory_lock(7)",
                    "UPDATE users SET is_active = false"):
        ql.editor_b.value = hostile
        ql.compare()
        assert isinstance(ql.lab.error, wb.UnsafeStatement), f"{hostile}: {ql.lab.error!r}"
        ql.run()
        assert isinstance(ql.lab.error, wb.UnsafeStatement), f"{hostile}: {ql.lab.error!r}"
        done.append(f"refused: {hostile}")
    lab = Lab(db, "SELECT id FROM posts WHERE user_id = $1 ORDER BY created_at DESC LIMIT $2")
    done.append(f"sampled: {lab.sample_params() is not None}")
    return done


def _magics_session(db: wb.Workbench) -> list[str]:
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "dbworkbench")
    ip.user_ns["ledger_db"] = db
    done = []
    for cell in ("%%explain --db ledger_db\nSELECT count(*) FROM posts",
                 "%%lint --db ledger_db\nSELECT * FROM users WHERE lower(email) = 'a@b.c'",
                 "%%lab --db ledger_db\nSELECT * FROM users WHERE lower(email) = 'a@b.c'",
                 "%%explain --db ledger_db\nDELETE FROM comments",
                 f"%%explain --db ledger_db\nSELECT {PURGE_FUNCTION}()"):
        result = ip.run_cell(cell)
        done.append(f"{cell.splitlines()[0]}: {type(result.error_in_exec).__name__ if result.error_in_exec else 'ran'}")
    return done


@pytest.mark.parametrize("session", [_lab_session, _magics_session], ids=["querylab", "magics"])
def test_the_lab_and_the_magics_change_nothing(ledger_cluster: LedgerCluster, witness: Witness,  # noqa: F811
                                               session: object, capsys: pytest.CaptureFixture[str]) -> None:
    if not witness.alive():
        witness.open()
    first = witness.take("all")
    db = wb.connect(ledger_cluster.writer())
    try:
        done = session(db)  # type: ignore[operator]
        differences = [f"the workbench's session holds {state}"] if (state := session_state(db.conn)) != CLEAN_SESSION else []
    finally:
        db.close()
    shown = "; ".join(done) + capsys.readouterr().out
    if WRITER_PASSWORD in shown:
        differences.append("the password appears in the output")
    last = witness.settled(first, "all")
    _assert_no_differences(session.__name__, ledger_cluster, first, last,  # type: ignore[attr-defined]
                           [Outcome(session.__name__, "; ".join(done), differences)])  # type: ignore[attr-defined]
