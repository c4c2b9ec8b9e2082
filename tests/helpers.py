"""Builders for batches with known rows."""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

from etl.demo.synthetic import batch_of
from etl.models import Bulletin, Fact, SourceBatch, bulletin_id


def bulletin(source: str, path: str, published: date, text: str = "正文", idx: int = 0) -> Bulletin:
    url = f"http://bureau.test{path}"
    return Bulletin(
        bulletin_id=bulletin_id(source, url, idx),
        source_id=source,
        url=url,
        title=path,
        published=published,
        text=text,
        issuer_region=None,
        article_index=idx,
        content_hash="h" + path,
        fetched_at=datetime(2025, 1, 1, tzinfo=UTC),
    )


def fact(
    b: Bulletin,
    indicator: str,
    region: str,
    value: float,
    unit: str,
    qualifier: str = "exact",
    span: int = 0,
    change: str = "level",
) -> Fact:
    return Fact(
        bulletin_id=b.bulletin_id,
        indicator=indicator,
        region_code=region,
        region_name="",
        value=value,
        unit=unit,
        qualifier=qualifier,
        change=change,
        evidence=f"{indicator} {value}",
        span_start=span,
        span_end=span + 5,
        region_basis="clause",
    )


def batch(source: str, bulletins: list[Bulletin], facts: list[Fact]) -> SourceBatch:
    return batch_of(source, bulletins, facts)


def dead_site_registry(tmp_path: Path) -> Path:
    """A registry folder with one source ``dead`` whose site is down: a 127.0.0.1 port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    reg = tmp_path / "sources"
    reg.mkdir()
    (reg / "dead.toml").write_text(
        "[fetch]\ntimeout = 0.5\nretries = 0\n"
        "[[source]]\n"
        'id = "dead"\nname = "停机民政局"\nkind = "html_list"\nregion = "341200"\n'
        f'list_url = "http://127.0.0.1:{port}/list.html"\nitem_selector = "ul li"\n'
        "[source.politeness]\nconcurrency = 1\ndelay = 0.0\n",
        encoding="utf-8",
    )
    return reg


def cli_env(tmp_path: Path) -> dict[str, str]:
    """The environment of an ``etl`` command run as a user runs it: its own home, no Prefect server set. The
    home holds a Prefect database already created and migrated, as every run after a machine's first finds it
    (tests/orchestration/test_prefect_server.py starts from an empty home): migrating a new one costs each
    command's temporary server ~8 s."""
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    home = tmp_path / "home" / "prefect"
    if not home.exists():
        seed_prefect_home(home)
    return env | {"ETL_HOME": str(tmp_path / "home"), "PREFECT_HOME": str(home)}


def seed_prefect_home(home: Path) -> None:
    """Make ``home`` a PREFECT_HOME holding a created and migrated Prefect database."""
    home.mkdir(parents=True, exist_ok=True)
    for f in _migrated_prefect_home().iterdir():
        shutil.copy2(f, home / f.name)


@functools.cache
def _migrated_prefect_home() -> Path:
    """A PREFECT_HOME whose database Prefect's temporary server created and migrated, once per test session."""
    home = Path(tempfile.mkdtemp(prefix="etl-test-prefect-db-"))
    atexit.register(shutil.rmtree, home, ignore_errors=True)
    code = (
        "from etl.settings import configure_prefect_env\nconfigure_prefect_env()\n"
        "from etl.orchestration.server import TemporaryServer\n"
        "s = TemporaryServer()\ns.start()\ns.wait_ready()\ns.stop()"
    )
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"} | {"PREFECT_HOME": str(home)}
    subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True)
    if not (home / "prefect.db").is_file():
        raise RuntimeError(f"Prefect's temporary server left no database in {home}")
    return home
