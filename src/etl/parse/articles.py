"""Split a newspaper page into its articles and decide which region each article is about.

A page like the seed holds several bureau reports, each opened by a headline naming its place (``安徽阜阳：``)
and closed by an attribution (``（据阜阳市民政局）``). Facts take their article's region, so the split comes first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from etl.reference.regions import Gazetteer

_HEADLINE = re.compile(r"^[\u4e00-\u9fff]{2,16}[：:]$")
_MAYBE_SPLIT = re.compile(
    r"(?m)^[ \t\u3000]*(?:[\u4e00-\u9fff][ \t\u3000]*){2,16}[：:][ \t\u3000]*$|^[ \t\u3000]*[（(]据"
)
_ATTRIBUTION = re.compile(r"^[（(]据[^（）()\n]{2,40}[）)]$")


@dataclass(frozen=True)
class ArticleSpan:
    start: int  # offsets into the page text
    end: int
    region: str | None  # region of the headline, if the article has one
    headline: str = ""


def headline_region(line: str, gaz: Gazetteer) -> str | None:
    """Region of a headline such as ``云南丽江古城区：`` when the words before the colon are all place names."""
    words = line.rstrip("：:")
    mentions = gaz.mentions(words)
    pos = 0
    chosen: list[str] = []
    for m in mentions:
        if m.start != pos or m.collective:
            return None
        pos = m.end
        code = gaz.disambiguate(m.codes, set(chosen))
        if code is None:
            return None
        chosen.append(code)
    if pos != len(words) or not chosen:
        return None
    # The most specific place that sits inside the others named (安徽 阜阳 → 阜阳市).
    return max(chosen, key=lambda c: len(gaz.ancestors(c)))


def split_articles(text: str, gaz: Gazetteer) -> list[ArticleSpan]:
    """Articles of a page; a page without headlines or attributions is one article."""
    if not _MAYBE_SPLIT.search(text):
        return [ArticleSpan(0, len(text), None)]  # most pages: one scan instead of a walk over every line
    lines: list[tuple[int, int, str]] = []
    pos = 0
    for raw in text.splitlines(keepends=True):
        # only lines that could be a headline or an attribution need their spaces removed
        compact = re.sub(r"\s+", "", raw) if ("：" in raw or ":" in raw or "据" in raw) else ""
        lines.append((pos, pos + len(raw), compact))
        pos += len(raw)
    spans: list[ArticleSpan] = []
    cur_start, cur_region, cur_head = 0, None, ""
    for start, end, compact in lines:
        region = headline_region(compact, gaz) if _HEADLINE.match(compact) else None
        if region is not None:
            if text[cur_start:start].strip():
                spans.append(ArticleSpan(cur_start, start, cur_region, cur_head))
            cur_start, cur_region, cur_head = start, region, compact
        elif _ATTRIBUTION.match(compact):
            spans.append(ArticleSpan(cur_start, end, cur_region, cur_head))
            cur_start, cur_region, cur_head = end, None, ""
    if text[cur_start:].strip():
        spans.append(ArticleSpan(cur_start, len(text), cur_region, cur_head))
    return [s for s in spans if len(text[s.start : s.end].strip()) > 20] or [ArticleSpan(0, len(text), None)]
