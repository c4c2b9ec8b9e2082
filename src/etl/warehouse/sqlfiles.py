"""Where the SQL files are and in which order they apply. Kept free of heavy imports: the command line reads the
mart names from here to build its options before pandas or DuckDB are loaded."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

_LAYER_ORDER = {"stg": 0, "core": 1, "mart": 2}


class SqlFilesError(RuntimeError):
    pass


def sql_dir() -> Path:
    """``sql/`` of the checkout, or the copy inside an installed wheel."""
    packaged = Path(str(resources.files("etl"))) / "sql"
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[3] / "sql"
    if checkout.is_dir():
        return checkout
    raise SqlFilesError(f"sql/ directory not found (looked in {packaged} and {checkout})")


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) of every migration file, in order."""
    out = []
    for p in sorted((sql_dir() / "migrations").glob("*.sql")):
        m = re.match(r"(\d+)_(.+)\.sql$", p.name)
        if not m:
            raise SqlFilesError(f"{p}: migration files are named NNNN_name.sql")
        out.append((int(m.group(1)), m.group(2), p.read_text(encoding="utf-8")))
    versions = [v for v, _, _ in out]
    if len(set(versions)) != len(versions):
        raise SqlFilesError(f"{sql_dir() / 'migrations'}: duplicate migration versions {versions}")
    return out


def view_files() -> list[Path]:
    """View files in dependency order: every ``stg_`` before any ``core_`` before any ``mart_``."""
    files = sorted((sql_dir() / "views").glob("*.sql"))
    return sorted(files, key=lambda p: (_LAYER_ORDER.get(p.stem.split("_")[0], 9), p.stem))


def mart_names() -> list[str]:
    return [p.stem for p in view_files() if p.stem.startswith("mart_")]
