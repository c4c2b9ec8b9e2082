"""Try a source without loading anything (``etl sources test``, ``etl sources add``): discover a few list
pages, read one bulletin through the same path the nightly run uses, and say what was found."""

from __future__ import annotations

import dataclasses
import json
import re
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from etl.fetch.client import FetchSettings
from etl.fetch.kinds import Discovery
from etl.fetch.rawzone import RawZone
from etl.fetch.sources import Source
from etl.models import Bulletin, Fact, Window
from etl.orchestration.ingest import discover_source, fetch_refs
from etl.reference.regions import Gazetteer, load_gazetteer

PROBE_PAGES = 3  # list pages read by a probe: enough to see the pagination, little load on the site


@dataclass
class Probe:
    source: Source
    discovery: Discovery
    bulletin: Bulletin | None = None
    facts: list[Fact] = field(default_factory=list)
    article_error: str = ""

    @property
    def ok(self) -> bool:
        return bool(self.discovery.refs) and not self.discovery.failures and self.bulletin is not None


def probe(source: Source, settings: FetchSettings | None = None, today: date | None = None) -> Probe:
    src = dataclasses.replace(source, max_pages=min(source.max_pages, PROBE_PAGES))
    window = Window(src.since, today or date.today())
    found = discover_source(src, window, settings)
    out = Probe(source, found)
    if not found.refs:
        return out
    with tempfile.TemporaryDirectory(prefix="etl-probe-") as tmp:
        batch = fetch_refs(src, window, found.refs[:1], RawZone(Path(tmp)), None, settings, follow=False)
    if batch.bulletins:
        out.bulletin = batch.bulletins[0]
        out.facts = [f for f in batch.facts if f.bulletin_id == out.bulletin.bulletin_id]
    else:
        problems = [f.reason for f in batch.stats.failures] + [q.get("reason", "") for q in batch.quarantine]
        out.article_error = problems[0] if problems else "no bulletin read from the page"
    return out


def describe(p: Probe) -> list[str]:
    d = p.discovery
    dates = sorted(r.published for r in d.refs if r.published)
    lines = [f"probe {p.source.list_url}"]
    kind = p.source.kind + (f" (recognised: {d.family})" if d.family else "")
    lines.append(f"  kind        {kind}; {d.pages} list page(s) read; {d.stopped_because}")
    span = f", {dates[0]} … {dates[-1]}" if dates else ""
    undated = sum(r.published is None for r in d.refs)
    lines.append(f"  bulletins   {len(d.refs)}{span}" + (f" ({undated} undated)" if undated else ""))
    for f in d.failures:
        lines.append(f"  failed      {f.line()}")
    for s in d.skips:
        lines.append(f"  skipped     {s.line()}")
    if p.bulletin is not None:
        b = p.bulletin
        lines += [
            f"  article     {b.url}",
            f"    title     {b.title}",
            f"    date      {b.published or 'not found'}",
            f"    text      {len(b.text)} characters",
            f"    facts     {len(p.facts)}"
            + (
                ": " + "; ".join(f"{f.indicator} {f.region_code} {f.value:g}" for f in p.facts[:6])
                if p.facts
                else ""
            ),
        ]
    elif d.refs:
        lines.append(f"  article     {d.refs[0].url}: {p.article_error}")
    return lines


def guess_region(name: str, gazetteer: Gazetteer | None = None) -> str | None:
    """The region a bureau's name names (湖州市民政局 → 330500): the place before 民政局/厅, else the one
    place every other place named contains; None when the name does not decide it."""
    g = gazetteer or load_gazetteer()
    mentions = [m for m in g.mentions(name) if m.codes]
    context = {c for m in mentions for c in m.codes if len(m.codes) == 1}
    chosen = [m for m in mentions if m.bureau] or mentions
    codes = {g.disambiguate(m.codes, context) for m in chosen}
    codes.discard(None)
    deepest = [c for c in codes if not any(o != c and g.is_within(o, c) for o in codes)]
    return deepest[0] if len(deepest) == 1 else None  # type: ignore[return-value]


def source_name(page_title: str, fallback: str) -> str:
    """A list page's <title> without its column part: 通知公告_湖州市民政局 → 湖州市民政局."""
    parts = [s.strip() for s in re.split(r"[_|｜\-—–·\s]+", page_title) if s.strip()]
    named = [s for s in parts if "民政" in s]
    return (named[-1] if named else parts[-1] if parts else "") or fallback


def source_id(url: str) -> str:
    """An id from the list URL's host and path: www.hz.gov.cn/col/col1234/index.html → hz-gov-cn-col1234."""
    parts = urlsplit(url)
    host = [h for h in parts.netloc.split(":")[0].split(".") if h not in ("www", "")]
    path = [s for s in re.split(r"[/.]", parts.path) if s and s not in ("index", "html", "htm", "shtml")]
    return "-".join(host + path[-1:]).lower()[:60] or "source"


def toml_entry(entry: dict[str, Any]) -> str:
    lines = ["[[source]]"]
    for k, v in entry.items():
        lines.append(f"{k} = {json.dumps(v, ensure_ascii=False)}")  # a JSON string is a TOML basic string
    return "\n".join(lines) + "\n"
