"""Find a source's bulletins in a window: its kind's ``discover()`` over list pages read politely, robots.txt
first, conditionally when an earlier run stored them."""

from __future__ import annotations

from etl.fetch.client import Fetcher
from etl.fetch.kinds import KINDS, Discovery, ListReader
from etl.fetch.rawzone import RawZone
from etl.fetch.robots import Robots
from etl.fetch.sources import Source
from etl.models import FetchMemory, Window

__all__ = ["Discovery", "discover"]


async def discover(
    source: Source,
    fetcher: Fetcher,
    window: Window,
    robots: Robots | None = None,
    memory: dict[str, FetchMemory] | None = None,
    raw: RawZone | None = None,
) -> Discovery:
    reader = ListReader(source, fetcher, robots, memory, raw)
    return await KINDS[source.kind].discover(source, reader, window)
