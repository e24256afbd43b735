"""Shareable reports: the notebooks' display setup, the report's sections, the report run (papermill)
and its offline HTML (nbconvert).

>>> from dbworkbench.report import build_report
>>> result = build_report(out="report.html")  # doctest: +SKIP
"""

from __future__ import annotations

from .display import setup_notebook, table_html
from .export import export_html, merge_notebooks
from .run import NOTEBOOKS, ReportResult, build_report
from .sections import (
    CHECKLIST,
    CHECKLIST_COLUMNS,
    COLUMNS_COLUMNS,
    CONSTRAINTS_COLUMNS,
    INDEX_PURPOSE_COLUMNS,
    OVERVIEW_COLUMNS,
    QUERY_FINDINGS_COLUMNS,
    SETTINGS_REVIEW_COLUMNS,
    SqlText,
    backup_monitoring,
    checklist_html,
    columns,
    constraints,
    er_figure,
    final_checklist,
    index_purposes,
    query_findings,
    schema_overview,
    table_ddl,
)

__all__ = [
    "CHECKLIST", "CHECKLIST_COLUMNS", "COLUMNS_COLUMNS", "CONSTRAINTS_COLUMNS", "INDEX_PURPOSE_COLUMNS", "NOTEBOOKS",
    "OVERVIEW_COLUMNS", "QUERY_FINDINGS_COLUMNS", "SETTINGS_REVIEW_COLUMNS", "ReportResult", "SqlText",
    "backup_monitoring", "build_report", "checklist_html", "columns", "constraints", "er_figure", "export_html",
    "final_checklist", "index_purposes", "merge_notebooks", "query_findings", "schema_overview",
    "setup_notebook", "table_ddl", "table_html",
]
