"""Load the indicator lexicon (``data/lexicon.toml``) and check it against the indicator contract."""

from __future__ import annotations

import csv
import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class IndicatorSpec:
    code: str
    unit: str
    name_zh: str
    name_en: str
    what_counts: str


@dataclass(frozen=True)
class IndicatorRule:
    code: str
    unit: str
    measure_words: frozenset[str]
    triggers: tuple[str, ...]
    cue_units: frozenset[str]
    cues: tuple[str, ...]


@dataclass(frozen=True)
class Lexicon:
    rules: dict[str, IndicatorRule]
    term_owner: dict[str, str]  # trigger term → indicator code
    trigger_re: re.Pattern[str]
    false_friend_re: re.Pattern[str]
    exclusions: dict[str, tuple[str, ...]]
    version: int


class LexiconError(ValueError):
    pass


@cache
def indicator_specs() -> dict[str, IndicatorSpec]:
    """The project's copy of the public indicator contract (``data/indicators.csv``)."""
    with resources.files("etl.data").joinpath("indicators.csv").open(encoding="utf-8") as f:
        return {row["code"]: IndicatorSpec(**row) for row in csv.DictReader(f)}


def _alternation(terms: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(t) for t in sorted(set(terms), key=len, reverse=True)))


def parse_lexicon(data: dict, origin: str = "lexicon.toml") -> Lexicon:
    specs = indicator_specs()
    rules: dict[str, IndicatorRule] = {}
    owner: dict[str, str] = {}
    for i, entry in enumerate(data.get("indicator", [])):
        code = entry.get("code")
        if code not in specs:
            raise LexiconError(f"{origin}: indicator[{i}] has unknown code {code!r}; known: {sorted(specs)}")
        if entry.get("unit") != specs[code].unit:
            raise LexiconError(
                f"{origin}: indicator {code}: unit {entry.get('unit')!r} != {specs[code].unit!r}"
            )
        triggers = entry.get("triggers") or []
        if not triggers or not entry.get("measure_words"):
            raise LexiconError(f"{origin}: indicator {code}: triggers and measure_words must not be empty")
        for t in triggers:
            if t in owner and owner[t] != code:
                raise LexiconError(f"{origin}: trigger {t!r} is listed for both {owner[t]} and {code}")
            owner[t] = code
        cue = entry.get("requires_cue") or {}
        rules[code] = IndicatorRule(
            code=code,
            unit=entry["unit"],
            measure_words=frozenset(entry["measure_words"]),
            triggers=tuple(triggers),
            cue_units=frozenset(cue.get("units", [])),
            cues=tuple(cue.get("cues", [])),
        )
    missing = set(specs) - set(rules)
    if missing:
        raise LexiconError(f"{origin}: no lexicon entry for indicators {sorted(missing)}")
    false_friends = data.get("false_friends", {}).get("terms", [])
    return Lexicon(
        rules=rules,
        term_owner=owner,
        trigger_re=_alternation(list(owner)),
        false_friend_re=_alternation(false_friends) if false_friends else re.compile(r"(?!x)x"),
        exclusions={k: tuple(v) for k, v in data.get("exclusions", {}).items()},
        version=int(data.get("version", 0)),
    )


@cache
def load_lexicon() -> Lexicon:
    raw = resources.files("etl.data").joinpath("lexicon.toml").read_text(encoding="utf-8")
    return parse_lexicon(tomllib.loads(raw))
