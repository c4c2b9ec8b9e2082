"""Source kinds: how a site lists its bulletins. One module per kind declares its registry fields and its
``discover()``; this is the one place they are registered."""

from __future__ import annotations

from etl.fetch.kinds import auto, html_list, json_api, rss
from etl.fetch.kinds.base import Discovery, Field, Kind, ListReader

KINDS: dict[str, Kind] = {k.name: k for k in (auto.KIND, html_list.KIND, rss.KIND, json_api.KIND)}

__all__ = ["KINDS", "Discovery", "Field", "Kind", "ListReader"]
