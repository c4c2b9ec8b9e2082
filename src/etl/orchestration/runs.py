"""Prefect-facing helpers kept out of the flow files so they can be tested on their own."""

from __future__ import annotations

import queue
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any, Protocol, TypeVar


def outcome(stats: Sequence[Any]) -> Any:
    """A flow's return value: the per-source stats, inside a Failed state when a source or partition failed, so
    that the run is Failed in Prefect's UI and for whoever watches it (the summary artifact says which)."""
    rows = [s.to_row() for s in stats]
    failed = [s.source_id for s in stats if s.status == "failed"]
    if not failed:
        return rows
    from prefect.states import Failed

    return Failed(message=f"failed: {', '.join(failed)}", data=rows)


def rows_of(state: Any) -> Any:
    """The per-source stats a flow run's final state carries (Completed or Failed); a crash's exception else."""
    if not state.is_failed():
        return state.result()
    data = state.data
    data = getattr(data, "result", data)  # a persisted result record holds the value itself
    if isinstance(data, list):
        return data
    return state.result(raise_on_failure=False)


def writer_slot(limit: str | None, timeout: float) -> AbstractContextManager[object]:
    """Hold one slot of the Prefect global concurrency limit ``limit`` (e.g. ``duckdb-writer``, created with
    ``prefect gcl create duckdb-writer --limit 1``) while writing.

    ``strict=True``: a limit that does not exist is an error, not silently skipped. The loader's own lock wait
    stays in place underneath, since such limits have leaked in Prefect before. ``None`` (ephemeral runs, tests)
    relies on the lock wait alone.
    """
    if not limit:
        return nullcontext()
    from prefect.concurrency.sync import concurrency

    return concurrency(limit, occupy=1, timeout_seconds=timeout, strict=True)


class _Completes(Protocol):
    def add_done_callback(self, fn: Callable[[Any], None]) -> None: ...


F = TypeVar("F", bound=_Completes)


def ready_groups(futures: Sequence[F]) -> Iterator[list[F]]:
    """Yield every future once, in groups: each group holds the futures that finished while the consumer handled
    the previous group (at least one, blocking until then). Loading a group through one warehouse connection
    keeps loads flowing as sources finish, without a connection (~50 ms to open and checkpoint) and a task run
    per source when many finish together, as on a night in which nothing changed."""
    finished: queue.SimpleQueue[F] = queue.SimpleQueue()
    for f in futures:
        f.add_done_callback(finished.put)
    remaining = len(futures)
    while remaining:
        group = [finished.get()]
        while True:
            try:
                group.append(finished.get_nowait())
            except queue.Empty:
                break
        remaining -= len(group)
        yield group
