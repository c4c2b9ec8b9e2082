"""Flow commands run as a user runs them: a fresh process, from a directory other than the checkout."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys

import pytest

from tests.helpers import cli_env


@pytest.mark.skipif(importlib.util.find_spec("prefect_dask") is None, reason="needs the dask extra")
def test_etl_run_on_a_local_dask_cluster_from_another_directory(tmp_path, demo_sources):
    """Dask pickles the flow's tasks by reference (flows.nightly.ingest): the command must make that module
    importable wherever it is run from, not only from the checkout."""
    env = cli_env(tmp_path)
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    res = subprocess.run(
        [sys.executable, "-m", "etl.cli", "run", "--sources", str(demo_sources), "--dask", "local"],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    totals = re.search(r"^TOTAL\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)", res.stdout, re.M)
    assert totals, res.stdout
    discovered, fetched, _, _, failed, parsed, facts = map(int, totals.groups())
    assert discovered == fetched == 24 and failed == 0 and parsed == 28 and facts > 50
    assert "阜阳市" in res.stdout
    home = tmp_path / "home"
    # the run ends by saying where its results are
    assert f"warehouse  {home / 'warehouse.duckdb'}" in res.stdout
    assert f"report     {home / 'report' / 'index.html'}" in res.stdout
    assert f"prefect    {home / 'prefect'}" in res.stdout
    assert "distributed.scheduler" not in res.stderr  # Dask's start-up chatter stays out of the output


def test_etl_run_against_a_dead_site_exits_3_and_names_it(tmp_path):
    from tests.helpers import dead_site_registry

    reg = dead_site_registry(tmp_path)
    env = cli_env(tmp_path)
    res = subprocess.run(
        [sys.executable, "-m", "etl.cli", "run", "--sources", str(reg)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert res.returncode == 3, res.stderr[-3000:]
    assert "etl: FAILED: dead" in res.stderr
    assert re.search(r"^dead\s.*\sfailed\s*$", res.stdout, re.M), res.stdout
