"""Admitting the two statements of a comparison (both through the gate, their $n counts checked)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from ..errors import UnsafeStatement
from ..guard import Admitted, admit


def admit_pair(
    conn: psycopg.Connection[Any], texts: tuple[str, str], params: tuple[Sequence[Any] | None, Sequence[Any] | None],
    *, read_only: bool, action: str, allow_side_effects: bool = False,
) -> tuple[Admitted, Admitted]:
    """Both statements through the gate (:func:`dbworkbench.guard.admit`), their ``$n`` counts checked."""
    out = []
    for name, text, values in zip("AB", texts, params, strict=True):
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"statement {name} is empty; give the SQL text of one statement")
        admitted = admit(text, read_only=read_only, conn=conn, execute=True, allow_side_effects=allow_side_effects,
                         action=action, side_effects_opt_in="pass allow_side_effects=True")
        count = admitted.statement.parameters
        given = 0 if values is None else len(values)
        if given != count:
            other = "params_b" if name == "B" else "params"
            raise UnsafeStatement(
                f"statement {name} uses {count} parameter(s) ($1 ... ${count}) and {other} has {given}; "
                "pass one value per $n (params_b when B's differ from A's); nothing was sent"
            )
        out.append(admitted)
    return out[0], out[1]
