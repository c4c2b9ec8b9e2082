"""Shared fixtures. Prefect is configured before it is imported: offline, quiet, its home in a temp dir."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

_PREFECT_HOME = Path(tempfile.mkdtemp(prefix="etl-test-prefect-"))
# one per test session (and per xdist worker): left behind, /tmp collects a Prefect database per run
atexit.register(shutil.rmtree, _PREFECT_HOME, ignore_errors=True)
os.environ["PREFECT_HOME"] = str(_PREFECT_HOME)
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

import pytest  # noqa: E402

from etl.settings import direct_loopback  # noqa: E402

# on a machine behind a proxy, the test servers on 127.0.0.1 (Prefect's harness among them) are reached directly
direct_loopback()


@pytest.fixture(scope="session")
def prefect_harness():
    """A real (temporary, SQLite) Prefect API for flow tests, started once per session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def fast_flow_end(monkeypatch):
    """Skip the ~1.1 s heartbeat-thread join at the end of each flow run (measured in stack-facts)."""
    import prefect.flow_engine

    monkeypatch.setattr(prefect.flow_engine.BaseFlowRunEngine, "heartbeat_seconds", property(lambda s: None))


@pytest.fixture
def demo_sites():
    from etl.demo.server import DemoSites

    with DemoSites() as sites:
        yield sites


@pytest.fixture
def demo_sources(tmp_path, demo_sites) -> Path:
    d = tmp_path / "sources"
    d.mkdir()
    (d / "demo.toml").write_text(demo_sites.sources_toml(), encoding="utf-8")
    return d
