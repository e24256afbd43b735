"""Numbers as people read them (pure: no server)."""

from __future__ import annotations


def pretty_bytes(n: float | None) -> str:
    """1536 → '1.5 kB' (binary units, as pg_size_pretty).

    >>> pretty_bytes(1536), pretty_bytes(512), pretty_bytes(None)
    ('1.5 kB', '512 bytes', '?')
    """
    if n is None:
        return "?"
    value = float(n)
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if abs(value) < 1024 or unit == "TB":
            return f"{value:,.0f} {unit}" if unit == "bytes" else f"{value:,.1f} {unit}"
        value /= 1024
    return f"{value:,.1f} TB"
