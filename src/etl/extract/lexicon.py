"""Load the indicator lexicon (``data/lexicon.toml``) and check it against the indicator contract."""

from __future__ import annotations

import csv
import math
import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from etl.reference.matcher import TermMatcher


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
    exclude_cues: tuple[str, ...] = ()  # words before the number in its clause that rule this indicator out
    max_value: float = float("inf")  # the largest plausible value of one region, in base units

    def plausible(self, value: float) -> bool:
        """Finite and at most ``max_value``: the rule the fact schema applies (validate.value_plausible)."""
        return math.isfinite(value) and value <= self.max_value


@dataclass(frozen=True)
class Qualification:
    """A clause stating that people hold a qualification makes their headcount this indicator."""

    indicator: str
    units: frozenset[str]
    pattern: re.Pattern[str]
    unless: tuple[str, ...]

    def applies(self, unit: str, clause: str) -> bool:
        return (
            unit in self.units
            and self.pattern.search(clause) is not None
            and not any(w in clause for w in self.unless)
        )


@dataclass(frozen=True)
class Lexicon:
    rules: dict[str, IndicatorRule]
    term_owner: dict[str, str]  # trigger term → indicator code
    triggers: TermMatcher
    false_friends: TermMatcher
    exclusions: dict[str, tuple[str, ...]]
    clause_exclusion_re: re.Pattern[str]  # words that void a number when they stand before it in its clause
    sentence_exclusion_re: re.Pattern[str]  # ... anywhere before it in its sentence
    after_exclusion_re: re.Pattern[str]  # ... after it in its clause
    qualification: Qualification | None
    gap_breakers: re.Pattern[str]  # verbs that cut a term before a number from it
    participle_gap: re.Pattern[str]  # 登记注册的: modifiers between a measure word and its noun
    version: int
    units: frozenset[str]  # every measure word some indicator admits: other quantities are skipped early


class LexiconError(ValueError):
    pass


def _alternation(words: list[str], patterns: list[str] = ()) -> re.Pattern[str]:  # type: ignore[assignment]
    alts = [re.escape(w) for w in sorted(set(words), key=len, reverse=True)] + list(patterns)
    if not alts:
        return re.compile(r"(?!)")
    return re.compile("|".join(f"(?:{a})" for a in alts))


def _max_value(entry: dict, origin: str) -> float:
    v = entry.get("max_value")
    if not isinstance(v, int | float) or isinstance(v, bool) or not 0 < v < float("inf"):
        raise LexiconError(
            f"{origin}: indicator {entry.get('code')}: max_value must be a positive number, got {v!r}"
        )
    return float(v)


@cache
def indicator_specs() -> dict[str, IndicatorSpec]:
    """The project's copy of the public indicator contract (``data/indicators.csv``)."""
    with resources.files("etl.data").joinpath("indicators.csv").open(encoding="utf-8") as f:
        return {row["code"]: IndicatorSpec(**row) for row in csv.DictReader(f)}


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
            exclude_cues=tuple(entry.get("exclude_cues", [])),
            max_value=_max_value(entry, origin),
        )
    missing = set(specs) - set(rules)
    if missing:
        raise LexiconError(f"{origin}: no lexicon entry for indicators {sorted(missing)}")
    false_friends = data.get("false_friends", {}).get("terms", [])
    exclusions = {k: tuple(v) for k, v in data.get("exclusions", {}).items()}
    patterns = {k: tuple(v) for k, v in data.get("exclusion_patterns", {}).items()}
    for kind, pats in patterns.items():
        for pat in pats:
            try:
                re.compile(pat)
            except re.error as e:
                raise LexiconError(f"{origin}: exclusion_patterns.{kind}: {pat!r}: {e}") from None

    def of(table: dict[str, tuple[str, ...]], where: str) -> list[str]:
        def place(kind: str) -> str:
            return kind.rsplit("_", 1)[1] if kind.endswith(("_sentence", "_after")) else "clause"

        return [w for k, ws in table.items() if place(k) == where for w in ws]

    qual = data.get("qualification")
    qualification = None
    if qual:
        if qual.get("indicator") not in rules:
            raise LexiconError(f"{origin}: qualification.indicator {qual.get('indicator')!r} is no indicator")
        qualification = Qualification(
            indicator=qual["indicator"],
            units=frozenset(qual.get("units", [])),
            pattern=re.compile(qual["pattern"]),
            unless=tuple(qual.get("unless", [])),
        )
    return Lexicon(
        rules=rules,
        term_owner=owner,
        triggers=TermMatcher(list(owner)),
        false_friends=TermMatcher(false_friends),
        exclusions=exclusions,
        clause_exclusion_re=_alternation(of(exclusions, "clause"), of(patterns, "clause")),
        sentence_exclusion_re=_alternation(of(exclusions, "sentence"), of(patterns, "sentence")),
        after_exclusion_re=_alternation(of(exclusions, "after"), of(patterns, "after")),
        qualification=qualification,
        gap_breakers=_alternation(list(data.get("gap_breakers", {}).get("verbs", []))),
        participle_gap=re.compile(
            "(?:" + _alternation(list(data.get("participles", {}).get("words", []))).pattern + ")+的"
        ),
        version=int(data.get("version", 0)),
        units=frozenset(u for r in rules.values() for u in r.measure_words),
    )


@cache
def load_lexicon() -> Lexicon:
    raw = resources.files("etl.data").joinpath("lexicon.toml").read_text(encoding="utf-8")
    return parse_lexicon(tomllib.loads(raw))
