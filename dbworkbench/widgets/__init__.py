"""ipywidgets front ends and IPython cell magics.

- :class:`QueryLab`: lint a statement, apply a rewrite, run and compare both, see whether the
  rewrite is faster and returns the same rows; ``ql.history`` lists the variants tried. Its
  logic is :class:`Lab`, a plain class tests and scripts drive without a browser.
- :mod:`.magics`: ``%%explain``, ``%%lint``, ``%%lab`` after ``%load_ext dbworkbench``.

>>> from dbworkbench.widgets import QueryLab
>>> QueryLab(db, "SELECT * FROM users WHERE lower(email) = 'a@b.c'")  # doctest: +SKIP
"""

from .lab import HISTORY_COLUMNS, Lab, LabBusy
from .magics import WorkbenchMagics, load_ipython_extension
from .querylab import QueryLab

__all__ = ["HISTORY_COLUMNS", "Lab", "LabBusy", "QueryLab", "WorkbenchMagics", "load_ipython_extension"]
