"""Backfill planning and partition state: a window split into source x month partitions, each run as a unit,
recorded when done, skipped when done unless asked."""

from __future__ import annotations

import calendar
import contextlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from etl.models import BulletinRef, PageIssue, Source, SourceStats, Window

if TYPE_CHECKING:  # the re-parse workers import this module and need no database nor fetch client
    import duckdb

    from etl.fetch.kinds import Discovery

REPROCESS = ("missing", "failed", "all")
# A backfill's planning reads the key of every stored page of its sources. Under DuckDB's default budget (80% of
# RAM) that took 540-900 MB for a second over 3M stored pages, more than the whole re-parse after it; within this
# budget it spills instead (287 MB at most, 0.7 s).
PLANNING_MEMORY = "128MB"


def bound_planning(con: duckdb.DuckDBPyConnection) -> None:
    """Plan within :data:`PLANNING_MEMORY` whatever the warehouse's configured budget, as the re-parse writer
    loads within its own: the process tree of a backfill stays the same size however many pages are stored."""
    con.execute(f"set memory_limit = '{PLANNING_MEMORY}'")


@dataclass(frozen=True)
class Partition:
    source_id: str
    month: str  # YYYY-MM
    window: Window  # the month clipped to the backfill's window

    @property
    def name(self) -> str:
        return f"{self.source_id} {self.month}"


def months(start: date, end: date) -> list[tuple[str, Window]]:
    """Calendar months touching [start, end], each clipped to it."""
    if end < start:
        raise ValueError(f"backfill window ends ({end}) before it starts ({start})")
    out = []
    y, m = start.year, start.month
    while (y, m) <= (end.year, end.month):
        first = date(y, m, 1)
        last = date(y, m, calendar.monthrange(y, m)[1])
        out.append((f"{y:04d}-{m:02d}", Window(max(first, start), min(last, end))))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def plan(
    con: duckdb.DuckDBPyConnection,
    source_ids: list[str],
    start: date,
    end: date,
    mode: str,
    reprocess: str,
    readers: dict[str, str] | None = None,
) -> tuple[list[Partition], list[Partition]]:
    """(partitions to run, partitions skipped because their state says so). A re-parse month is done for the
    reader that did it only (``readers``: source id → :func:`etl.orchestration.reader.reader_of`): under
    ``missing`` the months an earlier reader did are run again, so that an improved extractor reaches them; a
    fetch month is done once fetched, whatever read it."""
    if reprocess not in REPROCESS:
        raise ValueError(f"reprocess must be one of {', '.join(REPROCESS)}, not {reprocess!r}")
    state = partition_state(con, mode)
    todo, skipped = [], []
    for sid in source_ids:
        for month, window in months(start, end):
            part = Partition(sid, month, window)
            st, by = state.get((sid, month), (None, None))
            done = st == "done" and not _stale(mode, by, readers, sid)
            run = (
                reprocess == "all"
                or (reprocess == "missing" and not done)
                or (reprocess == "failed" and st == "failed")
            )
            (todo if run else skipped).append(part)
    return todo, skipped


def partition_state(
    con: duckdb.DuckDBPyConnection, mode: str
) -> dict[tuple[str, str], tuple[str, str | None]]:
    """(source id, month) → (status, reader) of the partitions of ``mode`` recorded so far."""
    rows = con.execute(
        "select source_id, partition, status, reader from backfill_partition where mode = ?", [mode]
    ).fetchall()
    return {(s, p): (st, reader) for s, p, st, reader in rows}


def _stale(mode: str, reader: str | None, readers: dict[str, str] | None, source_id: str) -> bool:
    return mode == "reparse" and readers is not None and reader != readers.get(source_id)


def read_by_another(
    con: duckdb.DuckDBPyConnection, parts: list[Partition], mode: str, readers: dict[str, str] | None
) -> set[Partition]:
    """Those of ``parts`` recorded done by another reader than the current one (re-parse only): what a dry run
    and the run's summary name as the reason they run again."""
    state = partition_state(con, mode)
    return {
        p
        for p in parts
        if (st := state.get((p.source_id, p.month), (None, None)))[0] == "done"
        and _stale(mode, st[1], readers, p.source_id)
    }


@dataclass(frozen=True)
class PartitionRecord:
    """What a partition ends with: done or failed, with its pages, facts and the errors of a failed one."""

    part: Partition
    status: str  # done | failed
    pages: int = 0
    facts: int = 0
    error: str | None = None
    reader: str | None = None  # :func:`etl.orchestration.reader.reader_of` the partition's source


def record(
    con: duckdb.DuckDBPyConnection,
    part: Partition,
    mode: str,
    status: str,
    run_id: str,
    started: datetime,
    pages: int,
    facts: int,
    error: str | None = None,
    reader: str | None = None,
) -> None:
    record_all(con, [PartitionRecord(part, status, pages, facts, error, reader)], mode, run_id, started)


def record_all(
    con: duckdb.DuckDBPyConnection, records: list[PartitionRecord], mode: str, run_id: str, started: datetime
) -> None:
    """Record partitions in one transaction of two statements, whatever their number: a re-parse of every
    bureau's ten years ends with hundreds of thousands of partitions, and three statements each cost ~2.5 ms
    per partition (3 s of a 100k-page re-parse's 1,200 partitions)."""
    # here, not at the top: the re-parse workers import this module and need no database
    import duckdb

    from etl.warehouse.lake import retry_conflicts

    if not records:
        return
    columns = [list(c) for c in zip(*((r.part.source_id, r.part.month, r.status, r.pages, r.facts, r.error,
                                        r.reader) for r in records), strict=True)]  # fmt: skip
    keys = """select unnest(?::varchar[]) as source_id, unnest(?::varchar[]) as partition"""

    def transaction() -> None:
        con.execute("begin transaction")
        try:
            con.execute(
                f"""delete from backfill_partition as b
                    where b.mode = ? and exists (select 1 from ({keys}) as k
                                                 where k.source_id = b.source_id and k.partition = b.partition)""",
                [mode, columns[0], columns[1]],
            )
            con.execute(
                f"""insert into backfill_partition
                    select k.source_id, k.partition, ?, k.status, ?, ?, ?, k.pages, k.facts, k.error, k.reader
                    from ({keys}, unnest(?::varchar[]) as status, unnest(?::integer[]) as pages,
                                  unnest(?::integer[]) as facts, unnest(?::varchar[]) as error,
                                  unnest(?::varchar[]) as reader) as k""",
                [mode, run_id, started, datetime.now(UTC), *columns],
            )
            con.execute("commit")
        except Exception:
            # a commit that failed (a DuckLake conflict) has already ended the transaction
            with contextlib.suppress(duckdb.Error):
                con.execute("rollback")
            raise

    # on DuckLake, a concurrent backfill may record its own partitions (rows of the same data file) first
    retry_conflicts(transaction)


def month_of(d: date | None, parts: list[Partition]) -> str:
    """The partition month of a publication date; undated pages go to the latest partition."""
    if d is None:
        return parts[-1].month
    return f"{d.year:04d}-{d.month:02d}"


def record_empty(
    con: duckdb.DuckDBPyConnection,
    parts: list[Partition],
    mode: str,
    run_id: str,
    unseen: dict[str, str] | None = None,
    readers: dict[str, str] | None = None,
) -> None:
    """Partitions with nothing to fetch or re-read are done at once, without a task each; but a month of a
    source whose discovery failed (``unseen``: source id → error) is not known to be empty: it is failed, so
    ``--reprocess failed`` (or missing) visits it again. ``readers``: source id → the reader recorded."""
    unseen, readers = unseen or {}, readers or {}
    record_all(
        con,
        [
            PartitionRecord(p, "failed", error=unseen[p.source_id], reader=readers.get(p.source_id))
            if p.source_id in unseen
            else PartitionRecord(p, "done", reader=readers.get(p.source_id))
            for p in parts
        ],
        mode,
        run_id,
        datetime.now(UTC),
    )


def discovery_stats(source_id: str, failures: list[PageIssue], skips: list[PageIssue]) -> SourceStats | None:
    """The run-summary row of a backfill discovery that did not see the whole list (list pages failed, robots
    refused them, a site down), so that the run reports it and fails."""
    if not failures and not skips:
        return None
    faults = list(failures) + list(skips)  # a list page robots.txt refused is one the backfill did not see
    return SourceStats(
        source_id=f"{source_id} (discovery)",
        discovered=len(faults),
        failed=len(faults),
        failures=faults,
    )


@dataclass
class Assignment:
    """What each partition of a backfill holds: the bulletins found for it (fetch) or its stored pages
    (reparse); the partitions with nothing; sources whose discovery failed (their empty months are unseen)."""

    work: dict[Partition, list[BulletinRef]] = field(default_factory=dict)
    empty: list[Partition] = field(default_factory=list)
    unseen: dict[str, str] = field(default_factory=dict)  # source id → discovery error
    faults: list[SourceStats] = field(default_factory=list)

    def by_source(self) -> dict[str, list[Partition]]:
        """The partitions with work, per source."""
        return by_source(list(self.work))

    def summary(self, window: Window, mode: str, skipped: list[Partition], stale: int = 0) -> str:
        """``stale``: partitions run again because an earlier reader did them."""
        again = f" ({stale} done by an earlier reader, read again)" if stale else ""
        return (
            f"backfill {window.start}..{window.end} ({mode}): {len(self.work) + len(self.empty)} partitions to run"
            f"{again}: {len(self.work)} with work, {len(self.empty)} empty; {len(skipped)} already done"
        )


@dataclass(frozen=True)
class BackfillRun:
    """What every task of one backfill run shares."""

    db: str
    raw_root: str
    mode: str  # fetch | reparse
    run_id: str
    lock_timeout: float
    writer_limit: str | None
    readers: dict[str, str] = field(default_factory=dict)  # source id → its reader (recorded with its months)


def by_source(todo: list[Partition]) -> dict[str, list[Partition]]:
    out: dict[str, list[Partition]] = defaultdict(list)
    for p in todo:
        out[p.source_id].append(p)
    return dict(out)


def assign_reparse(stored: dict[str, dict[str | None, int]], parts: dict[str, list[Partition]]) -> Assignment:
    """Partitions with stored pages: ``stored`` is each source's stored pages per YYYY-MM of publication (None:
    undated, which belong to the latest partition)."""
    a = Assignment()
    for sid, ps in parts.items():
        counts = stored.get(sid, {})
        months = {m for m, n in counts.items() if n and m is not None}
        if counts.get(None) and ps:
            months.add(ps[-1].month)
        a.work.update({p: [] for p in ps if p.month in months})
    a.empty = [p for ps in parts.values() for p in ps if p not in a.work]
    return a


def assign_fetch(found: dict[str, Discovery], parts: dict[str, list[Partition]]) -> Assignment:
    """Partitions with bulletins, from one discovery per source over its whole window."""
    a = Assignment()
    for sid, ps in parts.items():
        refs: dict[str, list[BulletinRef]] = defaultdict(list)
        for r in found[sid].refs:
            refs[month_of(r.published, ps)].append(r)
        a.work.update({p: refs[p.month] for p in ps if refs.get(p.month)})
        faults = discovery_stats(sid, found[sid].failures, found[sid].skips)
        if faults is not None:
            a.faults.append(faults)
            a.unseen[sid] = "; ".join(f.line() for f in faults.failures)[:2000]
    a.empty = [p for ps in parts.values() for p in ps if p not in a.work]
    return a


def dry_run_lines(
    a: Assignment, skipped: list[Partition], reparse: bool, stale: set[Partition] | frozenset = frozenset()
) -> list[str]:
    """What a backfill would do; ``stale``: partitions done by an earlier reader, named as such."""
    verb = "re-parse from the raw zone" if reparse else "fetch"
    lines = [
        f"would {verb}: {p.name} ({'stored' if reparse else len(refs)} pages"
        + ("; done by an earlier reader)" if p in stale else ")")
        for p, refs in a.work.items()
    ]
    lines += [f"nothing published: {p.name}" for p in a.empty]
    lines += [f"skip (done): {p.name}" for p in skipped]
    return lines or ["nothing to do"]


def check_arguments(
    start: date,
    end: date,
    max_parallel: int | None,
    sources: list[str] | None,
    known: set[str],
    workers: int | None = None,
    chunk_pages: int | None = None,
) -> None:
    """``max_parallel`` None: from the hosts' politeness (:func:`parallel_from_politeness`); ``workers`` None:
    :func:`etl.orchestration.cores.default_workers`; ``chunk_pages`` None: the pool's default."""
    for name, value, top in (
        ("max_parallel", max_parallel, 64),
        ("workers", workers, 64),
        ("chunk_pages", chunk_pages, 100_000),
    ):
        if value is not None and (not isinstance(value, int) or not 1 <= value <= top):
            raise ValueError(f"{name} must be an integer in 1..{top}, got {value!r}")
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    unknown = set(sources or []) - known
    if unknown:
        raise ValueError(f"unknown source ids {sorted(unknown)}; configured: {sorted(known)}")


def host_of(source: Source) -> str:
    return urlsplit(source.list_url).netloc.lower()


def parallel_from_politeness(sources: list[Source]) -> int:
    """Partitions fetched at once: what the hosts allow together (each host's strictest ``concurrency``,
    summed over the hosts), so one site's months queue behind its own limit while other sites go on."""
    per_host: dict[str, int] = {}
    for s in sources:
        h = host_of(s)
        per_host[h] = min(per_host.get(h, s.politeness.concurrency), s.politeness.concurrency)
    return max(1, min(64, sum(per_host.values())))


def interleave_by_host(items: list[tuple[Partition, list[BulletinRef]]], sources: dict[str, Source]) -> list:
    """Partitions in round-robin over hosts: a chunk of parallel fetches spans sites instead of piling onto
    one host's gate while the others wait."""
    queues: dict[str, list] = {}
    for item in items:
        queues.setdefault(host_of(sources[item[0].source_id]), []).append(item)
    out: list = []
    while any(queues.values()):
        for q in queues.values():
            if q:
                out.append(q.pop(0))
    return out
