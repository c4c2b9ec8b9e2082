"""SIGTERM and SIGINT end a fetching run promptly, in a real process, loading nothing half-done (issue 12)."""

from __future__ import annotations

import signal
import subprocess
import sys

import duckdb
import pytest

from tests.faultserver import FaultServer
from tests.helpers import cli_env


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_ends_a_run_stuck_on_trickling_pages(tmp_path, signum):
    with FaultServer() as server:
        reg = tmp_path / "sources"
        reg.mkdir()
        (reg / "s.toml").write_text(
            "[fetch]\ntimeout = 5\ndeadline = 600\nretries = 0\n"
            "[[source]]\n"
            'id = "slow"\nname = "慢民政局"\nkind = "html_list"\nregion = "341200"\n'
            f'list_url = "{server.base}/trickle/list.html"\nitem_selector = "ul.l li"\nsince = "2024-01-01"\n'
            "[source.politeness]\nconcurrency = 3\ndelay = 0\n",
            encoding="utf-8",
        )
        env = cli_env(tmp_path)
        proc = subprocess.Popen(
            [sys.executable, "-m", "etl.cli", "run", "--sources", str(reg)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            # the run is fetching once the site sees a client on a trickling page (no sleep: an event)
            assert server.trickling.wait(120), "the run never reached the trickling pages"
            proc.send_signal(signum)
            _, err = proc.communicate(
                timeout=30
            )  # the goal is well under 10 s; 30 keeps a slow CI from flaking
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert proc.returncode == 128 + signum, err[-2000:]
    assert f"run cancelled by signal {signum}" in err
    con = duckdb.connect(str(tmp_path / "home" / "warehouse.duckdb"), read_only=True)
    try:
        # nothing half-done: the batch that was fetching loaded nothing, and no page is recorded as fetched
        assert con.execute("select count(*) from bulletin").fetchone()[0] == 0
        assert con.execute("select count(*) from raw_page").fetchone()[0] == 0
    finally:
        con.close()
