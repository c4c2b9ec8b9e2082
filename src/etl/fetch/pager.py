"""TRS WCM's pager: the ``createPageHTML(count, current, name, ext)`` call its list pages, and its long
articles, carry instead of links to every page. Apart from the list kinds so that the page parser (and the
re-parse workers, which import no fetch client) can read it too."""

from __future__ import annotations

import re
from dataclasses import dataclass

_CREATE_PAGE = re.compile(r"createPageHTML\s*\(([^)]*)\)")
_EXTS = {"html", "htm", "shtml"}


@dataclass(frozen=True)
class TrsPager:
    """A TRS WCM ``createPageHTML(count, current, name, ext)`` call: pages ``name.ext``, ``name_1.ext``, …"""

    count: int
    current: int
    name: str
    ext: str

    def page(self, i: int) -> str:
        """The file name of page ``i`` (0 is the first)."""
        return f"{self.name}.{self.ext}" if i == 0 else f"{self.name}_{i}.{self.ext}"


def trs_pager(html: str) -> TrsPager | None:
    """The page's ``createPageHTML`` call (arguments may be variables set just before), or None."""
    m = _CREATE_PAGE.search(html)
    if m is None:
        return None
    ints: list[int] = []
    strings: list[str] = []
    for raw in (a.strip() for a in m.group(1).split(",")):
        if raw[:1] in "'\"":
            strings.append(raw.strip("'\""))
        elif raw.isdigit():
            ints.append(int(raw))
        elif re.fullmatch(r"[A-Za-z_]\w*", raw):
            v = re.search(rf"\b{raw}\s*=\s*['\"]?(\d+)", html)
            if v:
                ints.append(int(v.group(1)))
    if not ints:
        return None
    name, ext = "index", "html"
    for i, s in enumerate(strings[1:], start=1):
        if s.lower() in _EXTS:
            name, ext = strings[i - 1], s
            break
    return TrsPager(ints[0], ints[1] if len(ints) > 1 else 0, name, ext)
