"""The warehouse as a DuckLake with a PostgreSQL (or any DuckLake) catalog: several processes on several
machines write to it at once, each in its own transaction, instead of taking turns on one DuckDB file.

Chosen by giving a ``ducklake:`` target where a warehouse file is expected (``--db`` or ``ETL_WAREHOUSE``),
for example ``ducklake:postgres:dbname=lake host=db.internal user=etl``; the table data (Parquet files) go to
``ETL_LAKE_DATA`` (a directory every writer can reach). The same migrations, loads and marts run on it: the
schema has no keys or sequences (DuckLake has neither; pandera checks uniqueness at the boundary). The
extensions come from PyPI wheels pinned to the DuckDB version (the ``ducklake`` extra), so nothing is downloaded
at run time.
"""

from __future__ import annotations

import os

import duckdb

from etl.settings import is_lake

__all__ = ["LakeError", "connect_lake", "is_conflict", "is_lake"]

ALIAS = "wh"


class LakeError(RuntimeError):
    pass


def connect_lake(target: str, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    data = os.environ.get("ETL_LAKE_DATA")
    if not data:
        raise LakeError(
            f"{target}: a DuckLake warehouse needs ETL_LAKE_DATA, the directory for its data files"
        )
    try:
        from duckdb_extensions import import_extension
    except ImportError as e:
        raise LakeError(
            f"{target}: DuckLake needs the extension wheels: install the project with the 'ducklake' extra"
        ) from e
    con = duckdb.connect()
    try:
        for ext in ("ducklake", "postgres_scanner"):
            import_extension(ext, con=con)
        options = [f"data_path '{_quote(os.path.join(data, ''))}'"] + (["read_only"] if read_only else [])
        con.execute(f"attach '{_quote(target)}' as {ALIAS} ({', '.join(options)})")
        con.execute(f"use {ALIAS}")
    except (duckdb.Error, ModuleNotFoundError) as e:
        con.close()
        raise LakeError(f"{target}: cannot attach the DuckLake: {str(e).splitlines()[0]}") from e
    return con


def is_conflict(e: BaseException) -> bool:
    """Two writers changed the same table at once: DuckLake refuses the later commit; the load is retried."""
    return isinstance(e, duckdb.Error) and "conflict" in str(e).lower()


def _quote(s: str) -> str:
    return s.replace("'", "''")
