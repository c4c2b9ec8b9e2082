"""The re-parse's worker processes, and what happens when one dies under a page.

A worker can die reading a page: a crash in native code (the HTML parser's, a PDF library's), the kernel's
out-of-memory killer, or its own time limit (a page stuck in native code cannot be interrupted, only ended: the
kernel ends a worker that spends ``ETL_REPARSE_PAGE_SECONDS`` on one page). The executor then fails every chunk in flight. Raised, that ended the whole re-parse with a
traceback; and since every later run met the same page at the same place, a re-parse of every bureau's ten years
could never get past it. Now the chunks that were in flight are run again, one at a time, each alone in a worker
of its own. A chunk that comes back was not the cause (another chunk's page was, or memory was short for a
moment). A chunk that kills its worker alone too is read a page at a time, to find the pages that do, and then
read again without them: those fail, named with how their worker died, and keep what the warehouse holds for
them (their months are recorded failed, so the next run tries them again). A chunk that dies with no page dying
alone fails whole, unread. Then the run goes on with a new pool.
"""

from __future__ import annotations

import multiprocessing
import signal
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

from etl.models import Source, Window
from etl.orchestration.backfill import Partition
from etl.orchestration.reparse_worker import ChunkResult, reparse_pieces

Pieces = list[tuple[Source, list[tuple], list[Partition]]]  # a chunk as a worker takes it
C = TypeVar("C")
# Pages of a dying chunk read alone before concluding that the worker, not a page, is at fault: each death costs
# a new process (~1-2 s), and a worker that dies whatever it reads would cost that for every page stored.
FIRST_PROBES = 3
JOIN_SECONDS = 10  # a process that has died is reaped at once; one still ending gets this long


class WorkersDie(RuntimeError):
    """Re-parse workers die whatever they read: the run stops, named, instead of failing every page slowly."""


def how_it_died(pool: ProcessPoolExecutor) -> str:
    """What ended a broken pool's worker, as far as the executor kept it: a signal (SIGKILL is what the
    out-of-memory killer sends, SIGSEGV a crash in native code) or an exit code."""
    # the executor's processes (an implementation detail of concurrent.futures, read only to name the cause); the
    # executor terminates the survivors itself, with SIGTERM
    processes = list((getattr(pool, "_processes", None) or {}).values())
    # the pool notices a death when the process's pipes close, a moment before its exit code can be read; and the
    # executor's own thread reaps it too (whichever thread loses that race reads no code until the other has set
    # it), so the codes are asked for until they are there
    deadline = time.monotonic() + JOIN_SECONDS
    while any(p.exitcode is None for p in processes) and time.monotonic() < deadline:
        for p in processes:
            p.join(0.05)
    codes = [p.exitcode for p in processes if p.exitcode is not None]
    own = [c for c in codes if c != -signal.SIGTERM] or codes
    if not own:
        return "died"
    code = own[0]
    if code < 0:
        name = signal.Signals(-code).name if -code in signal.valid_signals() else f"signal {-code}"
        why = {
            "SIGKILL": " (what the out-of-memory killer sends)",
            "SIGSEGV": " (a crash in native code)",
            "SIGALRM": " (a page took longer than ETL_REPARSE_PAGE_SECONDS)",
        }.get(name, "")
        return f"was killed by {name}{why}"
    return f"exited with code {code}"


class _Alone:
    """One worker process running one chunk at a time: a death here is that chunk's own. Replaced when it dies."""

    def __init__(self, ctx, raw_root: str, window: Window, page_seconds: float | None) -> None:
        self.ctx, self.raw_root, self.window, self.page_seconds = ctx, raw_root, window, page_seconds
        self.pool: ProcessPoolExecutor | None = None

    def run(
        self, pieces: Pieces, unread: dict[str, str] | None = None
    ) -> tuple[list[ChunkResult] | None, str]:
        """The chunk's results, or None and how its worker died."""
        if self.pool is None:
            self.pool = ProcessPoolExecutor(max_workers=1, mp_context=self.ctx)
        try:
            args = (self.raw_root, self.window, pieces, unread, self.page_seconds)
            return self.pool.submit(reparse_pieces, *args).result(), ""
        except BrokenProcessPool:
            how = how_it_died(self.pool)
            self.close()
            return None, how

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None


def rescue(alone: _Alone, pieces: Pieces, say: Callable[[str], None]) -> list[ChunkResult]:
    """A chunk that was in flight when a worker died, read again alone; if it dies alone too, a page at a time,
    and again without the pages that kill their worker (those fail, named)."""
    results, how = alone.run(pieces)
    if results is not None:
        return results
    deadly: dict[str, str] = {}
    probed = 0
    for source, pages, parts in pieces:
        for page in pages:
            probed += 1
            if alone.run([(source, [page], parts)])[0] is None:
                deadly[page[0]] = f"the re-parse's worker process reading it {how}"
                say(f"reparse: {page[0]}: the worker reading it {how}; failed, its loaded facts kept")
            if probed == len(deadly) == FIRST_PROBES:
                # not a page: a worker that cannot read anything (a broken install, a machine out of memory)
                raise WorkersDie(f"re-parse workers die whatever page they read: the last {how}")
    if deadly:
        results, _ = alone.run(pieces, deadly)
        if results is not None:
            return results
    # it dies, and no page alone makes it die: none of its pages is read here; they fail and keep their facts
    why = f"the re-parse's worker process reading its chunk {how}, and none reading a page of it alone did"
    unread = {page[0]: why for _, pages, _ in pieces for page in pages}
    say(
        f"reparse: the worker reading a chunk of {len(unread)} pages {how}, and none reading one alone: failed"
    )
    return reparse_pieces(alone.raw_root, alone.window, pieces, unread)  # reads nothing: safe in this process


def run_chunks(
    chunks: Iterator[C],
    pieces_of: Callable[[C], Pieces],
    workers: int,
    raw_root: str,
    window: Window,
    say: Callable[[str], None] = print,
    page_seconds: float | None = None,
) -> Iterator[tuple[C, list[ChunkResult]]]:
    """Each chunk with its results, as they come back from ``workers`` processes: one chunk queued behind each
    busy worker, and the next one handed out before the caller loads what came back (otherwise the worker that
    just finished waits idle for the whole load). A chunk is drawn from ``chunks`` when it is handed out. A worker
    spending more than ``page_seconds`` on a page is ended, and the page found like one that crashes it."""
    # spawn, not fork: the flow runs in threads (Prefect, httpx pools), and a forked thread holding a lock
    # deadlocks the child
    ctx = multiprocessing.get_context("spawn")
    alone = _Alone(ctx, raw_root, window, page_seconds)
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx)
    pending: dict[Future, C] = {}
    unsent: list[C] = []  # handed out while the pool was breaking: never ran

    def submit() -> None:
        nxt = unsent.pop(0) if unsent else next(chunks, None)
        if nxt is None:
            return
        try:
            pending[pool.submit(reparse_pieces, raw_root, window, pieces_of(nxt), None, page_seconds)] = nxt
        except BrokenProcessPool:
            unsent.append(nxt)

    def fill() -> None:
        for _ in range(workers + 1):
            submit()

    try:
        fill()
        while pending or unsent:
            died: list[C] = []
            finished = wait(pending, return_when=FIRST_COMPLETED)[0] if pending else set()
            for fut in finished:
                chunk = pending.pop(fut)
                try:
                    results = fut.result()
                except BrokenProcessPool:
                    died.append(chunk)
                    continue
                submit()
                yield chunk, results
            # a chunk died with the pool, or it refused a chunk while nothing in flight could say it broke
            broke = died or (unsent and not pending)
            if not broke:
                continue
            # every chunk in flight went with it: which one killed it is not known
            died += pending.values()
            pending.clear()
            if died:
                how = how_it_died(pool)
                say(
                    f"reparse: a worker process {how}; the {len(died)} chunks in flight are read again one at a "
                    "time"
                )
            pool.shutdown(wait=True, cancel_futures=True)
            for chunk in died:
                yield chunk, rescue(alone, pieces_of(chunk), say)
            alone.close()
            pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx)
            fill()
    finally:
        alone.close()
        pool.shutdown(wait=True, cancel_futures=True)
