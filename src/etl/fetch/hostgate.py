"""Per-host politeness shared by every fetcher in the process.

Prefect runs each source's ingest (and each backfill partition) in its own thread with its own event loop and
httpx client, so limits held by one fetcher would add up whenever two batches reach the same host: two columns
of one bureau's site registered as two sources, or four months of one source backfilled in parallel. The gates
here are shared across threads and event loops: at most ``concurrency`` requests in flight to a host, request
starts at least ``delay`` seconds apart, and a pause the host asked for (``Retry-After``) holds every request to
it. When sources configure the same host differently, the strictest setting wins.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable


class HostGate:
    """A semaphore plus start spacing that coroutines on different event loops (threads) can share. A slot
    freed by one loop is handed to the longest waiter, on that waiter's own loop."""

    def __init__(self, concurrency: int, delay: float) -> None:
        self.concurrency = max(1, concurrency)
        self.delay = max(0.0, delay)
        self._lock = threading.Lock()
        self._in_flight = 0
        self._waiters: deque[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = deque()
        self._next_start = 0.0

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def tighten(self, concurrency: int, delay: float) -> None:
        with self._lock:
            self.concurrency = max(1, min(self.concurrency, concurrency))
            self.delay = max(self.delay, delay)

    def pause(self, seconds: float) -> None:
        """No request to this host starts within ``seconds`` from now (the host asked for it)."""
        with self._lock:
            self._next_start = max(self._next_start, time.monotonic() + seconds)

    async def acquire(self, sleep: Callable[[float], Awaitable[object]] = asyncio.sleep) -> None:
        """Take a slot, then wait out the spacing (or a pause the host asked for). ``release()`` it after."""
        await self._take_slot()
        try:
            with self._lock:
                now = time.monotonic()
                wait = self._next_start - now
                self._next_start = max(now, self._next_start) + self.delay
            if wait > 0:
                await sleep(wait)
        except BaseException:
            self.release()
            raise

    async def _take_slot(self) -> None:
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._in_flight < self.concurrency and not self._waiters:
                self._in_flight += 1
                return
            fut: asyncio.Future[None] = loop.create_future()
            entry = (loop, fut)
            self._waiters.append(entry)
        try:
            await fut  # resolved by a releaser that handed its slot over: the slot is counted already
        except asyncio.CancelledError:
            with self._lock:
                try:
                    self._waiters.remove(entry)
                    handed_over = False
                except ValueError:
                    handed_over = True
            if handed_over:  # a releaser gave us its slot just as we were cancelled: pass it on
                self.release()
            raise

    def release(self) -> None:
        with self._lock:
            if self._in_flight > self.concurrency:  # the limit was tightened: shrink before handing over
                self._in_flight -= 1
                return
            while self._waiters:
                loop, fut = self._waiters.popleft()
                try:
                    loop.call_soon_threadsafe(_hand_over, fut)
                    return
                except RuntimeError:  # that waiter's loop is closed: try the next one
                    continue
            self._in_flight -= 1


def _hand_over(fut: asyncio.Future[None]) -> None:
    # A waiter cancelled after being popped sees that in _take_slot and passes the slot on itself.
    if not fut.done():
        fut.set_result(None)


class HostGates:
    """The gates of one process (or of one benchmark that lifts politeness), by host."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._gates: dict[str, HostGate] = {}

    def get(self, host: str, concurrency: int, delay: float) -> HostGate:
        with self._lock:
            gate = self._gates.get(host)
            if gate is None:
                gate = self._gates[host] = HostGate(concurrency, delay)
                return gate
        gate.tighten(concurrency, delay)
        return gate


PROCESS_GATES = HostGates()
