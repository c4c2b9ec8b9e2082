"""Fetch-side benchmarks.

1. Pages/second fetched from a local server spread over 20 simulated hosts (one 127.0.0.1 port each), politeness
   limits lifted: the HTTP layer alone, and fetch + raw zone + parse + extract. The sites are served by a separate
   process, as a real site would be; the figure with the (Python, threaded) demo server sharing the fetcher's
   process and GIL is printed too.
2. Wall time of a nightly run in which nothing changed (every page answers 304) over 20 sources, as a fresh
   `etl run` process, Prefect start included: in ephemeral mode, and against an already running local
   `prefect server` (how a scheduled deployment runs).

Run: python3 uvw.py run --frozen python bench/fetch_bench.py [--pages-per-host 100] [--skip-server]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from etl.demo.server import DemoSites
from etl.demo.sites import Site, load_sites, sources_toml
from etl.fetch.client import Fetcher, FetchSettings
from etl.fetch.discover import Discovery
from etl.fetch.rawzone import RawZone
from etl.fetch.sources import load_sources
from etl.models import BulletinRef, Window
from etl.orchestration.ingest import _ingest

HOSTS = 20


def bench_sites(pages_per_host: int) -> dict[str, Site]:
    """20 sites whose articles are the demo's, repeated under new slugs."""
    demo = [a for s in load_sites().values() for a in s.articles if not a.parts]
    out = {}
    for h in range(HOSTS):
        arts = tuple(
            dataclasses.replace(demo[(h + i) % len(demo)], slug=f"p{h:02d}-{i:04d}")
            for i in range(pages_per_host)
        )
        out[f"bench-{h:02d}"] = Site(
            id=f"bench-{h:02d}",
            name=f"测试{h}号民政局",
            shape="html_list",
            region="341200",
            page_size=50,
            articles=arts,
        )
    return out


@dataclasses.dataclass
class Served:
    sites: dict[str, Site]
    base_urls: dict[str, str]


@contextlib.contextmanager
def served_by_another_process(sites: dict[str, Site]) -> Iterator[Served]:
    """The demo sites in a forked child process, so that serving does not compete for this process's GIL."""
    ctx = multiprocessing.get_context("fork")
    ours, theirs = ctx.Pipe()

    def serve(conn) -> None:
        with DemoSites(sites=sites) as running:
            conn.send(running.base_urls)
            conn.recv()  # serve until told to stop

    child = ctx.Process(target=serve, args=(theirs,), daemon=True)
    child.start()
    try:
        yield Served(sites, ours.recv())
    finally:
        ours.send("stop")
        child.join(timeout=30)


def pages_per_second(sites: DemoSites | Served, tmp: Path, where: str) -> None:
    urls = [
        (sid, f"{base}/art/{a.slug}.html")
        for sid, base in sites.base_urls.items()
        for a in sites.sites[sid].articles
    ]
    hosts = tuple(b.split("://")[1] for b in sites.base_urls.values())
    settings = FetchSettings(politeness_override=True, timeout=30)

    async def fetch_all():
        async with Fetcher(settings) as f:
            return await asyncio.gather(*(f.get(u, hosts) for _, u in urls))

    t = time.perf_counter()
    results = asyncio.run(fetch_all())
    dt = time.perf_counter() - t
    ok = sum(r.ok for r in results)
    print(
        f"[{where}] fetch only:              {ok}/{len(urls)} pages from {HOSTS} hosts in {dt:.2f} s "
        f"-> {ok / dt:,.0f} pages/s"
    )

    srcs = {s.id: s for s in load_sources(_write_sources(sites, tmp))}
    raw = RawZone(tmp / "raw")
    by_source: dict[str, list[BulletinRef]] = {}
    for sid, u in urls:
        by_source.setdefault(sid, []).append(BulletinRef(sid, u))
    window = Window(srcs[next(iter(srcs))].since, time.localtime() and __import__("datetime").date.today())

    def one(sid):
        return asyncio.run(_ingest(srcs[sid], window, raw, {}, [], settings, Discovery(refs=by_source[sid])))

    t = time.perf_counter()
    with ThreadPoolExecutor(max_workers=4) as pool:
        batches = list(pool.map(one, by_source))
    dt = time.perf_counter() - t
    n = sum(b.stats.fetched for b in batches)
    facts = sum(len(b.facts) for b in batches)
    print(
        f"[{where}] fetch+raw+parse+extract: {n} pages ({facts} facts) in {dt:.2f} s -> {n / dt:,.0f} pages/s"
    )


def _write_sources(sites: DemoSites, tmp: Path) -> Path:
    d = tmp / "sources"
    d.mkdir(exist_ok=True)
    (d / "bench.toml").write_text(sources_toml(sites.sites, sites.base_urls), encoding="utf-8")
    return d


def _etl(args: list[str], env: dict[str, str]) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "etl.cli", *args], env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def no_change_nightly(sites: DemoSites, tmp: Path, with_server: bool) -> None:
    src = _write_sources(sites, tmp)
    db = tmp / "nightly.duckdb"
    env = {**os.environ, "ETL_HOME": str(tmp / "home"), "PREFECT_LOGGING_LEVEL": "ERROR"}
    first = _etl(["run", "--sources", str(src), "--db", str(db)], env)
    second = _etl(["run", "--sources", str(src), "--db", str(db)], env)
    print(
        f"nightly, {HOSTS} sources, ephemeral Prefect: first run {first:.1f} s, no-change run {second:.1f} s wall"
    )
    if not with_server:
        return
    port = _free_port()
    server_env = {
        **env,
        "PREFECT_HOME": str(tmp / "server-home"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "prefect",
            "server",
            "start",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-ui",
        ],
        env=server_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        api = f"http://127.0.0.1:{port}/api"
        deadline = time.monotonic() + 120
        while True:  # polling a starting server's health endpoint: there is no event to wait on
            try:
                if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("prefect server did not become healthy")
            time.sleep(0.5)
        env_server = {**env, "PREFECT_API_URL": api}
        warm = _etl(["run", "--sources", str(src), "--db", str(db)], env_server)
        again = _etl(["run", "--sources", str(src), "--db", str(db)], env_server)
        print(
            f"nightly, {HOSTS} sources, running local prefect server: no-change runs {warm:.1f} s, {again:.1f} s wall"
        )
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages-per-host", type=int, default=100)
    ap.add_argument("--skip-server", action="store_true", help="skip the run against a local prefect server")
    args = ap.parse_args()
    big = bench_sites(args.pages_per_host)
    with tempfile.TemporaryDirectory() as d, served_by_another_process(big) as sites:
        pages_per_second(sites, Path(d), "server in another process")
    with tempfile.TemporaryDirectory() as d, DemoSites(sites=big) as sites:
        pages_per_second(sites, Path(d), "server in this process")
    small = {k: dataclasses.replace(v, articles=v.articles[:5]) for k, v in bench_sites(5).items()}
    with tempfile.TemporaryDirectory() as d, DemoSites(sites=small) as sites:
        no_change_nightly(sites, Path(d), not args.skip_server)


if __name__ == "__main__":
    main()
