"""A static HTML report of the marts: one file, scripts and styles inlined, charts as inline SVG, no network.

Opens in any browser from disk. Charts are drawn here (SVG) rather than by a charting library so the page needs
nothing at view time and stays small: bar charts show the top regions of each level, trend charts the regions
whose series has at least two points.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from etl.report.choropleth import MapValue, choropleth
from etl.report.summary import LEVEL_ORDER, QUALIFIER_MARK, format_value, level_rank_sql
from etl.report.terminal import SCORECARD_COLUMNS

MAX_BARS = 30  # per chart; the rest is summarised in a note
MAX_TRENDS = 120  # small multiples per report
STALE_DAYS = 365
LEVELS = [("province", "省级"), ("prefecture", "地市级"), ("county", "县级"), ("country", "全国")]
LEVEL_ZH = dict(LEVELS)
UNIT_ZH = {
    "station": "个",
    "org": "家",
    "person": "人",
    "project": "个",
    "event": "场次",
    "person_time": "人次",
}


def amount(v: float | None, qualifier: str | None, unit: str | None) -> str:
    """A value as a reader of the bulletins writes it: money in 万元/亿元, counts with their measure word."""
    if v is None:
        return ""
    if unit == "cny":
        mark = QUALIFIER_MARK.get(qualifier or "", "")
        if abs(v) >= 1e8:
            return f"{mark}{v / 1e8:,.2f}".rstrip("0").rstrip(".") + "亿元"
        if abs(v) >= 1e4:
            return f"{mark}{v / 1e4:,.1f}".rstrip("0").rstrip(".") + "万元"
        return f"{mark}{v:,.0f}元"
    return format_value(v, qualifier, unit) + UNIT_ZH.get(unit or "", "")


RATIOS = [
    ("funding_per_station", "每站资金(元)"),
    ("social_workers_per_station", "每站社工"),
    ("people_served_per_social_worker", "每名社工服务人次"),
    ("volunteers_per_social_worker", "每名社工对应志愿者"),
]
_CSS = """
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","WenQuanYi Micro Hei","WenQuanYi Zen Hei","PingFang SC",
"Microsoft YaHei","Hiragino Sans GB",sans-serif;margin:24px;color:#1f2933;background:#fafbfc}
h1{font-size:24px;margin:0 0 8px}h2{font-size:19px;margin:28px 0 8px;border-bottom:2px solid #d9e2ec;padding-bottom:4px}
h3{font-size:15px;margin:14px 0 4px}.meta{color:#52606d;font-size:13px}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:12px 0}.card{background:#fff;border:1px solid #d9e2ec;border-radius:6px;
padding:8px 14px;min-width:110px}.card b{display:block;font-size:20px}.bad{color:#b42318}
table{border-collapse:collapse;background:#fff;font-size:13px;margin:6px 0}th,td{border:1px solid #d9e2ec;padding:3px 7px;
text-align:right;white-space:nowrap}th{background:#f0f4f8;cursor:pointer;position:sticky;top:0}td.l,th.l{text-align:left}
tr.stale td{background:#fff4e5}a{color:#1d4ed8;text-decoration:none}a:hover{text-decoration:underline}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,620px),1fr));gap:18px}.chart{background:#fff;border:1px solid #d9e2ec;border-radius:6px;padding:8px}
.trends{display:grid;grid-template-columns:repeat(auto-fill,minmax(270px,1fr));gap:10px}.trend{background:#fff;border:1px solid #d9e2ec;border-radius:6px;padding:4px}
.note{color:#7b8794;font-size:12px}svg text{font-family:inherit}
.maps{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,560px),1fr));gap:18px}
.map{background:#fff;border:1px solid #d9e2ec;border-radius:6px;padding:8px;margin:0}.map figcaption{font-weight:600;font-size:14px}
.choropleth{width:100%;height:auto}.choropleth path{vector-effect:non-scaling-stroke}.choropleth path.has-value:hover{opacity:.8}
.legend{display:flex;flex-wrap:wrap;gap:4px 12px;font-size:12px;align-items:center}.key i{display:inline-block;width:14px;height:10px;margin-right:4px;border:1px solid #cbd2d9}
"""
_JS = """
document.querySelectorAll('table.sortable').forEach(function(t){
  t.querySelectorAll('th').forEach(function(th,i){
    th.addEventListener('click',function(){
      var rows=Array.from(t.tBodies[0].rows), asc=th.dataset.asc!=='1';
      rows.sort(function(a,b){
        var x=a.cells[i].dataset.v, y=b.cells[i].dataset.v;
        var nx=parseFloat(x), ny=parseFloat(y);
        if(x===''||x===undefined) return 1; if(y===''||y===undefined) return -1;
        var c=(!isNaN(nx)&&!isNaN(ny))?nx-ny:String(x).localeCompare(String(y),'zh');
        return asc?c:-c;});
      rows.forEach(function(r){t.tBodies[0].appendChild(r);});
      th.dataset.asc=asc?'1':'0';
    });
  });
});
"""


@dataclass
class ReportResult:
    path: Path
    bytes: int
    regions: int
    bar_charts: int
    trend_charts: int
    maps: int = 0


def e(v: object) -> str:
    return html.escape("" if v is None else str(v), quote=True)


def build_report(
    con: duckdb.DuckDBPyConnection,
    out_dir: Path,
    run_info: dict | None = None,
    map_indicator: str | None = None,
) -> ReportResult:
    """Write ``out_dir/index.html`` from the marts of ``con``; ``out_dir`` naming an ``.html`` file (existing or
    not) is written as that file. The maps show ``map_indicator`` (default: the indicator most provinces
    report)."""
    name = "index.html"
    if out_dir.suffix.lower() in (".html", ".htm") or out_dir.is_file():
        out_dir, name = out_dir.parent, out_dir.name
    out_dir.mkdir(parents=True, exist_ok=True)
    indicators = con.execute(
        "select code, name_zh, unit, additive from dim_indicator order by code"
    ).fetchall()
    latest = con.execute(
        "select region_code, region_name, region_level, indicator, value, unit, qualifier, as_of, source_url, "
        "evidence from mart_region_indicator_latest"
    ).fetchall()
    cell = {(r[0], r[3]): r for r in latest}
    card_cols = [c for c, _ in SCORECARD_COLUMNS] + [c for c, _ in RATIOS]
    card = con.execute(
        f"select region_code, region_name, region_level, {', '.join(card_cols)} from mart_region_scorecard "
        f"order by province_code, {level_rank_sql('region_level')}, region_code"
    ).fetchall()
    parts = [_header(con, run_info, len(card))]
    maps = _maps(latest, indicators, map_indicator)
    parts.append(maps)
    bars: list[str] = []
    for code, name_zh, _unit, _ in indicators:
        rows = [r for r in latest if r[3] == code]
        if not rows:
            continue
        bars += _bar_charts(code, name_zh, rows)
    # one grid for every chart: a short chart does not leave a row half empty
    grid = f"<div class='charts'>{''.join(bars)}</div>" if bars else "<p class='note'>暂无数据</p>"
    parts.append("<h2 id='charts'>各指标地区对比（最新值及其日期）</h2>" + grid)
    trends = _trend_charts(con, {c: n for c, n, _, _ in indicators})
    parts.append(
        "<h2 id='trends'>趋势（至少两个观测点）</h2><div class='trend-groups'>" + "".join(trends) + "</div>"
        if trends
        else "<h2 id='trends'>趋势</h2><p class='note'>暂无两期以上的数据</p>"
    )
    parts.append(_scorecard_table(card, cell))
    parts.append(_freshness(con))
    parts.append(_quarantine(con))
    page = (
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>社会工作指标报告</title><style>{_CSS}</style></head><body>"
        + "".join(parts)
        + f"<script>{_JS}</script></body></html>"
    )
    path = out_dir / name
    path.write_text(page, encoding="utf-8")
    return ReportResult(
        path,
        path.stat().st_size,
        len(card),
        sum(b.count("<svg") for b in bars),
        sum(g.count("<svg") for g in trends),
        maps.count("class='choropleth'"),
    )


def map_default(latest: list, codes: list[str]) -> str | None:
    """The indicator with values for the most provinces, then prefectures; ties by code."""
    counts = {c: [0, 0] for c in codes}
    for r in latest:
        if r[3] in counts and r[2] in ("province", "prefecture"):
            counts[r[3]][0 if r[2] == "province" else 1] += 1
    ranked = sorted((c for c, n in counts.items() if sum(n)), key=lambda c: (-counts[c][0], -counts[c][1], c))
    return ranked[0] if ranked else None


def _maps(latest: list, indicators: list, chosen: str | None) -> str:
    names = {c: (n, u) for c, n, u, _ in indicators}
    code = chosen or map_default(latest, list(names))
    if code is None:
        return "<h2 id='maps'>地图</h2><p class='note'>暂无省级或地市级数据</p>"
    name, unit = names.get(code, (code, None))
    figures = []
    for level in ("province", "prefecture"):
        rows = [r for r in latest if r[3] == code and r[2] == level]
        if not rows:
            continue
        values = [MapValue(r[0], r[1], r[4], amount(r[4], r[6], r[5]), str(r[7] or "")) for r in rows]
        dates = sorted(v.as_of for v in values if v.as_of)
        span = (
            f"{dates[0]} 至 {dates[-1]}" if dates and dates[0] != dates[-1] else (dates[0] if dates else "")
        )
        title = f"{name}：{LEVEL_ZH[level]}最新值" + (f"（{span}）" if span else "")
        figures.append(choropleth(f"map-{level}", title, values, level, lambda v, u=unit: amount(v, None, u)))
    if not figures:
        return f"<h2 id='maps'>地图：{e(name)}</h2><p class='note'>{e(name)}暂无省级或地市级数据</p>"
    return f"<h2 id='maps'>地图：{e(name)}</h2><div class='maps'>{''.join(figures)}</div>"


def _header(con: duckdb.DuckDBPyConnection, run_info: dict | None, regions: int) -> str:
    counts = con.execute(
        "select count(distinct source_id), coalesce(sum(discovered), 0), coalesce(sum(fetched), 0), "
        "coalesce(sum(not_modified), 0), coalesce(sum(skipped), 0), coalesce(sum(failed), 0), "
        "coalesce(sum(facts), 0) from load_audit"
    ).fetchone()
    sources = [r[0] for r in con.execute("select distinct source_id from bulletin order by 1").fetchall()]
    facts = con.execute("select count(*) from fact").fetchone()[0]
    quarantined = con.execute("select count(*) from quarantine").fetchone()[0]
    reconciled = counts[1] == counts[2] + counts[3] + counts[4] + counts[5]
    when = (run_info or {}).get("when") or datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    cards = [
        ("地区", regions),
        ("事实", facts),
        ("来源", len(sources)),
        ("发现页面", counts[1]),
        ("抓取", counts[2]),
        ("未变化(304)", counts[3]),
        ("跳过", counts[4]),
        ("失败", counts[5]),
    ]
    html_cards = "".join(f"<div class='card'>{e(k)}<b>{e(v)}</b></div>" for k, v in cards)
    q_class = " bad" if quarantined else ""
    html_cards += (
        f"<div class='card{q_class}'>隔离行<b><a href='#quarantine'>{quarantined}</a></b></div>"
        f"<div class='card'>对账<b class='{'' if reconciled else 'bad'}'>"
        f"{'一致' if reconciled else '不一致'}</b></div>"
    )
    return (
        f"<h1>社会工作指标报告</h1><p class='meta'>生成时间 {e(when)} · 来源：{e('、'.join(sources))}</p>"
        f"<div class='cards' id='run'>{html_cards}</div>"
        "<p class='note'>≥ 表示“余/超/以上”，~ 表示“约/近”，&lt; 表示“不足/不到”。每个数值链接到原文，悬停查看证据句。</p>"
    )


def _bar_charts(code: str, name_zh: str, rows: list) -> list[str]:
    out = []
    for level, level_zh in LEVELS:
        items = sorted((r for r in rows if r[2] == level), key=lambda r: (-r[4], r[0]))
        if not items:
            continue
        shown = items[:MAX_BARS]
        top = max(r[4] for r in shown) or 1
        bar_h, label_w, width = 18, 120, 600
        height = bar_h * len(shown) + 10
        svg = [
            f"<svg class='bar-chart' data-indicator='{e(code)}' data-level='{level}' width='{width}' "
            f"height='{height}' role='img' aria-label='{e(name_zh)} {level_zh}'>"
        ]
        for i, r in enumerate(shown):
            y = 5 + i * bar_h
            w = max(1.0, (width - label_w - 190) * r[4] / top)
            label = f"{amount(r[4], r[6], r[5])}（{r[7]}）"  # the value and the date it stands for
            svg.append(
                f"<a href='{e(r[8])}'><title>{e(r[9])}</title>"
                f"<text x='{label_w - 6}' y='{y + 13}' text-anchor='end' font-size='12'>{e(r[1])}</text>"
                f"<rect class='bar' x='{label_w}' y='{y + 2}' width='{w:.1f}' height='{bar_h - 5}' fill='#3b82f6'/>"
                f"<text class='bar-label' x='{label_w + w + 4:.1f}' y='{y + 13}' font-size='12'>{e(label)}</text></a>"
            )
        svg.append("</svg>")
        note = (
            f"<p class='note'>前 {MAX_BARS} 名，共 {len(items)} 个地区</p>" if len(items) > MAX_BARS else ""
        )
        out.append(f"<div class='chart'><h3>{e(name_zh)} · {level_zh}</h3>{''.join(svg)}{note}</div>")
    return out


def _trend_charts(con: duckdb.DuckDBPyConnection, names: dict[str, str]) -> list[str]:
    """Small multiples: per indicator, every region's series on one common scale (y from 0 to the indicator's
    largest value, x over the indicator's dates), with axes, so a rise of 1.5 and one of 58% look different."""
    series = con.execute(
        """select region_code, any_value(region_name), indicator, list(as_of order by as_of),
                  list(value order by as_of), list(qualifier order by as_of), any_value(unit),
                  any_value(region_level) as level
           from mart_indicator_trend group by region_code, indicator having count(*) >= 2
           order by indicator, """
        + level_rank_sql("level")
        + """, region_code limit ?""",
        [MAX_TRENDS],
    ).fetchall()
    # one scale per indicator and level: a province's 1,500 stations would flatten a county's 30
    by_indicator: dict[tuple[str, str], list] = {}
    for row in series:
        by_indicator.setdefault((row[2], row[7]), []).append(row)
    out = []
    w, h, left, bottom, top_pad = 260, 130, 62, 26, 20
    for (ind, level), rows in by_indicator.items():
        hi = max(max(r[4]) for r in rows) or 1
        t0 = min(r[3][0] for r in rows).toordinal()
        t1 = max(r[3][-1] for r in rows).toordinal()
        tspan = (t1 - t0) or 1
        d0, d1 = min(r[3][0] for r in rows), max(r[3][-1] for r in rows)
        unit = rows[0][6]
        charts = []
        for _code, region, _ind, dates, values, quals, _unit, _level in rows:
            pts = [
                (
                    left + (w - left - 10) * (d.toordinal() - t0) / tspan,
                    h - bottom - (h - bottom - top_pad) * v / hi,
                )
                for d, v in zip(dates, values, strict=True)
            ]
            poly = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
            dots = "".join(
                f"<circle cx='{x:.1f}' cy='{y:.1f}' r='3' fill='#2563eb'><title>{d} {e(amount(v, q, unit))}</title>"
                "</circle>"
                for (x, y), d, v, q in zip(pts, dates, values, quals, strict=True)
            )
            y_axis = (
                f"<g class='axis y-axis'><line x1='{left}' y1='{top_pad}' x2='{left}' y2='{h - bottom}' stroke='#9aa5b1'/>"
                f"<text x='{left - 4}' y='{top_pad + 4}' font-size='10' text-anchor='end'>{e(amount(hi, None, unit))}</text>"
                f"<text x='{left - 4}' y='{h - bottom}' font-size='10' text-anchor='end'>0</text></g>"
            )
            x_axis = (
                f"<g class='axis x-axis'><line x1='{left}' y1='{h - bottom}' x2='{w - 10}' y2='{h - bottom}' stroke='#9aa5b1'/>"
                f"<text x='{left}' y='{h - 8}' font-size='10'>{d0}</text>"
                f"<text x='{w - 10}' y='{h - 8}' font-size='10' text-anchor='end'>{d1}</text></g>"
            )
            last = amount(values[-1], quals[-1], unit)
            charts.append(
                f"<div class='trend'><svg class='trend-chart' data-indicator='{e(ind)}' width='{w}' height='{h}'>"
                f"<text x='6' y='13' font-size='12'>{e(region)}</text>"
                f"<text x='{w - 6}' y='13' font-size='11' text-anchor='end'>{e(last)}</text>"
                f"{y_axis}{x_axis}<polyline points='{poly}' fill='none' stroke='#2563eb' stroke-width='2'/>{dots}"
                "</svg></div>"
            )
        out.append(
            f"<div class='trend-group'><h3>{e(names.get(ind, ind))} · {LEVEL_ZH.get(level, level)}"
            f"（同一纵轴：0 至 {e(amount(hi, None, unit))}）</h3>"
            f"<div class='trends'>{''.join(charts)}</div></div>"
        )
    return out


def _scorecard_table(card: list, cell: dict) -> str:
    heads = ["<th class='l'>代码</th><th class='l'>地区</th><th class='l'>级别</th>"]
    heads += [f"<th>{e(t)}</th>" for _, t in SCORECARD_COLUMNS]
    heads += [f"<th>{e(t)}</th>" for _, t in RATIOS]
    body = []
    n_ind = len(SCORECARD_COLUMNS)
    for row in card:
        code, name, level = row[0], row[1], row[2]
        tds = [
            f"<td class='l' data-v='{e(code)}'>{e(code)}</td><td class='l' data-v='{e(name)}'>{e(name)}</td>"
            f"<td class='l' data-v='{LEVEL_ORDER.get(level, 9)}'>{e(LEVEL_ZH.get(level, level))}</td>"
        ]
        for (ind, _), value in zip(SCORECARD_COLUMNS, row[3 : 3 + n_ind], strict=True):
            f = cell.get((code, ind))
            if value is None or f is None:
                tds.append("<td data-v=''></td>")
                continue
            tds.append(
                f"<td data-v='{value}'><a href='{e(f[8])}' title='{e(f[9])}（{e(f[7])}）'>"
                f"{e(amount(value, f[6], f[5]))}</a></td>"
            )
        for value in row[3 + n_ind :]:
            tds.append(
                f"<td data-v='{'' if value is None else value}'>{'' if value is None else f'{value:,.2f}'}</td>"
            )
        body.append(f"<tr data-region='{e(code)}'>{''.join(tds)}</tr>")
    return (
        "<h2 id='scorecard'>地区指标总表</h2><p class='note'>点击表头排序；数值链接到来源公告，悬停显示证据句和日期。</p>"
        f"<table class='sortable' id='scorecard-table'><thead><tr>{''.join(heads)}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _freshness(con: duckdb.DuckDBPyConnection) -> str:
    rows = con.execute(
        "select source_id, latest_bulletin, bulletins, last_successful_fetch, days_since_latest_bulletin, "
        "pages_waiting_retry from mart_source_freshness order by source_id"
    ).fetchall()
    body = "".join(
        f"<tr class='{'stale' if (r[4] or 0) > STALE_DAYS else ''}'><td class='l'>{e(r[0])}</td><td>{e(r[1])}</td>"
        f"<td>{e(r[2])}</td><td>{e(str(r[3])[:16])}</td><td>{e(r[4])}</td><td>{e(r[5])}</td></tr>"
        for r in rows
    )
    return (
        "<h2 id='freshness'>数据新鲜度</h2>"
        f"<p class='note'>最新公告超过 {STALE_DAYS} 天的来源以橙色标出。</p>"
        "<table id='freshness-table'><thead><tr><th class='l'>来源</th><th>最新公告</th><th>公告数</th>"
        "<th>最近成功抓取</th><th>距最新公告天数</th><th>待重试页面</th></tr></thead>"
        f"<tbody>{body}</tbody></table>"
    )


def _quarantine(con: duckdb.DuckDBPyConnection) -> str:
    summary = con.execute(
        "select layer, check_name, count(*) from quarantine group by all order by 3 desc, 1, 2"
    ).fetchall()
    rows = con.execute(
        "select layer, source_id, record_key, check_name, reason from quarantine order by layer, source_id, record_key "
        "limit 500"
    ).fetchall()
    s = "".join(
        f"<tr><td class='l'>{e(a)}</td><td class='l'>{e(b)}</td><td>{c}</td></tr>" for a, b, c in summary
    )
    r = "".join("<tr>" + "".join(f"<td class='l'>{e(v)}</td>" for v in row) + "</tr>" for row in rows)
    return "<h2 id='quarantine'>隔离区</h2>" + (
        f"<table><thead><tr><th class='l'>层</th><th class='l'>检查</th><th>行数</th></tr></thead><tbody>{s}"
        "</tbody></table><table id='quarantine-table'><thead><tr><th class='l'>层</th><th class='l'>来源</th>"
        f"<th class='l'>记录</th><th class='l'>检查</th><th class='l'>原因</th></tr></thead><tbody>{r}</tbody>"
        "</table>"
        if summary
        else "<p>没有被隔离的行。</p>"
    )
