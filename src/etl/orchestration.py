"""Prefect-facing helpers kept out of the flow files so they can be tested on their own."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext


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
