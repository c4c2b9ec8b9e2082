"""``etl indicators`` filters: validated against the chosen view, names resolved to codes, every mistake one line.

An indicator is given by its code or its Chinese name (资金投入, 社工站); a region or province by its code or its
name, full or short (成都市, 成都, 安徽省, 安徽). A name that fits several places is answered with the
candidates; a filter the view has no column for is answered with the filters it accepts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from etl.extract.lexicon import indicator_specs
from etl.reference.regions import NATIONAL, Gazetteer, load_gazetteer

# filter → the view columns it needs (any one of them)
FILTER_COLUMNS = {
    "indicator": ("indicator",),
    "region": ("region_code",),
    "level": ("region_level",),
    "province": ("province_code", "region_code"),
}
LEVEL_NAMES = {"country": "全国", "province": "省级", "prefecture": "地级", "county": "县级"}


class FilterError(ValueError):
    pass


@dataclass(frozen=True)
class Where:
    clauses: list[str]
    params: list[object]
    described: list[str]  # how each filter was read, for "no rows" messages


def accepted(columns: Sequence[str]) -> list[str]:
    return [f for f, needs in FILTER_COLUMNS.items() if any(c in columns for c in needs)]


def resolve_indicator(
    value: str, short_titles: dict[str, str] | None = None, option: str = "--indicator"
) -> str:
    specs = indicator_specs()
    if value in specs:
        return value
    titles = short_titles or {}
    exact = [
        c
        for c, s in specs.items()
        if value in {s.name_zh, s.name_en, *s.name_zh.split("/"), titles.get(c, "")}
    ]
    if len(exact) == 1:
        return exact[0]
    partial = exact or [c for c, s in specs.items() if value in s.name_zh]
    if len(partial) == 1:
        return partial[0]
    if partial:
        options = ", ".join(f"{c} ({specs[c].name_zh})" for c in partial)
        raise FilterError(f"{option} {value!r} fits several indicators: {options}")
    raise FilterError(
        f"{option} {value!r} is not an indicator code or name (etl indicators --list shows them)"
    )


def resolve_region(value: str, option: str = "--region", gazetteer: Gazetteer | None = None) -> str:
    g = gazetteer or load_gazetteer()
    if value.isdigit():
        if g.get(value) is None:
            raise FilterError(f"{option} {value}: not a division code in the gazetteer")
        return value
    codes = g.aliases.get(value, ())
    if not codes:
        raise FilterError(
            f"{option} {value!r}: no region of that name (give a name such as 成都市 or a code)"
        )
    # a short name naming a prefecture and its own seat (喀什) means the larger unit
    larger = [c for c in codes if all(c == o or g.is_within(o, c) for o in codes)]
    if len(codes) == 1 or len(larger) == 1:
        return codes[0] if len(codes) == 1 else larger[0]
    options = ", ".join(f"{c} {_full_name(g, c)}" for c in codes[:8])
    raise FilterError(f"{option} {value!r} names {len(codes)} regions: {options}; give the code")


def _full_name(g: Gazetteer, code: str) -> str:
    chain = [g.name(c) for c in reversed(g.ancestors(code)) if c != NATIONAL]
    return "".join(chain)


def build_where(
    view: str,
    columns: Sequence[str],
    indicator: str | None = None,
    region: str | None = None,
    level: str | None = None,
    province: str | None = None,
    short_titles: dict[str, str] | None = None,
) -> Where:
    given = {"indicator": indicator, "region": region, "level": level, "province": province}
    ok = accepted(columns)
    for name, value in given.items():
        if value is not None and name not in ok:
            takes = ", ".join(f"--{f}" for f in ok) or "no filters"
            raise FilterError(f"--{name} does not apply to {view} (it takes {takes})")
    clauses: list[str] = []
    params: list[object] = []
    described: list[str] = []
    if indicator is not None:
        code = resolve_indicator(indicator, short_titles)
        clauses.append("indicator = ?")
        params.append(code)
        described.append(f"indicator {code}")
    if region is not None:
        code = resolve_region(region)
        clauses.append("region_code = ?")
        params.append(code)
        described.append(f"region {code}")
    if level is not None:
        clauses.append("region_level = ?")
        params.append(level)
        described.append(f"level {level}")
    if province is not None:
        code = resolve_region(province, "--province")
        g = load_gazetteer()
        if g.get(code) is None or g.get(code).level != "province":  # type: ignore[union-attr]
            raise FilterError(f"--province {province!r}: {code} {g.name(code)} is not a province")
        if "province_code" in columns:
            clauses.append("province_code = ?")
        else:  # a division code starts with its province's two digits
            clauses.append("left(region_code, 2) = left(?, 2)")
        params.append(code)
        described.append(f"province {code}")
    return Where(clauses, params, described)
