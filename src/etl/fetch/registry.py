"""Reading the registry's TOML files: the error every registry problem raises, and the settings tables
(``[fetch]``, ``[warehouse]``) found in them. Kept free of the HTTP client and the gazetteer so that a command
that only queries the warehouse reads its settings without loading them."""

from __future__ import annotations

import functools
import tomllib
from pathlib import Path
from typing import Any


class SourceConfigError(ValueError):
    pass


@functools.lru_cache(maxsize=16)
def parse_toml(text: str) -> dict[str, Any]:
    """``text`` parsed, once per content: a command reads the registry for its sources and again for each
    settings table, and 3,000 sources take ~0.12 s to parse. Keyed by the text, not the file's mtime, which
    a file rewritten within the same clock tick keeps. The result is shared: read it, never change it."""
    return tomllib.loads(text)


def registry_table(path: Path, name: str) -> tuple[Path, dict[str, Any]] | None:
    """The first ``[name]`` table in the registry (a file, or the ``*.toml`` of a directory in name order) and
    the file it is in; None if no file has one."""
    files = sorted(path.glob("*.toml")) if path.is_dir() else [path]
    for f in files:
        try:
            data = parse_toml(f.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
            raise SourceConfigError(f"{f}: cannot read registry: {e}") from e
        table = data.get(name)
        if table is None:
            continue
        if not isinstance(table, dict):
            raise SourceConfigError(f"{f}: [{name}]: expected a table, got {type(table).__name__}")
        return f, table
    return None


def check_table(f: Path, name: str, table: dict[str, Any], fields: dict) -> None:
    """Refuse an unknown field or a value its check rejects, naming the file, table and field."""
    unknown = set(table) - set(fields)
    if unknown:
        raise SourceConfigError(f"{f}: [{name}]: unknown field {sorted(unknown)[0]!r}")
    for key, value in table.items():
        ok, valid = fields[key]
        if not ok(value):
            raise SourceConfigError(f"{f}: [{name}]: field {key!r} = {value!r}: expected {valid}")
