"""Property names as PostgreSQL's non-text EXPLAIN formats spell them, and their kinds.

The TEXT parser produces these names so a pasted TEXT plan and the same plan in
FORMAT JSON give the same node dicts. The XML reader maps tags back to them
(PostgreSQL turns every character outside ``[A-Za-z0-9_.-]`` into ``-``).
"""

from __future__ import annotations

import re

BUFFER_KEYS = (
    "Shared Hit Blocks",
    "Shared Read Blocks",
    "Shared Dirtied Blocks",
    "Shared Written Blocks",
    "Local Hit Blocks",
    "Local Read Blocks",
    "Local Dirtied Blocks",
    "Local Written Blocks",
    "Temp Read Blocks",
    "Temp Written Blocks",
)

IO_KEYS_13 = ("I/O Read Time", "I/O Write Time")  # PostgreSQL 13-15 (shared and local together)
IO_KEYS_TEMP = ("Temp I/O Read Time", "Temp I/O Write Time")  # 15+
IO_KEYS_16 = (
    "Shared I/O Read Time",
    "Shared I/O Write Time",
    "Local I/O Read Time",
    "Local I/O Write Time",
    *IO_KEYS_TEMP,
)
IO_READ_KEYS = ("I/O Read Time", "Temp I/O Read Time", "Shared I/O Read Time", "Local I/O Read Time")
IO_WRITE_KEYS = ("I/O Write Time", "Temp I/O Write Time", "Shared I/O Write Time", "Local I/O Write Time")

# Values that are numbers (integers or floats) wherever they appear.
NUMERIC_KEYS = frozenset(
    {
        "Startup Cost", "Total Cost", "Plan Rows", "Plan Width",
        "Actual Startup Time", "Actual Total Time", "Actual Rows", "Actual Loops",
        "Rows Removed by Filter", "Rows Removed by Index Recheck", "Rows Removed by Join Filter",
        "Rows Removed by Conflict Filter", "Heap Fetches", "Index Searches",
        "Exact Heap Blocks", "Lossy Heap Blocks", "Sort Space Used", "Group Count",
        "Average Sort Space Used", "Peak Sort Space Used",
        "Hash Buckets", "Original Hash Buckets", "Hash Batches", "Original Hash Batches",
        "Peak Memory Usage", "Disk Usage", "HashAgg Batches", "Planned Partitions",
        "Cache Hits", "Cache Misses", "Cache Evictions", "Cache Overflows",
        "Estimated Capacity", "Estimated Distinct Lookup Keys", "Estimated Lookups", "Estimated Hit Percent",
        "Workers Planned", "Workers Launched", "Worker Number",
        *BUFFER_KEYS, *IO_KEYS_13, *IO_KEYS_16,
        "WAL Records", "WAL FPI", "WAL Bytes", "WAL Buffers Full",
        "Tuples Inserted", "Tuples Updated", "Tuples Deleted", "Tuples Skipped", "Conflicting Tuples",
        "Subplans Removed", "Maximum Storage",
        "Planning Time", "Execution Time", "Total Runtime", "Query Identifier",
        "Time", "Calls", "Output Volume", "Memory Used", "Memory Allocated",
        "Functions", "Generation", "Inlining", "Optimization", "Emission", "Total", "Deform",
    }
)

BOOL_KEYS = frozenset(
    {"Parallel Aware", "Async Capable", "Inner Unique", "Single Copy", "Disabled", "Expressions", "Deforming"}
)

# TEXT properties that PostgreSQL's JSON gives as lists of strings.
LIST_KEYS = frozenset(
    {
        "Output", "Sort Key", "Group Key", "Presorted Key", "Hash Key", "Conflict Arbiter Indexes",
        "Params Evaluated", "Sampling Parameters", "Sort Methods Used",
    }
)

# Values that stay text even when they look like numbers.
STRING_KEYS = frozenset(
    {
        "Node Type", "Parent Relationship", "Subplan Name", "Custom Plan Provider", "Operation",
        "Relation Name", "Schema", "Alias", "Function Name", "Table Function Name", "CTE Name",
        "Tuplestore Name", "Index Name", "Scan Direction", "Join Type", "Strategy", "Partial Mode",
        "Command", "Filter", "Index Cond", "Recheck Cond", "Join Filter", "Hash Cond", "Merge Cond",
        "One-Time Filter", "TID Cond", "Order By", "Sort Method", "Sort Space Type", "Cache Key",
        "Cache Mode", "Function Call", "Table Function Call", "Sampling Method", "Repeatable Seed",
        "Remote SQL", "Relations", "Conflict Resolution", "Conflict Filter", "Run Condition",
        "Window", "Storage", "Query Text", "Trigger Name", "Constraint Name", "Relation", "Format",
    }
)

# Property names a TEXT plan may show, beyond the ones above (used to tell a real
# property line from the wrapped tail of a long line).
TEXT_ONLY_KEYS = frozenset(
    {
        "Buffers", "I/O Timings", "WAL", "Heap Blocks", "Buckets", "Batches", "Hits", "Sort Method",
        "Full-sort Groups", "Pre-sorted Groups", "Sampling", "Tuples", "Estimates", "Memory",
        "Settings", "JIT", "Planning", "Serialization", "Options", "Timing", "Total runtime",
        "Planning time", "Execution time", "Query Parameters", "Storage",
    }
)
KNOWN_TEXT_KEYS = NUMERIC_KEYS | BOOL_KEYS | LIST_KEYS | STRING_KEYS | TEXT_ONLY_KEYS

# Group and list names used by the non-text formats, for the XML reader.
GROUP_KEYS = (
    "Plan", "Plans", "Workers", "Worker", "Triggers", "Trigger", "Target Tables", "Target Table",
    "Grouping Sets", "Grouping Set", "Group Keys", "Hash Keys", "Full-sort Groups", "Pre-sorted Groups",
    "Sort Space Memory", "Sort Space Disk", "Settings", "JIT", "Options", "Timing", "Planning",
    "Serialization", "Query",
)
XML_LIST_PARENTS = {
    "Plans": "Plan",
    "Workers": "Worker",
    "Triggers": "Trigger",
    "Target Tables": "Target Table",
    "Grouping Sets": "Grouping Set",
    "Group Keys": "Group Key",
    "Hash Keys": "Hash Key",
}

_XML_BAD = re.compile(r"[^A-Za-z0-9_.\-]")


def xml_tag(key: str) -> str:
    """The XML tag PostgreSQL writes for a property name."""
    return _XML_BAD.sub("-", key)


XML_TAG_TO_KEY = {xml_tag(k): k for k in (*KNOWN_TEXT_KEYS, *GROUP_KEYS)}
