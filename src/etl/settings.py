"""Where things live, and the environment Prefect needs to run offline and quietly.

Defaults (all relative to the working directory, overridable):
- data directory ``./data`` (``ETL_HOME``): warehouse ``warehouse.duckdb``, raw zone ``raw/``, Prefect's home
  ``prefect/`` (ephemeral API database and logs, kept out of ``~/.prefect``).
- ``--db PATH`` on every command overrides the warehouse file.
"""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    return Path(os.environ.get("ETL_HOME", "data")).resolve()


def default_db() -> Path:
    """``ETL_WAREHOUSE`` (a file, or a ``ducklake:`` target) or ``warehouse.duckdb`` in the data directory. A
    relative file is taken from the working directory, as ``--db`` is, and made absolute: a run handed to a
    deployment's worker elsewhere must name the same file."""
    target = os.environ.get("ETL_WAREHOUSE")
    if not target:
        return data_dir() / "warehouse.duckdb"
    return Path(target) if is_lake(target) else Path(target).resolve()


def is_lake(db: Path | str) -> bool:
    """A ``ducklake:`` warehouse target rather than a DuckDB file (see ``etl.warehouse.lake``)."""
    return str(db).startswith("ducklake:")


def raw_dir_for(db: Path) -> Path:
    """The raw zone sits beside its warehouse, so a warehouse and the pages it came from travel together (a
    DuckLake's in the data directory, ``ETL_HOME``)."""
    return data_dir() / "raw" if is_lake(db) else db.parent / "raw"


def report_dir_for(db: Path) -> Path:
    """The HTML report the nightly run writes, beside its warehouse."""
    return data_dir() / "report" if is_lake(db) else db.parent / "report"


def prefect_home() -> Path:
    return Path(os.environ.get("PREFECT_HOME", data_dir() / "prefect"))


def configure_prefect_env() -> None:
    """Offline, quiet Prefect in ephemeral mode unless the user configured otherwise. Call before importing
    prefect (its settings are read at import)."""
    home = prefect_home()
    home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_HOME", str(home))
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_UI_ENABLED", "false")
    direct_loopback()


_PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def direct_loopback(environ: dict[str, str] | None = None) -> None:
    """With a proxy configured, add this machine's addresses to NO_PROXY: Prefect's client talks to the
    temporary API server on 127.0.0.1, which the proxy cannot reach (every command would fail at its first API
    call behind an office's proxy)."""
    env = os.environ if environ is None else environ
    if not any(env.get(v) for v in _PROXY_VARS):
        return
    for var in ("NO_PROXY", "no_proxy"):
        have = [h.strip() for h in env.get(var, "").split(",") if h.strip()]
        if "*" in have:
            continue
        env[var] = ",".join(have + [h for h in _LOOPBACK if h not in have])


# Seconds a re-parse worker may spend on one stored page before the kernel ends it: the run then fails that page
# alone, as it does one that crashes its worker. Pages take milliseconds; a long PDF seconds.
REPARSE_PAGE_SECONDS = 300.0


def reparse_page_seconds() -> float:
    """``ETL_REPARSE_PAGE_SECONDS``, else :data:`REPARSE_PAGE_SECONDS`."""
    raw = os.environ.get("ETL_REPARSE_PAGE_SECONDS")
    if raw is None:
        return REPARSE_PAGE_SECONDS
    try:
        seconds = float(raw)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < 86_400:
        raise ValueError(f"ETL_REPARSE_PAGE_SECONDS must be a number of seconds in (0, 86400), got {raw!r}")
    return seconds
