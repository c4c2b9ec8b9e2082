"""A re-parse worker killed under a page (the out-of-memory killer's SIGKILL, a crash in native code) costs that
page alone: the chunks in flight are read again, the page that kills its worker is found and failed, named, with
its loaded facts kept, and the run goes on; the next run reads it again."""

from __future__ import annotations

import os
import signal
import threading
import time
from datetime import date
from pathlib import Path
from types import SimpleNamespace

from etl.fetch.rawzone import RawZone
from etl.models import Window
from etl.orchestration.backfill import by_source, plan
from etl.orchestration.chunk_pool import how_it_died
from etl.orchestration.reparse_pool import reparse_window
from tests.orchestration.test_reparse_pool import FACTS, _loaded


def _holder_of(path: Path) -> int | None:
    """The other process that has ``path`` open (the worker reading the pipe), from /proc."""
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        if fd_dir.parent.name == str(os.getpid()):
            continue
        try:
            for fd in fd_dir.iterdir():
                if os.readlink(fd) == str(path):
                    return int(fd_dir.parent.name)
        except OSError:  # a process that ended, or one that is not ours to look into
            continue
    return None


class Killer:
    """Kills, with SIGKILL, every process that opens the pipe at ``path`` to read it: a page whose every reading
    kills its worker. No sleep: opening a pipe to write returns when a reader has opened it."""

    def __init__(self, path: Path) -> None:
        self.path, self.killed, self.stopping = path, [], threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            fd = os.open(self.path, os.O_WRONLY)
            try:
                if self.stopping.is_set():  # the reader is this process: stop() opened it
                    return
                # both opens return together; the reader's descriptor shows in /proc a moment later
                deadline = time.monotonic() + 30
                while (pid := _holder_of(self.path)) is None and time.monotonic() < deadline:
                    os.sched_yield()
                assert pid is not None, "a process opened the pipe and closed it unseen"
                os.kill(pid, signal.SIGKILL)
                self.killed.append(pid)
                # a killed process holds its descriptors until the kernel has torn it down: opened again before
                # that, the pipe would find it still there
                while _holder_of(self.path) == pid and time.monotonic() < deadline:
                    os.sched_yield()
            finally:
                os.close(fd)

    def stop(self) -> None:
        """Open the pipe to read here: the thread's open returns, sees it is stopping, and ends."""
        self.stopping.set()
        fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
        self.thread.join(30)
        os.close(fd)
        assert not self.thread.is_alive()


WINDOW = Window(date(2024, 1, 1), date(2024, 12, 31))


def _pipe_for(tmp_path: Path, digest: str) -> tuple[Path, bytes]:
    """The stored body ``digest`` replaced by a named pipe nobody writes: (its path, the body)."""
    path = tmp_path / "raw" / RawZone(tmp_path / "raw").relpath(digest)
    body = path.read_bytes()
    path.chmod(0o644)
    path.unlink()
    os.mkfifo(path)
    return path, body


def _reparse(con, srcs, tmp_path: Path, run_id: str, chunk_pages: int = 7):
    """Every month not done, re-parsed over two workers (a chunk per source at 7 pages: several in flight)."""
    todo, _ = plan(con, [s.id for s in srcs], WINDOW.start, WINDOW.end, "reparse", "missing")
    raw = str(tmp_path / "raw")
    return reparse_window(con, srcs, by_source(todo), raw, WINDOW, run_id, workers=2, chunk_pages=chunk_pages)


def test_a_page_that_kills_its_worker_fails_alone_and_the_run_goes_on(tmp_path, capsys):
    con, srcs = _loaded(tmp_path)
    before = con.execute(FACTS).fetchall()
    # a page of the third source becomes a pipe whose every reader is killed
    url, digest, published = con.execute(
        "select b.url, r.content_hash, b.published from raw_page as r join bulletin as b using (source_id, url_key) "
        "where r.source_id = ? order by r.url_key limit 1 offset 3",
        [srcs[2].id],
    ).fetchone()
    path, body = _pipe_for(tmp_path, digest)
    killer = Killer(path)
    try:
        stats, times = _reparse(con, srcs, tmp_path, "r1")
    finally:
        killer.stop()
    # killed three times: in the pool, reading its chunk alone, reading itself alone
    assert len(killer.killed) == 3
    out = capsys.readouterr().out
    assert "reparse: a worker process was killed by SIGKILL (what the out-of-memory killer sends)" in out
    assert "chunks in flight are read again one at a time" in out
    assert f"reparse: {url}: the worker reading it was killed by SIGKILL" in out
    by_id = {s.source_id: s for s in stats}
    assert [(sid, s.failed) for sid, s in sorted(by_id.items()) if s.failed] == [
        (f"{srcs[2].id} (reparse)", 1)
    ]
    failure = by_id[f"{srcs[2].id} (reparse)"].failures[0]
    assert failure.url == url and failure.reason.startswith(
        "the re-parse's worker process reading it was killed"
    )
    assert times.pages == 35 and sum(s.fetched for s in stats) == 34
    # the page keeps what the warehouse held for it; every other page was read again, nothing doubled
    assert con.execute(FACTS).fetchall() == before
    month = f"{published:%Y-%m}"
    status = con.execute(
        "select partition, status, error from backfill_partition where mode = 'reparse' and source_id = ? "
        "and status <> 'done'",
        [srcs[2].id],
    ).fetchall()
    assert [(m, s) for m, s, _ in status] == [(month, "failed")] and url in status[0][2]
    assert con.execute(
        "select count(*) from backfill_partition where mode = 'reparse' and status = 'done'"
    ).fetchone() == (59,)
    assert con.execute("select reason from quarantine where check_name = 'worker_died'").fetchall() == [
        (f"{url}: {failure.reason}",)
    ]

    # the page is readable again: the next run reads the failed month only, and all is done
    path.unlink()
    path.write_bytes(body)
    todo, skipped = plan(con, [s.id for s in srcs], WINDOW.start, WINDOW.end, "reparse", "missing")
    assert [p.name for p in todo] == [f"{srcs[2].id} {month}"] and len(skipped) == 59
    stats, _ = _reparse(con, srcs, tmp_path, "r2")
    assert sum(s.failed for s in stats) == 0 and sum(s.fetched for s in stats) >= 1
    assert con.execute(FACTS).fetchall() == before
    assert con.execute("select count(*) from quarantine where check_name = 'worker_died'").fetchone() == (0,)
    assert con.execute(
        "select count(*) from backfill_partition where mode = 'reparse' and status = 'done'"
    ).fetchone() == (60,)


def test_a_page_its_worker_cannot_finish_is_ended_and_fails_alone(tmp_path, monkeypatch, capsys):
    """A page stuck where Python cannot interrupt it (here, a pipe nobody writes: native code looping is the
    real case) ends its worker at ETL_REPARSE_PAGE_SECONDS and is found like a page that crashes it."""
    monkeypatch.setenv("ETL_REPARSE_PAGE_SECONDS", "1")
    con, srcs = _loaded(tmp_path)
    before = con.execute(FACTS).fetchall()
    url, digest = con.execute(
        "select url, content_hash from raw_page where source_id = ? order by url_key limit 1", [srcs[1].id]
    ).fetchone()
    _pipe_for(tmp_path, digest)
    stats, times = _reparse(con, srcs, tmp_path, "r1")
    out = capsys.readouterr().out
    assert f"reparse: {url}: the worker reading it was killed by SIGALRM (a page took longer than" in out
    failures = [f for s in stats for f in s.failures]
    assert [f.url for f in failures] == [url] and "SIGALRM" in failures[0].reason
    assert times.pages == 35 and sum(s.fetched for s in stats) == 34
    assert con.execute(FACTS).fetchall() == before


def test_the_time_a_page_may_take_is_a_number_of_seconds(monkeypatch):
    import pytest

    from etl.settings import REPARSE_PAGE_SECONDS, reparse_page_seconds

    monkeypatch.delenv("ETL_REPARSE_PAGE_SECONDS", raising=False)
    assert reparse_page_seconds() == REPARSE_PAGE_SECONDS == 300
    monkeypatch.setenv("ETL_REPARSE_PAGE_SECONDS", "2.5")
    assert reparse_page_seconds() == 2.5
    for bad in ("0", "-3", "soon", "1e9"):
        monkeypatch.setenv("ETL_REPARSE_PAGE_SECONDS", bad)
        with pytest.raises(ValueError, match="ETL_REPARSE_PAGE_SECONDS must be a number of seconds"):
            reparse_page_seconds()


def test_workers_that_die_whatever_they_read_stop_the_run_named(tmp_path):
    """Three pages in a row whose reading kills the worker: not pages at fault but the workers (a broken
    install, a machine out of memory); the run stops saying so instead of paying a new process per page."""
    import pytest

    from etl.orchestration.chunk_pool import FIRST_PROBES, WorkersDie

    con, srcs = _loaded(tmp_path)
    before = con.execute(FACTS).fetchall()
    digests = con.execute(
        "select content_hash from raw_page where source_id = ? order by url_key limit ?",
        [srcs[0].id, FIRST_PROBES],
    ).fetchall()
    # the first source's first chunk is those pages
    killers = [Killer(_pipe_for(tmp_path, d)[0]) for (d,) in digests]
    try:
        with pytest.raises(WorkersDie, match="die whatever page they read: the last was killed by SIGKILL"):
            _reparse(con, srcs, tmp_path, "r1", chunk_pages=FIRST_PROBES)
    finally:
        for k in killers:
            k.stop()
    assert con.execute(FACTS).fetchall() == before
    assert con.execute(
        "select count(*) from backfill_partition where mode = 'reparse' and source_id = ?", [srcs[0].id]
    ).fetchone() == (0,)


def _pool(*exitcodes):
    procs = {i: SimpleNamespace(exitcode=c, join=lambda timeout: None) for i, c in enumerate(exitcodes)}
    return SimpleNamespace(_processes=procs)


def test_how_a_worker_died_is_named_from_its_exit_code(monkeypatch):
    import etl.orchestration.chunk_pool as chunk_pool

    monkeypatch.setattr(chunk_pool, "JOIN_SECONDS", 0)  # a process whose code never comes is not waited for
    # the executor ends the survivors with SIGTERM: the other code is the cause
    assert how_it_died(_pool(-15, -9)) == "was killed by SIGKILL (what the out-of-memory killer sends)"
    assert how_it_died(_pool(-11)) == "was killed by SIGSEGV (a crash in native code)"
    assert how_it_died(_pool(-15)) == "was killed by SIGTERM"
    assert how_it_died(_pool(3)) == "exited with code 3"
    assert how_it_died(_pool(None)) == how_it_died(SimpleNamespace()) == "died"
