"""The ``etl`` command line."""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import os
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from etl import settings
from etl.orchestration.server import ServerStartError, TemporaryServer, start_if_needed
from etl.warehouse.sqlfiles import SqlFilesError, mart_names

# Exit codes of etl run / backfill / demo (documented in the README).
EXIT_UNRECONCILED = 1  # counts that do not add up
EXIT_USAGE = 2  # bad arguments or configuration
EXIT_FAILED_SOURCE = 3  # a source or partition failed: a site down, discovery failed, nothing readable


def local_prefect() -> TemporaryServer | None:
    """Before a flow runs in this process: with no Prefect API configured, start Prefect's temporary server now,
    so it boots on the other core while the flow module imports (see etl.prefect_server). Call
    ``wait_ready()`` on the result before calling the flow."""
    settings.configure_prefect_env()
    return start_if_needed()


def load_flow_module(name: str) -> ModuleType:
    """Import ``flows/<name>.py`` from the checkout (or the copy shipped inside the wheel)."""
    settings.configure_prefect_env()
    here = Path(__file__).resolve().parent
    for candidate in (here / "flows" / f"{name}.py", here.parents[1] / "flows" / f"{name}.py"):
        if candidate.is_file():
            _register_flows_package(candidate.parent)
            return importlib.import_module(f"flows.{name}")
    raise SystemExit(f"etl: flow module flows/{name}.py not found next to the package")


def _register_flows_package(directory: Path) -> None:
    """Make ``flows`` importable as a package from wherever the command runs: Dask pickles tasks by reference
    (``flows.nightly.ingest``), which needs ``import flows.nightly`` to work, not only the loaded module."""
    existing = sys.modules.get("flows")
    if existing is not None:
        if str(directory) not in [str(Path(p).resolve()) for p in getattr(existing, "__path__", [])]:
            raise SystemExit(
                f"etl: another 'flows' package is already imported ({existing!r}), not {directory}"
            )
        return
    spec = importlib.util.spec_from_file_location(
        "flows", directory / "__init__.py", submodule_search_locations=[str(directory)]
    )
    assert spec and spec.loader
    package = importlib.util.module_from_spec(spec)
    sys.modules["flows"] = package
    spec.loader.exec_module(package)


def _db(args: argparse.Namespace) -> Path:
    if args.db and settings.is_lake(args.db):
        return Path(args.db)  # a DuckLake target, not a file path
    return Path(args.db).resolve() if args.db else settings.default_db()


def cmd_extract(args: argparse.Namespace) -> int:
    from etl.extract.facts import extract
    from etl.extract.lexicon import LexiconError, load_lexicon
    from etl.parse.document import read_document
    from etl.parse.html import ParseError
    from etl.reference.regions import load_gazetteer

    try:
        load_lexicon()  # a broken lexicon is one error, not one per file
    except (LexiconError, ValueError) as e:
        print(f"etl extract: lexicon: {e}", file=sys.stderr)
        return 2
    if args.region and load_gazetteer().get(args.region) is None:
        print(f"etl extract: --region {args.region}: not a division code in the gazetteer", file=sys.stderr)
        return 2
    out = sys.stdout
    status = 0
    header_done = False
    for name in args.files:
        path = Path(name)
        try:
            raw = path.read_bytes()
        except OSError as e:
            print(f"etl extract: {path}: cannot read: {e.strerror}", file=sys.stderr)
            status = 1
            continue
        try:
            page, _ = read_document(raw, name=path.name)  # the pipeline's page path, by content type
        except ParseError as e:
            print(f"etl extract: {path}: {e}", file=sys.stderr)
            status = 1
            continue
        text, title = page.text, page.title
        try:
            result = extract(text, bulletin_id=path.stem, title=title, issuer_region=args.region)
        except Exception as e:  # one unreadable file must not hide the facts of the others
            print(f"etl extract: {path}: extraction failed: {type(e).__name__}: {e}", file=sys.stderr)
            status = 1
            continue
        rules = load_lexicon().rules
        shown = [f for f in result.facts if rules[f.indicator].plausible(f.value)]
        if len(shown) < len(result.facts):
            print(
                f"etl extract: {path}: {len(result.facts) - len(shown)} implausible values not printed "
                "(not finite or above the indicator's max_value; the pipeline quarantines them)",
                file=sys.stderr,
            )
        for f in shown:
            d = {"doc": path.stem, **f.as_dict()}
            if args.format == "jsonl":
                out.write(json.dumps(d, ensure_ascii=False, allow_nan=False) + "\n")
            else:
                if not header_done:
                    out.write("doc\tindicator\tregion\tvalue\tqualifier\tregion_basis\tevidence\n")
                    header_done = True
                value = f"{int(f.value)}" if float(f.value).is_integer() else f"{f.value}"
                out.write(
                    f"{path.stem}\t{f.indicator}\t{f.region_code} {f.region_name}\t{value}\t"
                    f"{f.qualifier}\t{f.region_basis}\t{f.evidence}\n"
                )
        if result.unplaced:
            kinds = Counter(f.region_basis for f in result.unplaced)
            said = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
            print(
                f"etl extract: {path}: {len(result.unplaced)} numbers not printed, region {said} "
                "(give the issuing region with --region CODE; the pipeline quarantines them)",
                file=sys.stderr,
            )
    return status


def _print_scorecard(db: Path) -> None:
    from etl.report.terminal import scorecard_table
    from etl.warehouse.database import connect

    con = connect(db, read_only=True)
    try:
        # the marts read every fact: unbounded, DuckDB took 320 MB for this over 5.9M facts (60 MB over 0.6M), in
        # the process that just ran the backfill; within a budget it spills instead (+157 MB, 4 s instead of 2)
        con.execute("set memory_limit = '128MB'")
        print(scorecard_table(con))
    finally:
        con.close()


def cmd_demo(args: argparse.Namespace) -> int:
    from etl.demo.server import DemoSites

    db = _db(args)
    started = time.monotonic()
    server = local_prefect()
    nightly = load_flow_module("nightly").nightly
    with DemoSites() as sites:
        src_dir = db.parent / "demo-sources"
        src_dir.mkdir(parents=True, exist_ok=True)
        (src_dir / "demo.toml").write_text(sites.sources_toml(), encoding="utf-8")
        print(f"demo: {len(sites.sites)} bureau sites serving on 127.0.0.1; warehouse {db}", flush=True)
        if server is not None:
            server.wait_ready()
        stats = nightly(registry=str(src_dir), db=str(db), lock_timeout=args.lock_timeout)
    total = sum(sites.statuses.values())
    if total:
        share = sites.statuses[304] / total
        print(
            f"demo sites answered {total} requests: {sites.statuses[304]} with 304 Not Modified ({share:.0%})"
        )
    return _finish(stats, db, started, temporary_server=server is not None)


def cmd_run(args: argparse.Namespace) -> int:
    params = {"registry": args.sources, "lag_days": args.lag_days, "lock_timeout": args.lock_timeout}
    if args.db:
        params["db"] = str(_db(args))
    return _dispatch("nightly", params, args)


def cmd_backfill(args: argparse.Namespace) -> int:
    from datetime import date

    try:
        start, end = date.fromisoformat(args.start), date.fromisoformat(args.end)
    except ValueError as e:
        print(f"etl backfill: --start/--end must be ISO dates (2024-01-31): {e}", file=sys.stderr)
        return 2
    if end < start:
        print(f"etl backfill: --end {end} is before --start {start}", file=sys.stderr)
        return 2
    if args.reparse:
        from etl.settings import reparse_page_seconds

        try:
            reparse_page_seconds()  # read again by the run; a bad value fails here, before any work
        except ValueError as e:
            print(f"etl backfill: {e}", file=sys.stderr)
            return 2
    params = {
        "start": start,
        "end": end,
        "registry": args.sources,
        "sources": args.source or None,
        "reparse": args.reparse,
        "reprocess": args.reprocess,
        "dry_run": args.dry_run,
        "max_parallel": args.max_parallel,
        "lock_timeout": args.lock_timeout,
    }
    if args.workers is not None:
        params["workers"] = args.workers
    if args.chunk_pages is not None:
        params["chunk_pages"] = args.chunk_pages
    if args.db:
        params["db"] = str(_db(args))
    return _dispatch("backfill", params, args)


def _dispatch(flow_name: str, params: dict, args: argparse.Namespace) -> int:
    """Run the flow here, or (``--deployment NAME``) submit a run of the deployed flow to the Prefect server
    configured in PREFECT_API_URL, passing the parameters through, and follow it to its end."""
    started = time.monotonic()
    if args.deployment:
        settings.configure_prefect_env()
        from prefect.deployments import run_deployment

        name = f"{flow_name}/{args.deployment}"
        print(f"submitting {name} with {params}", flush=True)
        run = run_deployment(name, parameters=params, timeout=None, poll_interval=2)
        state = run.state
        detail = f" - {state.message}" if state and state.message else ""
        print(f"flow run {run.name} ({run.id}): {state.name if state else 'unknown'}{detail}")
        return 0 if state is not None and state.is_completed() else 1
    # A broken registry fails here, in a second, not after Prefect's server has started.
    from etl.fetch.sources import load_fetch_config, load_sources

    configured = {s.id for s in load_sources(Path(params["registry"]))}
    load_fetch_config(Path(params["registry"]))
    unknown = sorted(set(params.get("sources") or ()) - configured)
    if unknown:
        print(
            f"etl {flow_name}: --source {', '.join(unknown)}: not in {params['registry']} "
            f"(configured: {', '.join(sorted(configured))})",
            file=sys.stderr,
        )
        return EXIT_USAGE
    server = local_prefect()
    flow = getattr(load_flow_module(flow_name), flow_name)
    if server is not None:
        server.wait_ready()
    if args.dask:
        flow = flow.with_options(task_runner=dask_runner(args.dask))
    from etl.orchestration import cancel

    cancel.install()
    try:
        from etl.orchestration.runs import rows_of

        state = flow(**params, return_state=True)
        # a run with a failed source is a Failed state that still carries the per-source stats
        stats = rows_of(state)
        if isinstance(stats, BaseException):
            raise stats
    except BaseException as e:
        signum = cancel.received()
        if signum is None:
            raise
        # a backfill records its partitions as they finish: the same command goes on from there
        resume = (
            "; the same command (with --reprocess missing, the default) goes on after the partitions it recorded"
            if flow_name == "backfill"
            else ""
        )
        print(
            f"etl: run cancelled by signal {signum} ({type(e).__name__}); batches loaded before it are whole{resume}",
            file=sys.stderr,
        )
        return 128 + signum
    if params.get("dry_run"):
        return 0
    return _finish(stats, _db(args), started, temporary_server=server is not None)


def dask_runner(address: str):
    """Fetch/parse/extract tasks on Dask (``local`` starts a local cluster, else a scheduler address such as
    tcp://10.0.0.5:8786); loads stay in the flow's own process, so there is still one writer."""
    try:
        from prefect_dask import DaskTaskRunner
    except ImportError as e:
        raise SystemExit("etl: --dask needs the dask extra: pip install 'bulletin-etl[dask]'") from e
    # the scheduler and workers log every start-up step at INFO; the run summary is what matters here
    logging.getLogger("distributed").setLevel(logging.WARNING)
    if address == "local":
        return DaskTaskRunner(cluster_kwargs={"n_workers": 2, "threads_per_worker": 2, "processes": False})
    return DaskTaskRunner(address=address)


def _finish(stats: list[dict], db: Path, started: float, temporary_server: bool = False) -> int:
    from etl.models import SourceStats
    from etl.report.summary import summary_text

    objs = [SourceStats.from_row(s) for s in stats]
    print("\nRun summary")
    print(summary_text(objs))
    print(f"\nCross-region scorecard ({db})")
    _print_scorecard(db)
    print(f"\nfinished in {time.monotonic() - started:.1f}s")
    report = settings.report_dir_for(db) / "index.html"
    print(f"warehouse  {db}")
    if report.exists():
        print(f"report     {report}")
    api = None if temporary_server else os.environ.get("PREFECT_API_URL")
    if api:
        print(f"prefect    {api.removesuffix('/api')} (the run is in its UI)")
    else:
        print(
            f"prefect    {settings.prefect_home()} (the run's records; to browse them: "
            f"PREFECT_HOME={settings.prefect_home()} prefect server start, then http://127.0.0.1:4200)"
        )
    failed = [s.source_id for s in objs if s.status == "failed"]
    if failed:
        print(
            f"etl: FAILED: {', '.join(failed)} (see the failed pages above; retried on the next run)",
            file=sys.stderr,
        )
    return exit_code(objs)


def _int_in(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: an integer in [low, high]."""

    def parse(value: str) -> int:
        try:
            n = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not an integer") from None
        if not low <= n <= high:
            raise argparse.ArgumentTypeError(f"{n} is not in {low}..{high}")
        return n

    return parse


_positive_int = _int_in(1, 64)
_chunk_pages = _int_in(1, 100_000)


def exit_code(stats: list) -> int:
    """3 when a source or partition failed, 1 when counts do not reconcile, else 0 (partial sources pass: their
    failed pages are named and retried next run)."""
    if any(s.status == "failed" for s in stats):
        return EXIT_FAILED_SOURCE
    return 0 if all(s.reconciles() for s in stats) else EXIT_UNRECONCILED


def cmd_indicators(args: argparse.Namespace) -> int:
    from etl.report.terminal import codes_listing, query_mart
    from etl.warehouse.database import connect, require_views

    if args.list:
        print(codes_listing())
        return 0
    db = _db(args)
    if not db.exists():
        print(
            f"etl indicators: no warehouse at {db} (run etl demo or etl run first, or pass --db)",
            file=sys.stderr,
        )
        return 2
    con = connect(db, read_only=True)
    try:
        require_views(con, db)
        return query_mart(con, args)
    finally:
        con.close()


def cmd_check(args: argparse.Namespace) -> int:
    from etl.report.terminal import check_report
    from etl.warehouse.database import connect

    con = connect(_db(args), read_only=True)
    try:
        print(check_report(con))
    finally:
        con.close()
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from etl.report.filters import FilterError, resolve_indicator
    from etl.report.html import build_report
    from etl.report.terminal import SCORECARD_COLUMNS
    from etl.warehouse.database import connect, require_views

    try:
        chosen = resolve_indicator(args.map, dict(SCORECARD_COLUMNS), "--map") if args.map else None
    except FilterError as e:
        print(f"etl report: {e}", file=sys.stderr)
        return 2
    db = _db(args)
    con = connect(db, read_only=True)
    try:
        require_views(con, db)
        res = build_report(con, Path(args.out), map_indicator=chosen)
    finally:
        con.close()
    print(
        f"report: {res.path} ({res.bytes / 1024:,.0f} KB, {res.regions} regions, {res.maps} maps, "
        f"{res.bar_charts} bar charts, {res.trend_charts} trend charts)"
    )
    return 0


def cmd_sources(args: argparse.Namespace) -> int:
    from etl.fetch.sources import load_sources
    from etl.report.summary import render_table

    srcs = load_sources(Path(args.sources))
    state: dict[str, tuple] = {}
    db = _db(args)
    if db.exists():
        from etl.warehouse.database import connect

        con = connect(db, read_only=True)
        try:
            for row in con.execute(
                "select source_id, cursor_date, last_run_at, last_status from source_state"
            ).fetchall():
                state[row[0]] = row[1:]
        finally:
            con.close()
    rows = [
        [
            s.id,
            s.name,
            s.kind,
            s.region or "",
            s.list_url,
            *(str(v or "") for v in state.get(s.id, ("", "", ""))),
        ]
        for s in srcs
    ]
    print(
        render_table(["id", "name", "kind", "region", "list_url", "cursor", "last_run", "last_status"], rows)
    )
    return 0


def _probe_settings(registry: Path):
    from etl.fetch.sources import FetchConfig, load_fetch_config

    return (load_fetch_config(registry) if registry.exists() else FetchConfig()).to_settings()


def cmd_sources_test(args: argparse.Namespace) -> int:
    from etl.fetch.sources import load_sources
    from etl.orchestration.probe import describe, probe

    registry = Path(args.sources)
    srcs = {s.id: s for s in load_sources(registry)}
    if args.source_id not in srcs:
        print(
            f"etl sources test: no source {args.source_id!r} in {registry} (known: {', '.join(srcs)})",
            file=sys.stderr,
        )
        return EXIT_USAGE
    result = probe(srcs[args.source_id], _probe_settings(registry))
    print("\n".join(describe(result)))
    return 0 if result.ok else EXIT_FAILED_SOURCE


def cmd_sources_add(args: argparse.Namespace) -> int:
    from etl.fetch.sources import SourceConfigError, load_sources, parse_source
    from etl.orchestration.probe import describe, guess_region, probe, source_id, source_name, toml_entry

    registry = Path(args.sources)
    target = (
        Path(args.to)
        if args.to
        else (registry / "added.toml" if registry.is_dir() or not registry.suffix else registry)
    )
    existing = (
        {s.id for s in load_sources(registry)}
        if registry.exists() and any(registry.glob("*.toml") if registry.is_dir() else [registry])
        else set()
    )
    sid = args.source_id or source_id(args.url)
    if sid in existing:
        print(f"etl sources add: source id {sid!r} already in {registry}: pass --id", file=sys.stderr)
        return EXIT_USAGE
    entry: dict = {"id": sid, "name": args.name or sid, "list_url": args.url}
    if args.region:
        entry["region"] = args.region
    try:
        src = parse_source(entry, f"etl sources add {args.url}")
    except SourceConfigError as e:
        print(f"etl sources add: {e}", file=sys.stderr)
        return EXIT_USAGE
    result = probe(src, _probe_settings(registry))
    print("\n".join(describe(result)))
    if not result.discovery.refs:
        print(f"etl sources add: nothing found on {args.url}; no entry written", file=sys.stderr)
        return EXIT_FAILED_SOURCE
    if not args.name:
        entry["name"] = source_name(result.discovery.page_title, sid)
    if not args.region:
        region = guess_region(entry["name"])
        if region:
            entry["region"] = region
            print(f"  region      {region} (from the name {entry['name']!r}; --region overrides)")
        else:
            print(
                f"  region      undecided from {entry['name']!r}: facts need a place in the text (--region CODE)"
            )
    entry = {k: entry[k] for k in ("id", "name", "region", "list_url") if k in entry}
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("a", encoding="utf-8") as f:
        f.write(("\n" if target.stat().st_size else "") + toml_entry(entry))
    load_sources(target)  # what was written reads back
    print(f"wrote {target}: source {sid!r}")
    return 0 if result.ok else EXIT_FAILED_SOURCE


def flow_options(sp: argparse.ArgumentParser, deployment: str) -> None:
    """Options shared by the commands that run a flow: here, on Dask, or as a run of its deployment."""
    sp.add_argument("--lock-timeout", type=float, default=600.0, help="seconds to wait for another writer")
    sp.add_argument("--deployment", help=f"submit a run of this deployment of the flow (e.g. {deployment})")
    sp.add_argument(
        "--dask", metavar="ADDRESS", help="run fetch/parse/extract on Dask: 'local' or a scheduler address"
    )


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="etl", description="Civil-affairs bulletins → DuckDB indicator warehouse"
    )
    sub = p.add_subparsers(dest="command", required=True)

    def with_db(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--db", help=f"warehouse file (default: {settings.default_db()}; ETL_HOME moves it)")

    sp = sub.add_parser(
        "demo", help="serve the bundled demo bureau sites and run the nightly flow against them"
    )
    with_db(sp)
    sp.add_argument("--lock-timeout", type=float, default=120.0, help="seconds to wait for another writer")
    sp.set_defaults(func=cmd_demo)

    sp = sub.add_parser("run", help="run the nightly flow against the configured sources")
    with_db(sp)
    sp.add_argument(
        "--sources", default="sources", help="source registry: a TOML file or a directory of them"
    )
    sp.add_argument("--lag-days", type=int, default=30, help="re-read this many days before each cursor")
    flow_options(sp, "nightly")
    sp.set_defaults(func=cmd_run)

    sp = sub.add_parser("backfill", help="fetch (or re-parse) a window, partitioned by source x month")
    with_db(sp)
    sp.add_argument("--start", required=True, help="first day, ISO date")
    sp.add_argument("--end", required=True, help="last day, ISO date")
    sp.add_argument(
        "--sources", default="sources", help="source registry: a TOML file or a directory of them"
    )
    sp.add_argument("--source", action="append", help="only this source id (repeatable)")
    sp.add_argument("--reparse", action="store_true", help="re-parse from the raw zone, no network")
    sp.add_argument(
        "--reprocess",
        choices=["missing", "failed", "all"],
        default="missing",
        help="which partitions to run: not yet done (default; with --reparse, also those an earlier reader "
        "did: other parser, extractor, lexicon or source settings), failed ones, or all",
    )
    sp.add_argument("--dry-run", action="store_true", help="print the partitions and what would be done")
    sp.add_argument(
        "--max-parallel",
        type=_positive_int,
        default=None,
        help="partitions fetched at once (1-64; default: the sum of the hosts' politeness concurrency)",
    )
    sp.add_argument(
        "--workers",
        type=_positive_int,
        default=None,
        help="--reparse: parse/extract processes (1-64; default: one per core on 1-2 cores, else cores - 1, at most 3); "
        "fewer leave cores to other work",
    )
    sp.add_argument(
        "--chunk-pages",
        type=_chunk_pages,
        default=None,
        help="--reparse: stored pages a worker parses and the writer loads at once (1-100000; default 1000); "
        "small sources are packed together into one chunk",
    )
    flow_options(sp, "backfill")
    sp.set_defaults(func=cmd_backfill)

    sp = sub.add_parser("extract", help="print the facts of text/HTML files (no warehouse needed)")
    sp.add_argument("files", nargs="+")
    sp.add_argument("--format", choices=["jsonl", "table"], default="jsonl")
    sp.add_argument(
        "--region",
        metavar="CODE",
        help="the issuing region (a source's `region`): the document's subject unless the text names a place inside it",
    )
    sp.set_defaults(func=cmd_extract)

    sp = sub.add_parser("indicators", help="query the marts")
    with_db(sp)
    sp.add_argument(
        "--view",
        default="mart_region_indicator_latest",
        choices=mart_names(),
    )
    sp.add_argument("--indicator", help="indicator code or Chinese name (etl indicators --list)")
    sp.add_argument("--region", help="region code or name (成都市, 成都, 510100)")
    sp.add_argument("--level", choices=["country", "province", "prefecture", "county"])
    sp.add_argument("--province", help="province code or name (320000, 江苏省, 江苏)")
    sp.add_argument("--format", choices=["table", "csv", "json", "jsonl", "parquet"], default="table")
    sp.add_argument(
        "--list", action="store_true", help="list the indicator codes and the views with their filters"
    )
    sp.add_argument("--out", help="output file (required for parquet)")
    sp.set_defaults(func=cmd_indicators)

    sp = sub.add_parser("check", help="quarantine and reconciliation of counts")
    with_db(sp)
    sp.set_defaults(func=cmd_check)

    sp = sub.add_parser("report", help="write the static HTML report of the marts")
    with_db(sp)
    sp.add_argument(
        "--out", default=str(settings.data_dir() / "report"), help="output directory (index.html)"
    )
    sp.add_argument(
        "--map",
        metavar="INDICATOR",
        help="indicator code or Chinese name the maps show (default: the one most provinces report)",
    )
    sp.set_defaults(func=cmd_report)

    sp = sub.add_parser("sources", help="list, add or test sources (default: list with cursor and last run)")
    with_db(sp)
    sp.add_argument(
        "--sources", default="sources", help="source registry: a TOML file or a directory of them"
    )
    sp.set_defaults(func=cmd_sources)
    ssub = sp.add_subparsers(dest="sources_command")

    def registry_option(ap: argparse.ArgumentParser) -> None:
        # after the subcommand too (etl sources add URL --sources DIR); the parent's default otherwise
        ap.add_argument(
            "--sources", default=argparse.SUPPRESS, help="source registry: a TOML file or a directory"
        )

    ap = ssub.add_parser("list", help="the configured sources with their cursor and last run")
    registry_option(ap)
    ap.set_defaults(func=cmd_sources)
    ap = ssub.add_parser(
        "add", help="probe a list page (robots, kind, pagination, one article) and write its registry entry"
    )
    ap.add_argument("url", help="the column's first list page, feed or JSON list")
    registry_option(ap)
    ap.add_argument(
        "--region", metavar="CODE", help="issuing bureau's division code (default: from its name)"
    )
    ap.add_argument("--id", dest="source_id", help="source id (default: from the URL)")
    ap.add_argument("--name", help="source name (default: from the list page's title)")
    ap.add_argument("--to", help="registry file to append to (default: added.toml in --sources)")
    ap.set_defaults(func=cmd_sources_add)
    ap = ssub.add_parser("test", help="probe a configured source like a run would, loading nothing")
    ap.add_argument("source_id", metavar="ID")
    registry_option(ap)
    ap.set_defaults(func=cmd_sources_test)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from etl.report.summary import use_terminal_tables

    tty = sys.stdout.isatty() and os.environ.get("TERM") != "dumb"
    use_terminal_tables(shutil.get_terminal_size().columns if tty else None)
    try:
        if args.command not in ("demo", "extract"):  # the demo brings its own registry and warehouse
            from etl.warehouse.config import use_registry

            use_registry(Path(getattr(args, "sources", "sources")))
        return args.func(args)
    except Exception as e:
        # imported here, not before the command: the warehouse module loads pandas and DuckDB (~1 s), which
        # would delay starting Prefect's server for the flow commands
        from etl.fetch.sources import SourceConfigError
        from etl.warehouse.database import WarehouseError

        if isinstance(e, SourceConfigError | SqlFilesError | WarehouseError | ServerStartError):
            print(f"etl {args.command}: {e}", file=sys.stderr)
            return 2
        from etl.orchestration.chunk_pool import WorkersDie

        if isinstance(e, WorkersDie):
            print(f"etl {args.command}: {e}; the months recorded before stay done", file=sys.stderr)
            return EXIT_FAILED_SOURCE
        raise


if __name__ == "__main__":
    sys.exit(main())
