"""What the connected server is and can do: version, role, extensions, EXPLAIN options."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from . import catalog


@dataclass(frozen=True)
class ServerInfo:
    """Identity and capabilities of a server, read once per connection."""

    version_num: int
    version: str
    database: str
    user: str
    is_superuser: bool
    reads_all_stats: bool
    in_recovery: bool
    read_only: bool
    preload_libraries: tuple[str, ...]
    installed_extensions: dict[str, dict[str, str]]
    available_extensions: frozenset[str]

    @classmethod
    def read(cls, conn: psycopg.Connection[Any]) -> ServerInfo:
        cur = conn.execute(catalog.get("server"))
        row = dict(zip([d.name for d in cur.description or []], cur.fetchone() or ()))
        row["preload_libraries"] = tuple(
            lib.strip() for lib in row["preload_libraries"].split(",") if lib.strip()
        )
        row["available_extensions"] = frozenset(row["available_extensions"])
        return cls(**row)

    @property
    def major(self) -> int:
        return self.version_num // 10_000

    def has_extension(self, name: str) -> bool:
        """Whether ``name`` is installed (CREATE EXTENSION done) in this database."""
        return name in self.installed_extensions

    def extension_schema(self, name: str) -> str | None:
        ext = self.installed_extensions.get(name)
        return ext["schema"] if ext else None

    @property
    def capabilities(self) -> dict[str, bool]:
        """Feature flags later layers rely on (EXPLAIN options, extensions)."""
        return {
            "pg_stat_statements": self.has_extension("pg_stat_statements")
            and "pg_stat_statements" in self.preload_libraries,
            "auto_explain": "auto_explain" in self.preload_libraries,
            "hypopg": self.has_extension("hypopg"),
            "hypopg_available": "hypopg" in self.available_extensions,
            "pgstattuple": self.has_extension("pgstattuple"),
            "explain_generic_plan": self.version_num >= 160_000,
            "explain_serialize": self.version_num >= 170_000,
            "explain_memory": self.version_num >= 170_000,
            "explain_settings": self.version_num >= 120_000,
            "explain_wal": self.version_num >= 130_000,
        }
