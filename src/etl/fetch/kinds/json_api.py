"""``json_api``: a JSON list API, items at a dotted path, optionally paged by a query parameter. An item's
HTML body (``body_field``) is read from the list instead of fetching the article."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from etl.fetch.kinds.base import Discovery, Field, Kind, ListReader, take_page, with_param
from etl.fetch.urls import join_url
from etl.models import BulletinRef, PageIssue, Window
from etl.reference.dates import epoch_date, parse_date

if TYPE_CHECKING:
    from etl.fetch.sources import Source

FIELDS = (
    Field(
        "items_path",
        str,
        None,
        "dotted path to the list of items (`data.list`, `result.0.rows`)",
        required=True,
    ),
    Field("link_field", str, "url", "the item's article URL (absolute or relative to `list_url`)"),
    Field("title_field", str, "title", "the item's title"),
    Field(
        "date_field",
        str,
        "date",
        "the item's publication date (`2024-06-03`, `2024年6月3日`, or a Unix time in s or ms, read in China time)",
    ),
    Field(
        "body_field", str, None, "the item's article HTML, when the API gives it (the article is not fetched)"
    ),
    Field(
        "page_param", str, None, "query parameter of the page number (pages 1, 2, … until one adds nothing)"
    ),
)


def dig(data: object, path: str) -> object:
    for part in path.split(".") if path else []:
        data = data[int(part)] if isinstance(data, list) else data[part]  # type: ignore[index]
    return data


def item_ref(
    source: Source, url: str, item: dict[str, Any], link: str, title: str, when_field: str, body: str | None
) -> BulletinRef | None:
    href = item.get(link)
    if not isinstance(href, str) or not href.strip():
        return None
    target = join_url(url, href)
    if target is None:
        return None
    inline = item.get(body) if body else None
    return BulletinRef(
        source.id,
        target,
        str(item.get(title, "") or "").strip(),
        parse_date(str(item.get(when_field, "") or "")) or epoch_date(item.get(when_field)),
        inline if isinstance(inline, str) and inline.strip() else None,
    )


async def walk(
    source: Source,
    reader: ListReader,
    window: Window,
    items_path: str,
    fields: tuple[str, str, str, str | None],
    page_param: str | None,
) -> Discovery:
    """Pages of a JSON list API, newest first, until the window's start or a page adding nothing."""
    out = reader.out
    seen: set[str] = set()
    for page_no in range(1, source.max_pages + 1):
        given = page_param is None or (page_no == 1 and f"{page_param}=" in source.list_url)
        url = source.list_url if given else with_param(source.list_url, page_param, page_no)  # type: ignore[arg-type]
        page = await reader.get(url)
        if page is None:
            out.stopped_because = f"list {url} not read"
            break
        out.pages += 1
        try:
            items = dig(json.loads(page.text), items_path)
        except (ValueError, KeyError, TypeError, IndexError) as e:
            out.failures.append(PageIssue(url, "discover", f"JSON has no list at {items_path!r}: {e}", "200"))
            break
        if not isinstance(items, list):
            out.failures.append(PageIssue(url, "discover", f"{items_path!r} is not a list", "200"))
            break
        refs = (item_ref(source, page.base, item, *fields) for item in items if isinstance(item, dict))
        verdict = take_page((r for r in refs if r is not None), window, seen, out)
        if not page_param or verdict:
            out.stopped_because = verdict or "no pagination"
            break
    return out


async def discover(source: Source, reader: ListReader, window: Window) -> Discovery:
    fields = (
        source.option("link_field"),
        source.option("title_field"),
        source.option("date_field"),
        source.option("body_field"),
    )
    return await walk(
        source, reader, window, source.option("items_path"), fields, source.option("page_param")
    )


KIND = Kind("json_api", "a JSON list API at `list_url`", FIELDS, discover)
