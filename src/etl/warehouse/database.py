"""The DuckDB warehouse: opening it (waiting for another writer), migrations, dimensions and views."""

from __future__ import annotations

import csv
import hashlib
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import duckdb
import pandas as pd

from etl.extract.lexicon import indicator_specs
from etl.reference.indicators import non_additive
from etl.reference.regions import Region
from etl.warehouse.config import memory_limit
from etl.warehouse.lake import LakeError, connect_lake, is_lake
from etl.warehouse.sqlfiles import migrations, view_files
from etl.warehouse.validate import quarantine_frame, region_schema, validate

# Indicators whose values may be summed across regions (counts and money); rates never are.


class WarehouseError(RuntimeError):
    pass


class WarehouseLocked(WarehouseError):
    pass


# Rows per row group of a DuckDB-file warehouse, for every connection's writes. Every checkpoint recompresses a
# table's last, partly filled row group whole, so with DuckDB's default 122,880 a series of chunk commits costs
# memory and time growing with the rows written (50 commits of 2,000 3 KB rows: 499 MB peak with the default,
# 263 MB with 16,384). Every connection, not only the bulk writer: a checkpoint under the default merges smaller
# groups back (measured: +410 MB for a view refresh after a 100k-page re-parse).
ROW_GROUP_SIZE = 16_384


def connect(
    path: Path | str, lock_timeout: float = 60.0, read_only: bool = False
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse; if another process holds it, wait up to ``lock_timeout`` seconds, then fail with a
    message naming the holder. A ``ducklake:`` target opens the DuckLake (several writers, no file lock). The
    connection runs within the configured budget (``ETL_MEMORY_LIMIT`` or ``[warehouse] memory_limit``),
    else DuckDB's default of 80% of RAM."""
    limit = memory_limit()  # a bad setting fails before anything is opened
    con = _open(path, lock_timeout, read_only)
    if limit:
        con.execute(f"set memory_limit = '{limit}'")
    return con


def _open(path: Path | str, lock_timeout: float, read_only: bool) -> duckdb.DuckDBPyConnection:
    if is_lake(path):
        try:
            return connect_lake(str(path), read_only)
        except LakeError as e:
            raise WarehouseError(str(e)) from e
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + lock_timeout
    delay = 0.05
    while True:
        try:
            return _attach(path, read_only)
        except duckdb.IOException as e:
            msg = str(e)
            if "lock" not in msg.lower():
                raise WarehouseError(f"{path}: cannot open warehouse: {msg}") from e
            if time.monotonic() >= deadline:
                holder = re.search(r"\(PID (\d+)\)", msg)
                who = f"process {holder.group(1)}" if holder else "another process"
                raise WarehouseLocked(
                    f"{path}: warehouse is locked by {who}; waited {lock_timeout:.0f}s. "
                    + (
                        "Another run is writing; retry when it has finished (reads wait for the writer). "
                        if read_only
                        else "Another run is writing; retry later or raise --lock-timeout. "
                    )
                    + f"({msg.splitlines()[0]})"
                ) from e
            # Waiting on another process's file lock has no event to wait on; poll with backoff.
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


def _attach(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    """The file attached under its usual catalog name (its stem, as ``duckdb.connect`` names it) with
    ROW_GROUP_SIZE, which only ATTACH takes."""
    con = duckdb.connect()
    quoted = str(path).replace("'", "''")
    options = f"row_group_size {ROW_GROUP_SIZE}" + (", read_only" if read_only else "")
    try:
        # spill next to the warehouse, as duckdb.connect(path) would; an in-memory main database spills to ./.tmp
        con.execute(f"set temp_directory = '{quoted}.tmp'")
        con.execute(f"attach '{quoted}' ({options})")
        alias = con.execute(
            "select database_name from duckdb_databases() where path is not null and not internal"
        ).fetchone()
        con.execute(f'use "{alias[0]}"')
    except BaseException:
        con.close()
        raise
    return con


def checkpoint_file(con: duckdb.DuckDBPyConnection) -> bool:
    """Write a DuckDB file's WAL into its tables now; a DuckLake (whose CHECKPOINT compacts the lake) is left
    alone. Returns whether it checkpointed."""
    kind = con.execute(
        "select type from duckdb_databases() where database_name = current_database()"
    ).fetchone()
    if kind is None or kind[0] != "duckdb":
        return False
    con.execute("checkpoint")
    return True


def migrate(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply pending migrations in order, each once, each in its own transaction. Returns applied versions."""
    con.execute(
        "create table if not exists schema_migration "
        "(version integer not null, name varchar not null, checksum varchar not null, applied_at timestamptz not null)"
    )
    applied = {v for (v,) in con.execute("select version from schema_migration").fetchall()}
    known = migrations()
    newest_known = max((v for v, _, _ in known), default=0)
    if applied and max(applied) > newest_known:
        raise WarehouseError(
            f"warehouse schema version {max(applied)} is newer than this code knows ({newest_known}); "
            "upgrade bulletin-etl to use this warehouse"
        )
    done = []
    for version, name, sql in known:
        if version in applied:
            continue
        con.execute("begin transaction")
        try:
            con.execute(sql)
            con.execute(
                "insert into schema_migration values (?, ?, ?, ?)",
                [version, name, hashlib.sha256(sql.encode()).hexdigest(), datetime.now(UTC)],
            )
            con.execute("commit")
        except Exception as e:
            con.execute("rollback")
            raise WarehouseError(f"migration {version:04d}_{name}.sql failed: {e}") from e
        done.append(version)
    return done


def load_dimensions(con: duckdb.DuckDBPyConnection) -> None:
    """Refresh dim_region (gazetteer) and dim_indicator (the project's copy of indicators.csv)."""
    with resources.files("etl.data").joinpath("regions.csv").open(encoding="utf-8") as f:
        # every CSV row, duplicates included, so the region contract below can reject them
        rows = [Region(**r) for r in csv.DictReader(f)]
    regions = [(r.code, r.name, r.level, r.parent_code or None, r.province_code, r.type) for r in rows]
    specs = indicator_specs()
    indicators = [
        (s.code, s.unit, s.name_zh, s.name_en, s.what_counts, s.code not in non_additive())
        for s in specs.values()
    ]
    region_df = pd.DataFrame(
        regions, columns=["code", "name", "level", "parent_code", "province_code", "type"]
    )
    indicator_df = pd.DataFrame(
        indicators, columns=["code", "unit", "name_zh", "name_en", "what_counts", "additive"]
    )
    # The gazetteer crosses a boundary too: rows failing its contract are quarantined, the rest load.
    checked = validate(region_df, region_schema(set(region_df["code"])), "region", "code")
    region_df = checked.valid
    rejected = quarantine_frame(checked.rejected, None, datetime.now(UTC))
    con.register("region_df", region_df)
    con.register("indicator_df", indicator_df)
    con.register("rejected_regions", rejected)
    con.execute("begin transaction")
    con.execute("delete from quarantine where layer = 'region'")
    con.execute("insert into quarantine select * from rejected_regions")
    con.execute("delete from dim_region")
    con.execute("insert into dim_region select * from region_df")
    con.execute("delete from dim_indicator")
    con.execute("insert into dim_indicator select * from indicator_df")
    con.execute("commit")
    for name in ("region_df", "indicator_df", "rejected_regions"):
        con.unregister(name)


def create_views(con: duckdb.DuckDBPyConnection) -> list[str]:
    """(Re)create every view in sql/views; a view whose dependency is not yet there is retried after it."""
    pending = view_files()
    created: list[str] = []
    errors: dict[str, str] = {}
    while pending:
        progress = []
        for p in pending:
            try:
                con.execute(p.read_text(encoding="utf-8"))
                created.append(p.stem)
                progress.append(p)
            except duckdb.CatalogException as e:
                errors[p.stem] = str(e)
        if not progress:
            detail = "; ".join(f"{k}: {v}" for k, v in errors.items())
            raise WarehouseError(f"cannot create views: {detail}")
        pending = [p for p in pending if p not in progress]
    return created


def require_views(con: duckdb.DuckDBPyConnection, path: Path | str) -> None:
    """Refuse in one line a warehouse without the views of sql/views (loaded by a run that stopped before
    creating them, or by older code): the read commands query them and would end in a catalog traceback."""
    have = {
        v
        for (v,) in con.execute(
            "select view_name from duckdb_views() where database_name = current_database()"
        ).fetchall()
    }
    missing = [p.stem for p in view_files() if p.stem not in have]
    if missing:
        raise WarehouseError(
            f"{path}: the warehouse has no view {missing[0]}"
            + (f" (nor {len(missing) - 1} others)" if len(missing) > 1 else "")
            + ": `etl run` or `etl backfill` on it creates the views"
        )


@contextmanager
def open_warehouse(path: Path | str, lock_timeout: float = 60.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """A migrated warehouse with fresh dimensions and views."""
    con = connect(path, lock_timeout)
    try:
        migrate(con)
        if con.execute("select count(*) from dim_region").fetchone()[0] == 0:
            load_dimensions(con)
        create_views(con)
        yield con
    finally:
        con.close()


def table_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Row count of every table and view."""
    names = [
        r[0]
        for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'main' order by table_name"
        ).fetchall()
    ]
    return {n: con.execute(f'select count(*) from "{n}"').fetchone()[0] for n in names}
