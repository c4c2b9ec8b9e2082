"""Run summaries and terminal tables."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from etl.models import SourceStats

SUMMARY_COLUMNS = (
    "discovered",
    "fetched",
    "not_modified",
    "skipped",
    "failed",
    "parsed",
    "facts",
    "quarantined",
)


def width(s: str) -> int:
    """Terminal width of ``s``: CJK characters take two columns."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


def pad(s: str, w: int, right: bool = False) -> str:
    fill = " " * max(0, w - width(s))
    return fill + s if right else s + fill


_terminal_width: int | None = None  # set by the CLI when stdout is a terminal: tables are drawn with rich


def use_terminal_tables(columns: int | None) -> None:
    """Draw tables for a terminal of ``columns`` columns (rich: rules, bold header, columns fitted to the
    width), or, with None, as plain aligned text for pipes, files and logs (the default). The CLI decides once,
    from whether its stdout is a TTY."""
    global _terminal_width
    _terminal_width = columns


def render_table(
    headers: Sequence[str], rows: Sequence[Sequence[object]], right: set[int] | None = None
) -> str:
    right = right or set()
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    if _terminal_width:
        return _rich_table(headers, cells, right, _terminal_width)
    widths = [max([width(h)] + [width(r[i]) for r in cells]) for i, h in enumerate(headers)]
    line = "  ".join(pad(h, widths[i], i in right) for i, h in enumerate(headers))
    sep = "  ".join("-" * w for w in widths)
    body = ["  ".join(pad(v, widths[i], i in right) for i, v in enumerate(r)) for r in cells]
    return "\n".join([line, sep, *body])


def _rich_table(headers: Sequence[str], cells: list[list[str]], right: set[int], columns: int) -> str:
    import io

    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False, show_edge=False)
    for i, h in enumerate(headers):
        table.add_column(Text(h), justify="right" if i in right else "left")
    for row in cells:
        table.add_row(*(Text(c) for c in row))  # Text: a value with [brackets] is not rich markup
    out = io.StringIO()
    Console(file=out, width=columns, force_terminal=True, color_system="standard").print(table)
    return out.getvalue().strip("\n")


def summary_rows(stats: Sequence[SourceStats]) -> list[list[object]]:
    rows: list[list[object]] = []
    for s in stats:
        rows.append(
            [
                s.source_id,
                *(getattr(s, c) for c in SUMMARY_COLUMNS),
                "yes" if s.reconciles() else "NO",
                s.status,
            ]
        )
    if stats:
        failed = sum(s.status == "failed" for s in stats)
        rows.append(
            [
                "TOTAL",
                *(sum(getattr(s, c) for s in stats) for c in SUMMARY_COLUMNS),
                "",
                f"{failed} failed" if failed else "",
            ]
        )
    return rows


def summary_text(stats: Sequence[SourceStats]) -> str:
    headers = ["source", *SUMMARY_COLUMNS, "reconciled", "status"]
    out = [render_table(headers, summary_rows(stats), right=set(range(1, len(SUMMARY_COLUMNS) + 1)))]
    failures = [(s.source_id, f) for s in stats for f in s.failures]
    if failures:
        out.append("\nFailed pages (retried on the next run):")
        out += [f"  {sid}: {f.url} [{f.stage}] {f.reason}" for sid, f in failures]
    skips = [(s.source_id, k) for s in stats for k in s.skips]
    if skips:
        out.append("\nSkipped pages:")
        out += [f"  {sid}: {k.url} [{k.stage}] {k.reason}" for sid, k in skips]
    return "\n".join(out)


def summary_markdown(stats: Sequence[SourceStats], title: str) -> str:
    headers = ["source", *SUMMARY_COLUMNS, "reconciled", "status"]
    lines = [f"# {title}", ""]
    failed = [s.source_id for s in stats if s.status == "failed"]
    if failed:
        lines += [f"**FAILED: {', '.join(failed)}** (discovery failed or no page could be read)", ""]
    lines += ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in summary_rows(stats)]
    failures = [(s.source_id, f) for s in stats for f in s.failures]
    if failures:
        lines += ["", "## Failed pages", ""]
        lines += [f"- `{sid}` {f.url} ({f.stage}): {f.reason}" for sid, f in failures]
    skips = [(s.source_id, k) for s in stats for k in s.skips]
    if skips:
        lines += ["", "## Skipped pages", ""]
        lines += [f"- `{sid}` {k.url} ({k.stage}): {k.reason}" for sid, k in skips]
    return "\n".join(lines)


# How tables and charts show a value's qualifier: 余/超/以上 ≥, 约/近 ~, 不足/不到 <.
QUALIFIER_MARK = {"more_than": "≥", "about": "~", "less_than": "<"}
# Regions are listed from the largest level down.
LEVEL_ORDER = {"country": 0, "province": 1, "prefecture": 2, "county": 3}


def level_rank_sql(column: str) -> str:
    """SQL ranking ``column`` by :data:`LEVEL_ORDER` (unknown levels last), for ``order by``."""
    whens = " ".join(f"when '{level}' then {rank}" for level, rank in LEVEL_ORDER.items())
    return f"case {column} {whens} else {len(LEVEL_ORDER)} end"


def format_value(v: float | None, qualifier: str | None = None, unit: str | None = None) -> str:
    if v is None:
        return ""
    mark = QUALIFIER_MARK.get(qualifier or "", "")
    if unit == "percent":
        return f"{mark}{v:g}%"
    if float(v).is_integer():
        return f"{mark}{int(v):,}"
    return f"{mark}{v:,.2f}"


def _eta(done: int, total: int, elapsed: float) -> str:
    left = int(elapsed / done * (total - done)) if done else 0
    return "done" if done >= total else f"ETA {left // 60}m{left % 60:02d}s"


def source_progress(done: int, total: int, s: SourceStats, elapsed: float) -> str:
    """``[3/20] fuyang-mzj ok: 4 fetched, 2 unchanged, 12 facts; ETA 0m12s`` as each source finishes."""
    eta = _eta(done, total, elapsed)
    parts = [f"{s.fetched} fetched", f"{s.not_modified} unchanged", f"{s.facts} facts"]
    if s.failed:
        parts.append(f"{s.failed} failed")
    return f"[{done}/{total}] {s.source_id} {s.status}: {', '.join(parts)}; {eta}"


def reparse_progress(pages: int, total: int, facts: int, elapsed: float) -> str:
    """``[120,000/1,000,000 pages, 12%] 710,400 facts, 1,790 pages/s; ETA 8m11s`` as chunks are loaded."""
    share = f"{pages / total:.0%}" if total else "-"
    rate = f"{pages / elapsed:,.0f} pages/s" if elapsed > 0 else "-"
    return f"[{pages:,}/{total:,} pages, {share}] {facts:,} facts, {rate}; {_eta(pages, total, elapsed)}"
