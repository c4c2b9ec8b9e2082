"""Terminal views of the warehouse: the scorecard, mart queries and the check report."""

from __future__ import annotations

import argparse
import json
import sys

import duckdb

from etl.extract.lexicon import indicator_specs
from etl.reference.indicators import short_titles
from etl.report.filters import FilterError, accepted, build_where
from etl.report.summary import SUMMARY_COLUMNS, format_value, level_rank_sql, render_table

# Short column titles so eleven indicators fit a terminal (data/indicator_display.csv); money in yuan.
SCORECARD_COLUMNS = [(c, f"{t}(元)" if indicator_specs()[c].unit == "cny" else t) for c, t in short_titles()]


def scorecard_table(con: duckdb.DuckDBPyConnection) -> str:
    """One row per region, one column per indicator; qualifiers shown (≥ more than, ~ about, < less than)."""
    latest = con.execute(
        "select region_code, indicator, value, qualifier, unit from mart_region_indicator_latest"
    ).fetchall()
    cell = {(r, i): format_value(v, q, u) for r, i, v, q, u in latest}
    regions = con.execute(
        "select region_code, region_name, region_level from mart_region_scorecard "
        f"order by province_code, {level_rank_sql('region_level')}, region_code"
    ).fetchall()
    headers = ["代码", "地区", *(t for _, t in SCORECARD_COLUMNS)]
    rows = [
        [code, name, *(cell.get((code, c), "") for c, _ in SCORECARD_COLUMNS)] for code, name, _ in regions
    ]
    return render_table(headers, rows, right=set(range(2, len(headers)))) + f"\n{len(rows)} regions"


def plain(v: object) -> object:
    """A whole number as an integer (102000, not 102000.0); everything else as it is."""
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def query_mart(con: duckdb.DuckDBPyConnection, args: argparse.Namespace) -> int:
    cols = [r[0] for r in con.execute(f"describe {args.view}").fetchall()]
    try:
        where = build_where(
            args.view,
            cols,
            args.indicator,
            args.region,
            args.level,
            args.province,
            short_titles=dict(SCORECARD_COLUMNS),
        )
    except FilterError as e:
        print(f"etl indicators: {e}", file=sys.stderr)
        return 2
    sql = f"select * from {args.view}" + (" where " + " and ".join(where.clauses) if where.clauses else "")
    sql += " order by all"
    if args.format == "parquet":
        if not args.out:
            print("etl indicators: --format parquet needs --out FILE", file=sys.stderr)
            return 2
        con.execute(f"copy ({sql}) to '{_quote(args.out)}' (format parquet)", where.params)
        return 0
    rel = con.execute(sql, where.params)
    names = [d[0] for d in rel.description]
    rows = [[plain(v) for v in r] for r in rel.fetchall()]
    if not rows:
        said = ", ".join(where.described) or "no filter"
        print(f"etl indicators: {args.view} has no rows for {said}", file=sys.stderr)
    out = open(args.out, "w", encoding="utf-8") if args.out else sys.stdout  # noqa: SIM115
    try:
        if args.format == "jsonl":
            for r in rows:
                out.write(
                    json.dumps(dict(zip(names, r, strict=True)), ensure_ascii=False, default=str) + "\n"
                )
        elif args.format == "json":
            records = [dict(zip(names, r, strict=True)) for r in rows]
            out.write(json.dumps(records, ensure_ascii=False, default=str, indent=1) + "\n")
        elif args.format == "csv":
            import csv

            w = csv.writer(out)
            w.writerow(names)
            w.writerows(rows)
        else:
            numeric = {
                i
                for i, n in enumerate(names)
                if rows and all(isinstance(r[i], int | float) for r in rows if r[i] is not None)
            }
            out.write(render_table(names, [[_cell(v) for v in r] for r in rows], right=numeric) + "\n")
    finally:
        if args.out:
            out.close()
    return 0


def _cell(v: object) -> object:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return v
    return f"{v:,}" if isinstance(v, int) else f"{v:,.4g}" if abs(v) < 1 else f"{v:,.2f}"


def codes_listing() -> str:
    """Indicator codes with their names and units, and each mart with the filters it takes."""
    from etl.warehouse.database import create_views, migrate
    from etl.warehouse.sqlfiles import mart_names

    specs = indicator_specs()
    short = dict(SCORECARD_COLUMNS)
    lines = ["Indicators (--indicator takes the code or a name):"]
    lines.append(
        render_table(
            ["code", "name", "short", "unit"],
            [[s.code, s.name_zh, short.get(s.code, ""), s.unit] for s in specs.values()],
        )
    )
    lines.append("")
    lines.append("Views (--view) and the filters they take:")
    scratch = duckdb.connect()  # an empty warehouse in memory: the views' columns, no data needed
    migrate(scratch)
    create_views(scratch)
    rows = []
    for name in mart_names():
        cols = [r[0] for r in scratch.execute(f"describe {name}").fetchall()]
        rows.append([name, " ".join(f"--{f}" for f in accepted(cols)) or "(none)"])
    scratch.close()
    lines.append(render_table(["view", "filters"], rows))
    return "\n".join(lines)


def _quote(path: str) -> str:
    return path.replace("'", "''")


def check_report(con: duckdb.DuckDBPyConnection) -> str:
    parts = []
    q = con.execute(
        "select layer, source_id, record_key, check_name, reason from quarantine order by layer, source_id, record_key"
    ).fetchall()
    parts.append(f"Quarantine: {len(q)} rows")
    if q:
        parts.append(render_table(["layer", "source", "record", "check", "reason"], q))
    audit = con.execute(
        """select source_id, sum(discovered), sum(fetched), sum(not_modified), sum(skipped), sum(failed),
                  sum(parsed), sum(facts), sum(quarantined),
                  case when sum(discovered) = sum(fetched) + sum(not_modified) + sum(skipped) + sum(failed)
                       then 'yes' else 'NO' end
           from load_audit group by source_id order by source_id"""
    ).fetchall()
    parts.append(
        "\nReconciliation per source of every partition's pages (discovered = fetched + not_modified + "
        "skipped + failed), from the page ledger:"
    )
    parts.append(
        render_table(
            ["source", *SUMMARY_COLUMNS, "reconciled"],
            audit,
        )
    )
    held = con.execute(
        """with a as (
               select source_id, sum(parsed) as parsed, sum(facts) as facts, sum(quarantined) as quarantined
               from load_audit group by 1
           ), t as (
               select s.source_id,
                      (select count(*) from bulletin as b where b.source_id = s.source_id) as parsed,
                      (select count(*) from fact as f where f.source_id = s.source_id) as facts,
                      (select count(*) from quarantine as q where q.source_id = s.source_id) as quarantined
               from (select distinct source_id from load_audit) as s
           )
           select t.source_id, a.parsed, t.parsed, a.facts, t.facts, a.quarantined, t.quarantined,
                  case when (a.parsed, a.facts, a.quarantined) = (t.parsed, t.facts, t.quarantined)
                       then 'yes' else 'NO' end
           from t join a using (source_id) order by 1"""
    ).fetchall()
    parts.append("\nAudit against the warehouse (bulletins, facts, quarantine rows):")
    parts.append(
        render_table(
            [
                "source",
                "audit bulletins",
                "bulletins",
                "audit facts",
                "facts",
                "audit quarantined",
                "quarantined",
                "agrees",
            ],
            held,
        )
    )
    fails = con.execute(
        "select source_id, url, stage, status, error, attempts from fetch_failure order by all"
    ).fetchall()
    parts.append(f"\nPages waiting for a retry: {len(fails)}")
    if fails:
        parts.append(render_table(["source", "url", "stage", "status", "error", "attempts"], fails))
    return "\n".join(parts)
