"""Parameter placeholders for statements over a set of sources."""

from __future__ import annotations


def in_list(column: str, values: list[str]) -> str:
    """``column in (?, ...)``, one parameter per value: a list of constants lets DuckDB skip the row groups of
    the other sources (a subquery or a join on a frame of ids would scan every source's rows)."""
    return f"{column} in ({', '.join('?' * len(values))})"
