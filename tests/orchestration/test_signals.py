"""SIGTERM and SIGINT end a fetching run promptly, in a real process, loading nothing half-done (issue 12); a
signalled re-parse keeps the sources it finished, and the same command goes on after them."""

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


def test_a_signalled_reparse_keeps_the_sources_it_finished_and_the_same_command_goes_on(tmp_path):
    import os
    import threading

    from etl.fetch.rawzone import RawZone
    from etl.warehouse.database import connect
    from tests.orchestration.test_reparse_pool import FACTS, RECORDED, _loaded

    db, raw = tmp_path / "w.duckdb", RawZone(tmp_path / "raw")
    con, srcs = _loaded(tmp_path)
    before = con.execute(FACTS).fetchall()
    # the last source's first stored page becomes a pipe: the re-parse's worker blocks reading it, which it
    # reaches only after the writer has loaded (and recorded) the first source: one worker, chunks in order
    (digest,) = con.execute(
        "select content_hash from raw_page where source_id = ? order by url_key limit 1", [srcs[-1].id]
    ).fetchone()
    con.close()
    path = tmp_path / "raw" / raw.relpath(digest)
    body = path.read_bytes()
    path.chmod(0o644)
    path.unlink()
    os.mkfifo(path)
    reg = tmp_path / "sources.toml"
    reg.write_text(
        "".join(
            f'[[source]]\nid = "{s.id}"\nname = "{s.name}"\nregion = "{s.region}"\nlist_url = "{s.list_url}"\n'
            'since = "2024-01-01"\n\n'
            for s in srcs
        ),
        encoding="utf-8",
    )
    # a chunk per source (7 pages each), or the 35 pages would be one chunk
    cmd = [sys.executable, "-m", "etl.cli", "backfill", "--reparse", "--workers", "1", "--chunk-pages", "7",
           "--sources", str(reg), "--db", str(db), "--start", "2024-01-01", "--end", "2024-12-31"]  # fmt: skip
    proc = subprocess.Popen(
        cmd, env=cli_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    opened: list[int] = []
    opener = threading.Thread(target=lambda: opened.append(os.open(path, os.O_WRONLY)), daemon=True)
    opener.start()  # returns once the worker opens the pipe to read it
    try:
        opener.join(180)
        assert opened, "the re-parse never reached the last source"
        proc.send_signal(signal.SIGTERM)
        os.close(opened[0])  # the worker reads an empty page: corrupt, never done
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + signal.SIGTERM, err[-2000:]
    assert "goes on after the partitions it recorded" in err
    con = connect(db, read_only=True)
    try:
        # pages re-read per source in partitions recorded done (months with no stored page are recorded done
        # before any work, so a source is finished when all 7 of its pages are)
        done = dict(
            con.execute(
                "select source_id, sum(pages) from backfill_partition where mode = 'reparse' and status = 'done' "
                "group by 1"
            ).fetchall()
        )
    finally:
        con.close()
    assert done[srcs[0].id] == 7 and done[srcs[-1].id] == 0, err[-2000:]
    finished = sum(1 for n in done.values() if n == 7)
    assert set(done.values()) <= {0, 7}  # a source is recorded whole or not at all

    path.unlink()
    path.write_bytes(body)
    again = subprocess.run(cmd, env=cli_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    # only the sources the stopped run had not finished, 7 pages each
    assert f"reparse: {7 * (len(srcs) - finished)} pages" in again.stdout
    con = connect(db, read_only=True)
    try:
        assert con.execute(FACTS).fetchall() == before  # nothing lost, nothing doubled
        assert con.execute(RECORDED).fetchone() == (12 * len(srcs),)
    finally:
        con.close()
