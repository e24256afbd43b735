"""Datasets: the demo blog database (users, posts, comments) and its workload.

>>> from dbworkbench.datasets import SCALES, load_workload
>>> SCALES["tiny"]
{'users': 1000, 'posts': 5000, 'comments': 15000}
>>> len(load_workload()) >= 25
True
"""

from .demo import SCALES, demo_is_loaded, load_demo
from .workload import ForEach, Param, WorkloadError, WorkloadStatement, load_workload, run_workload

__all__ = [
    "SCALES",
    "ForEach",
    "Param",
    "WorkloadError",
    "WorkloadStatement",
    "demo_is_loaded",
    "load_demo",
    "load_workload",
    "run_workload",
]
