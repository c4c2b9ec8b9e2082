"""What the project knows about each indicator beyond the public contract (``data/indicators.csv``): its short
title for tables and charts, and whether values add up a hierarchy (counts and money do; a coverage rate does
not). One data file, ``data/indicator_display.csv``, read by the warehouse's dimension, the scorecard and the
report instead of lists repeated in code."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources


@dataclass(frozen=True)
class IndicatorDisplay:
    code: str
    short_zh: str
    additive: bool


@lru_cache(maxsize=1)
def indicator_display() -> dict[str, IndicatorDisplay]:
    """In the contract's order; every contract code present exactly once (checked)."""
    with resources.files("etl.data").joinpath("indicators.csv").open(encoding="utf-8") as f:
        contract = [row["code"] for row in csv.DictReader(f)]
    with resources.files("etl.data").joinpath("indicator_display.csv").open(encoding="utf-8") as f:
        rows = {row["code"]: row for row in csv.DictReader(f)}
    if sorted(rows) != sorted(contract):
        missing, extra = set(contract) - set(rows), set(rows) - set(contract)
        raise ValueError(
            f"data/indicator_display.csv: codes differ from indicators.csv (missing {missing}, extra {extra})"
        )
    out = {}
    for code in contract:
        row = rows[code]
        if row["additive"] not in ("true", "false"):
            raise ValueError(f"data/indicator_display.csv: {code}: additive must be true or false")
        out[code] = IndicatorDisplay(code, row["short_zh"], row["additive"] == "true")
    return out


def short_titles() -> list[tuple[str, str]]:
    """(code, short title) of every indicator, in the contract's order."""
    return [(d.code, d.short_zh) for d in indicator_display().values()]


def non_additive() -> set[str]:
    return {d.code for d in indicator_display().values() if not d.additive}
