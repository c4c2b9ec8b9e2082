"""Cancelling a run on SIGTERM or SIGINT: a scheduler's cancel, a `timeout`, or Ctrl-C must end a fetching run
in seconds, loading nothing half-done.

Fetching happens in Prefect's worker threads, each with its own event loop; a signal only reaches the main
thread. So the signal sets one process-wide event, and every fetch waits on its work *and* that event: when
the event is set, the in-flight requests are cancelled and the batch raises :class:`RunCancelled`. The flow
then stops loading (a batch already loading finishes its one transaction, so nothing is half loaded) and the
command exits with 128 + the signal number.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Awaitable, Callable
from types import FrameType
from typing import Any, TypeVar

CANCEL = threading.Event()
_received: list[int] = []
T = TypeVar("T")
_POLL = 0.1  # seconds between looks at the event while a fetch is in flight


class RunCancelled(RuntimeError):
    """The run was cancelled by a signal before this work finished."""


def received() -> int | None:
    """The first signal that cancelled this process's run, if any."""
    return _received[0] if _received else None


def install() -> None:
    """Route SIGTERM and SIGINT to the cancel event, keeping what was there before: Prefect's own bridge (which
    a flow installs for its run) still sees the signal and records the run as cancelled or crashed. Called by the
    command line and again at the start of each flow, after Prefect has put its handler in place. Signals can
    only be handled in the main thread; elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(signum)
        if getattr(previous, "_etl_cancel", False):
            continue
        signal.signal(signum, _handler(previous))


def _handler(previous: Any) -> Callable[[int, FrameType | None], None]:
    def handle(signum: int, frame: FrameType | None) -> None:
        if not _received:
            _received.append(signum)
        CANCEL.set()
        if callable(previous):
            previous(signum, frame)
        elif signum == signal.SIGINT:
            raise KeyboardInterrupt
        else:
            raise SystemExit(128 + signum)

    handle._etl_cancel = True  # type: ignore[attr-defined]
    return handle


def check() -> None:
    if CANCEL.is_set():
        raise RunCancelled(f"run cancelled by signal {received()}")


async def cancellable(work: Awaitable[T]) -> T:
    """Await ``work`` unless the run is cancelled first; then cancel it and raise :class:`RunCancelled`."""
    check()
    task = asyncio.ensure_future(work)
    while True:
        done, _ = await asyncio.wait({task}, timeout=_POLL)
        if done:
            return task.result()
        if CANCEL.is_set():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            check()
