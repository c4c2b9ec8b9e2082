"""Which warehouse, and within what memory: a ``[warehouse]`` table in the source registry, as data::

    [warehouse]
    target = "ducklake:postgres:dbname=lake host=db.internal user=etl"  # or a DuckDB file
    data_path = "/srv/lake"   # a DuckLake's Parquet files, a directory every writer reaches
    memory_limit = "2GB"      # DuckDB's budget for each connection the pipeline opens

Each field has an environment variable that wins over it (``ETL_WAREHOUSE``, ``ETL_LAKE_DATA``,
``ETL_MEMORY_LIMIT``), and ``--db`` wins over both: a team commits the table with its registry, an operator
overrides it for one run. No passwords here: libpq reads them from ``PGPASSWORD`` or ``~/.pgpass``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from etl.fetch.registry import SourceConfigError, check_table, registry_table

# DuckDB's size syntax: a number and a unit (it also takes bare bytes, which nobody means in a config)
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*(kb|mb|gb|tb|kib|mib|gib|tib)$", re.IGNORECASE)
_UNIT = {"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
# a floor against a unit slip: DuckDB refuses every scan with an out-of-memory error at a few hundred bytes
# (measured with '100b'), while 64MB still runs every mart over a 5.9M-fact warehouse, spilling
MIN_MEMORY = 64e6
SIZE_RULE = "a size of at least 64MB, such as '2GB'"


def _size_ok(value: object) -> bool:
    m = _SIZE.match(value.strip()) if isinstance(value, str) else None
    return m is not None and float(m.group(1)) * _UNIT[m.group(2).lower()] >= MIN_MEMORY


_FIELDS = {
    "target": (lambda v: isinstance(v, str) and v.strip() != "", "a DuckDB file path or a ducklake: target"),
    "data_path": (lambda v: isinstance(v, str) and v.strip() != "", "a directory path"),
    "memory_limit": (_size_ok, SIZE_RULE),
}
# field → the environment variable that overrides it, and that every later stage reads
ENV = {"target": "ETL_WAREHOUSE", "data_path": "ETL_LAKE_DATA", "memory_limit": "ETL_MEMORY_LIMIT"}


@dataclass(frozen=True)
class WarehouseConfig:
    target: str | None = None
    data_path: str | None = None
    memory_limit: str | None = None


def load_warehouse_config(registry: Path) -> WarehouseConfig:
    """The registry's ``[warehouse]`` table (the first found, as for ``[fetch]``), else nothing configured.
    A registry that does not exist configures nothing (commands that need sources say so themselves)."""
    if not registry.exists():
        return WarehouseConfig()
    found = registry_table(registry, "warehouse")
    if found is None:
        return WarehouseConfig()
    f, table = found
    check_table(f, "warehouse", table, _FIELDS)
    return WarehouseConfig(**{k: v.strip() for k, v in table.items()})


def use_registry(registry: Path) -> WarehouseConfig:
    """Make the registry's ``[warehouse]`` settings this process's defaults, under any environment variable
    already set: connections, Prefect tasks and spawned workers all read the environment, so a setting given
    once reaches every stage of the run. Returns the table as read."""
    cfg = load_warehouse_config(registry)
    for name, var in ENV.items():
        value = getattr(cfg, name)
        if value is not None and not os.environ.get(var):
            os.environ[var] = value
    return cfg


def memory_limit() -> str | None:
    """The configured DuckDB budget per connection (``ETL_MEMORY_LIMIT``), checked; None means DuckDB's default
    (80% of RAM)."""
    value = os.environ.get("ETL_MEMORY_LIMIT", "").strip()
    if not value:
        return None
    if not _size_ok(value):
        raise SourceConfigError(f"ETL_MEMORY_LIMIT={value!r}: expected {SIZE_RULE}")
    return value
