"""What the lab reads from a :class:`~dbworkbench.timing.Comparison`: history facts and escaped HTML."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from . import _html

if TYPE_CHECKING:
    from ..timing import Comparison, SameResults


def checked(cmp: Comparison) -> SameResults | None:
    """The comparison's same-results check; None when it was stopped early (the check did not run
    and is not started here: it reads both complete results)."""
    return None if cmp.stopped else cmp.same_results


def facts(cmp: Comparison) -> dict[str, Any]:
    """One history row's values for variant B of ``cmp``."""
    summary = cmp.summary.set_index("variant")
    same = checked(cmp)

    def value(variant: str, column: str) -> Any:
        return summary.loc[variant, column] if variant in summary.index else None

    return {
        "runs": value("B", "runs"),
        "median_ms": value("B", "median_ms"),
        "baseline_ms": value("A", "median_ms"),
        "ratio": value("B", "ratio"),
        "verdict": cmp.verdict,
        "same_results": None if same is None else same.same,
        "stopped": cmp.stopped is not None,
    }


def verdict_html(cmp: Comparison) -> str:
    """The verdict in a sentence, then the summary table; in red when B returns other rows."""
    same = checked(cmp)
    tone = "error" if same is not None and not same.same else ("warning" if cmp.stopped else "ok")
    return _html.message(f"{cmp.verdict}: {cmp.verdict_text}", tone=tone) + _html.table(cmp.summary)


def same_results_html(cmp: Comparison) -> str:
    """Whether B returned A's rows, and the first differing rows when not."""
    same = checked(cmp)
    if same is None:
        return _html.message("same results: not checked (the comparison was stopped); Compare again to check",
                             tone="warning")
    if same.same:
        return _html.message(f"same results: yes, {same.reason}", tone="ok")
    first: pd.DataFrame = same.first_differences
    return _html.message(f"WRONG REWRITE: B does not return A's rows: {same.reason}", tone="error") + _html.table(first)
