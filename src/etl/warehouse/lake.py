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

import itertools
import os
import random
import time
from collections.abc import Callable
from typing import TypeVar

import duckdb

from etl.settings import is_lake

__all__ = ["LakeError", "connect_lake", "is_conflict", "is_lake", "retry_conflicts"]

ALIAS = "wh"
CONFLICT_RETRIES = 8
T = TypeVar("T")


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


def retry_conflicts(transaction: Callable[[], T], retries: int = CONFLICT_RETRIES) -> T:
    """Run ``transaction`` (which begins, commits, and rolls back on error) again while another writer's commit
    to the same tables makes DuckLake refuse it: the refused transaction rolled back whole, so it is simply run
    on the new state (bounded, with jittered backoff). On a DuckDB file there is one writer and no conflict."""
    for attempt in itertools.count():
        try:
            return transaction()
        except duckdb.Error as e:
            if not is_conflict(e) or attempt == retries:
                raise
            time.sleep(random.uniform(0.05, 0.2) * 2**attempt)


def _quote(s: str) -> str:
    return s.replace("'", "''")
