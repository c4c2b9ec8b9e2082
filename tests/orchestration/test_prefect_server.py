"""Prefect's temporary server started by the command line (etl.prefect_server): when it is started, that it
serves Prefect's API, and that no server outlives its command."""

from __future__ import annotations

import http.client
import json
import os
import re
import select
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from etl.orchestration.server import TemporaryServer, configured_api_url

ROOT = Path(__file__).resolve().parents[2]

# (name, environment, files in the working directory, files in PREFECT_HOME)
CASES = [
    ("nothing configured", {}, {}, {}),
    ("environment", {"PREFECT_API_URL": "http://10.0.0.1:4200/api"}, {}, {}),
    (".env", {}, {".env": "PREFECT_API_URL=http://10.0.0.2:4200/api\n"}, {}),
    ("prefect.toml", {}, {"prefect.toml": '[api]\nurl = "http://10.0.0.3:4200/api"\n'}, {}),
    (
        "pyproject.toml",
        {},
        {"pyproject.toml": '[tool.prefect.api]\nurl = "http://10.0.0.4:4200/api"\n'},
        {},
    ),
    (
        "active profile",
        {},
        {},
        {
            "profiles.toml": 'active = "office"\n[profiles.office]\n'
            'PREFECT_API_URL = "http://10.0.0.5:4200/api"\n'
        },
    ),
    # with no profiles file Prefect uses its built-in default profile, whatever PREFECT_PROFILE says
    ("PREFECT_PROFILE without a profiles file", {"PREFECT_PROFILE": "local"}, {}, {}),
    (
        "PREFECT_PROFILE naming a profile of the file",
        {"PREFECT_PROFILE": "office"},
        {},
        {
            "profiles.toml": 'active = "quiet"\n[profiles.quiet]\n[profiles.office]\n'
            'PREFECT_API_URL = "http://10.0.0.6:4200/api"\n'
        },
    ),
    (
        "a profile file whose active profile has no URL",
        {},
        {},
        {"profiles.toml": 'active = "quiet"\n[profiles.quiet]\nPREFECT_LOGGING_LEVEL = "ERROR"\n'},
    ),
]


def test_the_api_url_is_read_as_prefect_reads_it(tmp_path):
    """Each case is resolved by Prefect itself (its Settings, in a fresh process) and by configured_api_url,
    which decides whether the command starts a server: they must agree, or a user's server would be ignored."""
    dirs = []
    for i, (_, env, cwd_files, home_files) in enumerate(CASES):
        cwd, home = tmp_path / f"cwd{i}", tmp_path / f"home{i}"
        for d, files in ((cwd, cwd_files), (home, home_files)):
            d.mkdir()
            for name, text in files.items():
                (d / name).write_text(text, encoding="utf-8")
        dirs.append({"cwd": str(cwd), "env": {**env, "PREFECT_HOME": str(home)}})
    probe = textwrap.dedent(
        """
        import json, os, sys
        from prefect.settings import Settings
        out = []
        base = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
        for case in json.loads(sys.stdin.read()):
            os.chdir(case["cwd"])
            os.environ.clear()
            os.environ.update({**base, **case["env"]})
            out.append(Settings().api.url)
        print(json.dumps(out))
        """
    )
    res = subprocess.run(
        [sys.executable, "-c", probe], input=json.dumps(dirs), capture_output=True, text=True, timeout=120
    )
    assert res.returncode == 0, res.stderr
    prefect_says = json.loads(res.stdout.strip().splitlines()[-1])
    ours = [configured_api_url(Path(d["cwd"]), d["env"]) for d in dirs]
    assert ours == prefect_says, list(zip([c[0] for c in CASES], ours, prefect_says, strict=True))
    assert prefect_says[0] is None and prefect_says[7] == "http://10.0.0.6:4200/api"


def _get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def _closed(port: int) -> bool:
    try:
        _get(port, "/api/health")
    except ConnectionRefusedError:
        return True
    return False


def test_temporary_server_serves_prefect_and_stops(tmp_path, monkeypatch):
    import prefect

    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect"))
    server = TemporaryServer()
    server.start()
    try:
        server.wait_ready()
        status, body = _get(server.port, "/api/admin/version")
        assert status == 200 and json.loads(body) == prefect.__version__
    finally:
        proc = server.process
        server.stop()
    assert proc is not None and proc.returncode is not None
    assert _closed(server.port)
    assert (tmp_path / "prefect" / "prefect.db").is_file()  # its database lives in PREFECT_HOME


@pytest.mark.skipif(sys.platform != "linux", reason="parent-death signal is Linux-only")
def test_server_does_not_outlive_a_killed_command(tmp_path):
    """SIGKILL leaves no chance to clean up: the kernel's parent-death signal still stops the server."""
    script = textwrap.dedent(
        """
        import sys
        from etl.orchestration.server import TemporaryServer
        s = TemporaryServer()
        s.start()
        print(s.process.pid, flush=True)
        sys.stdin.read()
        """
    )
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect")}
    parent = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
    )
    server_pid = int(parent.stdout.readline())
    pidfd = os.pidfd_open(server_pid)
    try:
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=30)
        readable, _, _ = select.select([pidfd], [], [], 60)  # a pidfd turns readable when its process exits
        assert readable, f"server {server_pid} still running 60 s after its parent was killed"
    finally:
        os.close(pidfd)
        parent.stdin.close()
        parent.stdout.close()


def test_etl_run_starts_one_server_and_leaves_none(tmp_path, demo_sources):
    """The command line path end to end, in a fresh process with no Prefect API configured."""
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env |= {"ETL_HOME": str(tmp_path / "home"), "PREFECT_HOME": str(tmp_path / "home" / "prefect")}
    db = tmp_path / "w.duckdb"
    cmd = [sys.executable, "-m", "etl.cli", "run", "--sources", str(demo_sources), "--db", str(db)]
    first = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert first.returncode == 0, first.stderr[-3000:]
    ports = re.findall(r"temporary API server on http://127\.0\.0\.1:(\d+)", first.stderr)
    assert len(ports) == 1, first.stderr[-3000:]
    assert "阜阳市" in first.stdout and "Run summary" in first.stdout
    assert _closed(int(ports[0]))
    assert not _processes_with(f"--port {ports[0]}")

    again = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    # a night in which nothing changed: every discovered page answered 304
    totals = re.search(r"^TOTAL\s+(\d+)\s+(\d+)\s+(\d+)", again.stdout, re.M)
    assert totals, again.stdout
    discovered, fetched, not_modified = map(int, totals.groups())
    assert discovered == not_modified > 0 and fetched == 0
    assert len(re.findall(r"temporary API server on", again.stderr)) == 1

    # Prefect recorded both runs, every task run and the summary artifact in its database under PREFECT_HOME
    con = sqlite3.connect(tmp_path / "home" / "prefect" / "prefect.db")
    try:
        flows = con.execute("select state_type from flow_run").fetchall()
        tasks = dict(con.execute("select state_type, count(*) from task_run group by 1").fetchall())
        artifacts = con.execute("select count(*) from artifact where key = 'nightly-run-summary'").fetchone()
    finally:
        con.close()
    assert flows == [("COMPLETED",), ("COMPLETED",)]
    assert set(tasks) == {"COMPLETED"} and tasks["COMPLETED"] >= 2 * (8 + 1 + 1)  # ingest x8, load, views
    assert artifacts == (2,)


def _processes_with(fragment: str) -> list[str]:
    found = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                cmdline = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if fragment in cmdline:
                found.append(cmdline)
    return found
