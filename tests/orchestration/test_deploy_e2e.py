"""End to end on a real Prefect server: deploy from prefect.yaml, a process worker, the backfill deployment
with parameters against the demo bureau sites, then nightly while a backfill runs. Every process started here
is stopped at the end."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from etl.warehouse.database import connect
from tests.helpers import seed_prefect_home

ROOT = Path(__file__).resolve().parents[2]
PREFECT = str(Path(sys.executable).parent / "prefect")
pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Proc:
    """A long-running child in its own process group, its output drained by a thread (a full pipe would
    block it) and readable for a readiness line."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path):
        self.lines: list[str] = []
        self.ready = threading.Event()
        self.marker = ""
        self.p = subprocess.Popen(
            args,
            env=env,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.t = threading.Thread(target=self._drain, daemon=True)
        self.t.start()

    def _drain(self) -> None:
        for line in self.p.stdout:
            self.lines.append(line)
            if self.marker and self.marker in line:
                self.ready.set()
        self.ready.set()  # the process ended: wake any waiter

    def wait_for(self, marker: str, timeout: float) -> None:
        self.marker = marker
        if any(marker in line for line in self.lines):
            return
        assert self.ready.wait(timeout), f"no {marker!r} within {timeout}s:\n{''.join(self.lines[-30:])}"
        assert self.p.poll() is None, f"process ended:\n{''.join(self.lines[-30:])}"

    def stop(self) -> None:
        if self.p.poll() is None:
            os.killpg(self.p.pid, signal.SIGTERM)
            try:
                self.p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.p.pid, signal.SIGKILL)
                self.p.wait()


@pytest.fixture
def stack(tmp_path, demo_sources):
    base = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    base.update({"DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"})
    port = free_port()
    # the server's database already created and migrated, as a team's server has it after its first start
    seed_prefect_home(tmp_path / "server-home")
    server_env = {
        **base,
        "PREFECT_HOME": str(tmp_path / "server-home"),
        "PREFECT_SERVER_LOGGING_LEVEL": "INFO",
    }
    server = Proc(
        [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port), "--no-ui"],
        server_env,
        tmp_path,
    )
    procs = [server]
    try:
        server.wait_for("Uvicorn running on", 120)
        env = {
            **base,
            "PREFECT_HOME": str(tmp_path / "client-home"),
            "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
            "ETL_CHECKOUT": str(ROOT),
            "ETL_HOME": str(tmp_path / "data"),
            "PREFECT_LOGGING_LEVEL": "INFO",
        }

        def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
            res = subprocess.run(
                [PREFECT, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout
            )
            assert res.returncode == 0, f"prefect {' '.join(args)}:\n{res.stdout}\n{res.stderr}"
            return res

        cli("work-pool", "create", "etl-pool", "--type", "process")
        cli("gcl", "create", "duckdb-writer", "--limit", "1")
        deployed = cli("--no-prompt", "deploy", "--all")
        assert "nightly/nightly" in deployed.stdout and "backfill/backfill" in deployed.stdout
        # the worker asks for work every second (default 10 s): the test should not wait on polling intervals
        worker = Proc(
            [PREFECT, "worker", "start", "--pool", "etl-pool"],
            {**env, "PREFECT_WORKER_QUERY_SECONDS": "1"},
            ROOT,
        )
        procs.append(worker)
        worker.wait_for("started", 120)
        yield env, tmp_path / "w.duckdb", demo_sources
    finally:
        for p in reversed(procs):
            p.stop()


def run_deployment(env, name: str, *params: str) -> subprocess.Popen:
    args = [PREFECT, "deployment", "run", name, "--watch", "--watch-interval", "1"]
    for p in params:
        args += ["-p", p]
    return subprocess.Popen(
        args, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def finished(proc: subprocess.Popen, timeout: float = 150) -> str:
    out, _ = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, out
    assert "Completed" in out, out
    return out


def warehouse_state(db: Path) -> tuple[int, int, int, list]:
    con = connect(db, lock_timeout=60, read_only=True)
    try:
        facts = con.execute("select count(*) from fact").fetchone()[0]
        dupes = con.execute(
            "select count(*) from (select bulletin_id, indicator, region_code, value from fact group by all "
            "having count(*) > 1)"
        ).fetchone()[0]
        bulletins = con.execute("select count(*) from bulletin").fetchone()[0]
        unreconciled = con.execute(
            "select source_id, partition from load_audit where discovered <> fetched + not_modified + skipped + failed"
        ).fetchall()
    finally:
        con.close()
    return facts, dupes, bulletins, unreconciled


def test_backfill_deployment_then_nightly_beside_a_backfill(stack):
    env, db, registry = stack
    common = (f"registry={registry}", f"db={db}")
    # the first backfill goes through `etl backfill --deployment`, which passes its parameters through
    etl = subprocess.run(
        [
            sys.executable,
            "-m",
            "etl.cli",
            "backfill",
            "--deployment",
            "backfill",
            "--start",
            "2024-01-01",
            "--end",
            "2024-12-31",
            "--sources",
            str(registry),
            "--db",
            str(db),
        ],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=150,
    )
    assert etl.returncode == 0, etl.stdout + etl.stderr
    assert "Completed" in etl.stdout
    facts, dupes, bulletins, unreconciled = warehouse_state(db)
    assert bulletins == 12 and facts > 30 and dupes == 0 and unreconciled == []  # the 2024 bulletins only

    # nightly (everything since the sources' start) while a backfill re-does 2024: both finish, nothing doubles
    back = run_deployment(
        env, "backfill/backfill", "start=2024-01-01", "end=2024-12-31", "reprocess=all", *common
    )
    night = run_deployment(env, "nightly/nightly", *common)
    finished(back)
    night_out = finished(night)
    facts2, dupes2, bulletins2, unreconciled2 = warehouse_state(db)
    assert (bulletins2, dupes2, unreconciled2) == (28, 0, []), night_out
    assert facts2 > facts
