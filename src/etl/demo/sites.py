"""Render the demo bureau sites (list pages, article pages, RSS, newspaper pages) from ``bulletins.toml``."""

from __future__ import annotations

import html
import tomllib
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib import resources

# Sidebar headlines carry numbers of other places: they must never become facts.
SIDEBAR_HEADLINES = (
    "南京市建成社工站100个 服务群众超50万人次",
    "合肥市持证社工突破1.2万人",
    "全国社会工作者达到240万名",
)


@dataclass(frozen=True)
class Article:
    slug: str
    date: date
    title: str
    paragraphs: tuple[str, ...]
    # newspaper pages: (headline, subtitle, paragraphs, attribution) per article
    parts: tuple[tuple[str, str, tuple[str, ...], str], ...] = ()


@dataclass(frozen=True)
class Site:
    id: str
    name: str
    shape: str
    region: str | None = None
    page_size: int = 5
    encoding: str = "utf-8"
    articles: tuple[Article, ...] = field(default_factory=tuple)

    def newest_first(self) -> list[Article]:
        return sorted(self.articles, key=lambda a: (a.date, a.slug), reverse=True)


def _paragraphs(body: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in body.strip().split("\n\n") if p.strip())


@cache
def load_sites() -> dict[str, Site]:
    pkg = resources.files("etl.demo")
    site_cfg = tomllib.loads(pkg.joinpath("sites.toml").read_text(encoding="utf-8"))
    content = tomllib.loads(pkg.joinpath("bulletins.toml").read_text(encoding="utf-8"))
    by_site: dict[str, list[Article]] = {}
    for b in content.get("bulletin", []):
        by_site.setdefault(b["site"], []).append(
            Article(b["slug"], b["date"], b["title"], _paragraphs(b["body"]))
        )
    for issue in content.get("issue", []):
        parts = tuple(
            (a["headline"], a.get("subtitle", ""), _paragraphs(a["body"]), a["attribution"])
            for a in issue["article"]
        )
        by_site.setdefault(issue["site"], []).append(
            Article(issue["slug"], issue["date"], issue["title"], (), parts)
        )
    sites = {}
    for s in site_cfg["site"]:
        sites[s["id"]] = Site(
            id=s["id"],
            name=s["name"],
            shape=s["shape"],
            region=s.get("region"),
            page_size=s.get("page_size", 5),
            encoding=s.get("encoding", "utf-8"),
            articles=tuple(by_site.get(s["id"], [])),
        )
    return sites


def _page(site: Site, title: str, main: str) -> str:
    e = html.escape
    nav = "".join(
        f'<li><a href="/list.html">{x}</a></li>'
        for x in ("首页", "机构概况", "政务公开", "工作动态", "办事服务")
    )
    side = "".join(f'<li><a href="#">{e(h)}</a></li>' for h in SIDEBAR_HEADLINES)
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><title>{e(title)} - {e(site.name)}</title></head>
<body>
<div class="header"><div class="logo">{e(site.name)}</div><ul class="nav">{nav}</ul></div>
<div class="breadcrumb">当前位置：首页 &gt; 工作动态</div>
<div class="container">
{main}
<div class="sidebar"><h3>热点新闻</h3><ul>{side}</ul></div>
</div>
<div class="footer">主办：{e(site.name)} 网站标识码：0000000000 联系电话：0000-00000000</div>
</body></html>"""


def list_page(site: Site, page: int) -> str | None:
    arts = site.newest_first()
    pages = max(1, -(-len(arts) // site.page_size))
    if page < 1 or page > pages:
        return None
    chunk = arts[(page - 1) * site.page_size : page * site.page_size]
    e = html.escape
    items = "".join(
        f'<li><a href="/art/{a.slug}.html" title="{e(a.title)}">{e(a.title)}</a>'
        f'<span class="date">{a.date.isoformat()}</span></li>'
        for a in chunk
    )
    links = []
    if page > 1:
        prev = "list.html" if page == 2 else f"list_{page - 1}.html"
        links.append(f'<a class="prev" href="/{prev}">上一页</a>')
    if page < pages:
        links.append(f'<a class="next" href="/list_{page + 1}.html">下一页</a>')
    main = (
        f'<div class="main"><h2>工作动态</h2><ul class="news-list">{items}</ul>'
        f'<div class="pager">{"".join(links)}<span>第{page}页/共{pages}页</span></div></div>'
    )
    return _page(site, "工作动态", main)


def article_page(site: Site, slug: str) -> str | None:
    art = next((a for a in site.articles if a.slug == slug), None)
    if art is None:
        return None
    e = html.escape
    if art.parts:
        blocks = []
        for headline, subtitle, paras, attribution in art.parts:
            body = "".join(f"<p>{e(p)}</p>" for p in paras)
            blocks.append(
                f'<div class="news"><h2>{e(headline)}</h2><h3>{e(subtitle)}</h3>{body}<p>{e(attribution)}</p></div>'
            )
        content = f'<div class="page-content">{"".join(blocks)}</div>'
    else:
        content = '<div class="TRS_Editor">' + "".join(f"<p>{e(p)}</p>" for p in art.paragraphs) + "</div>"
    main = (
        f'<div class="article"><h1>{e(art.title)}</h1>'
        f'<div class="info">发布时间：{art.date.isoformat()} 来源：{e(site.name)}</div>{content}</div>'
    )
    return _page(site, art.title, main)


def rss_feed(site: Site, base_url: str) -> str:
    e = html.escape
    items = "".join(
        f"<item><title>{e(a.title)}</title><link>{base_url}/art/{a.slug}.html</link>"
        f"<pubDate>{a.date.strftime('%a, %d %b %Y')} 08:00:00 +0800</pubDate></item>"
        for a in site.newest_first()
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{e(site.name)}</title>'
        f"<link>{base_url}/</link><description>{e(site.name)}工作动态</description>{items}</channel></rss>"
    )


def sources_toml(sites: dict[str, Site], base_urls: dict[str, str]) -> str:
    """Source registry entries for the demo sites at their current addresses."""
    out = ["# Generated by `etl demo` for the demo sites on this run's ports.\n"]
    for s in sites.values():
        base = base_urls[s.id]
        out.append("[[source]]")
        out.append(f'id = "{s.id}"')
        out.append(f'name = "{s.name}"')
        if s.region:
            out.append(f'region = "{s.region}"')
        # No kind and no selectors: the demo sites are read by automatic discovery, as a new bureau would be.
        out.append(f'list_url = "{base}/{"rss.xml" if s.shape == "rss" else "list.html"}"')
        if s.shape == "newspaper":
            # an e-paper page: its masthead sits above the first article, where the default body reader
            # would take it as a text of its own; the selector is the override a newspaper source needs
            out.append('body_selector = ".page-content"')
        out.append('since = "2023-01-01"')
        out.append("politeness = { concurrency = 4, delay = 0.0 }")
        out.append("")
    return "\n".join(out)
