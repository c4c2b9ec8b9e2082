"""Extract indicator facts from bulletin text.

For each quantity in the text, the indicator is read from the term it counts: first the noun phrase right after
its measure word (``19家社会工作服务机构``), else the nearest term before it in the same enumeration item
(``社工站167个``). A number followed by some other noun (``1825个乡镇``) counts that noun and is no fact. The unit
must be one the indicator admits. Clauses that state plans, ratios, honours or prices are skipped.

The region is decided by :mod:`etl.extract.region_resolution` (the document's subject, then the clause and
sentence around the number); a number whose region is undecided, or lies outside the document's subject, is
returned apart (:func:`extract`) and never filed under a guess.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from etl.extract.lexicon import Lexicon, load_lexicon
from etl.extract.numbers import Quantity, find_quantities
from etl.extract.region_resolution import Subject, document_subject, fact_region, places
from etl.extract.textnorm import NormText, normalize, split_clauses, split_sentences
from etl.models import Fact
from etl.parse.articles import split_articles
from etl.reference.regions import Gazetteer, Mention, load_gazetteer

# After a count, these start a verb or particle, so the count closes on the term before it.
_CLOSERS = (
    *"的等已均全共被在和与及并为、，。；）)",
    "以上",
    "左右",
    "参加",
    "参与",
    "通过",
    "入驻",
    "进驻",
    "提供",
    "开展",
    "服务",
    "覆盖",
    "惠及",
    "实现",
    "完成",
    "建成",
    "投入",
    "用于",
    "其中",
    "受益",
    "获得",
    "分别",
    "达到",
    "发挥",
    "深入",
    "扎根",
)
_VERB_CLOSERS = tuple(w for w in _CLOSERS if len(w) > 1 and w not in ("以上", "左右"))
# Closers that also open an indicator term (服务项目, 服务群众): not a verb there.
_TERM_OPENERS = ("服务", "社", "志愿")
_AFTER_WINDOW = 10
_CLAUSE_LOOKBACK = 200
_SENTENCE_LOOKBACK = 400
_BEFORE_WINDOW = 14
# Units that name their indicator by themselves when no term is found.
_UNIT_DEFAULT = {"人次": "people_served", "元": "funding"}
_UNIT_DEFAULT_CUED = {"场次": ("service_activities", ("开展", "举办", "组织"))}
_CLOSING = {"（": "）", "(": ")", "“": "”", "「": "」", "《": "》"}
_OPENER = re.compile("[" + "".join(_CLOSING) + "]")
# 由45人组成的专业社工队伍: a count stated through the team it makes up
_TEAM = ("组成的", "组成了")
# A clause opening with these counts the same thing as the clause before it.
_TOTAL_WORDS = ("总数", "总量", "总人数", "总计", "人数达", "数量达", "规模达", "总规模")
_INCREMENT = ("新增", "新建", "新培育", "新招募", "新发展", "新注册", "新认定")


@dataclass(frozen=True)
class _Trigger:
    start: int
    end: int
    code: str


@dataclass(frozen=True)
class Extraction:
    facts: list[Fact]  # placed: region decided
    unplaced: list[Fact]  # region_code "" and region_basis undecided | elsewhere: for the quarantine


def extract_text(
    text: str,
    bulletin_id: str = "",
    title: str = "",
    issuer_region: str | None = None,
    published: date | None = None,
    region_hint: str | None = None,
    split: bool = True,
) -> list[Fact]:
    """Facts of one page whose region is decided (see :func:`extract` for the numbers left unplaced)."""
    return extract(text, bulletin_id, title, issuer_region, published, region_hint, split).facts


def extract(
    text: str,
    bulletin_id: str = "",
    title: str = "",
    issuer_region: str | None = None,
    published: date | None = None,
    region_hint: str | None = None,
    split: bool = True,
) -> Extraction:
    """Facts of one page. With ``split``, a newspaper page is cut into articles, each with its own region."""
    gaz = load_gazetteer()
    lex = load_lexicon()
    facts: list[Fact] = []
    spans = split_articles(text, gaz) if split else []
    if len(spans) <= 1:
        spans_iter = [(0, len(text), region_hint)]
    else:
        spans_iter = [(s.start, s.end, s.region) for s in spans]
    t_norm = normalize(title).text if title else ""
    title_places = places(t_norm, gaz.mentions(t_norm), gaz, headline=True) if t_norm else []
    for start, end, hint in spans_iter:
        norm = normalize(text[start:end])
        body = places(norm.text, gaz.mentions(norm.text), gaz)
        own_title = len(spans_iter) == 1
        subject = document_subject(
            norm.text,
            body,
            t_norm if own_title else "",
            title_places if own_title else [],
            gaz,
            issuer=issuer_region,
            headline=hint,
        )
        for f in _extract_article(norm, body, subject, gaz, lex, bulletin_id, published):
            facts.append(_shift(f, start))
    return Extraction(
        facts=[f for f in facts if f.region_code], unplaced=[f for f in facts if not f.region_code]
    )


def _shift(f: Fact, offset: int) -> Fact:
    if not offset:
        return f
    return replace(f, span_start=f.span_start + offset, span_end=f.span_end + offset)


def _extract_article(
    norm: NormText,
    mentions: list[Mention],
    subject: Subject,
    gaz: Gazetteer,
    lex: Lexicon,
    bulletin_id: str,
    published: date | None,
) -> list[Fact]:
    text = norm.text
    # False friends stay in the list as blockers (code ""): a number next to one counts that thing.
    blockers = [_Trigger(s, e, "") for s, e, _ in lex.false_friends.find(text)]
    triggers = sorted(
        [
            _Trigger(s, e, lex.term_owner[term])
            for s, e, term in lex.triggers.find(text)
            if not blockers or not any(b.start <= s < b.end or b.start < e <= b.end for b in blockers)
        ]
        + blockers,
        key=lambda t: t.start,
    )
    trig_starts = [t.start for t in triggers]
    quantities = find_quantities(text, lex.units)
    if "\n" in text:
        quantities = _table_cells(text, triggers, quantities, lex)
    clauses = split_clauses(text)
    clause_starts = [c[0] for c in clauses]
    sentences = split_sentences(text)
    sent_starts = [s[0] for s in sentences]
    context = {m.codes[0] for m in mentions if len(m.codes) == 1}
    if subject.code:
        context.add(subject.code)
    out: list[Fact] = []
    last_code: dict[int, str] = {}  # sentence index → indicator of its latest fact
    last_region: dict[int, str] = {}
    units = lex.units
    for qi, q in enumerate(quantities):
        if q.target or q.unit not in units:
            continue
        ci = bisect_right(clause_starts, q.start) - 1
        if ci < 0:
            continue
        c_start, c_end = clauses[ci]
        si = bisect_right(sent_starts, q.start) - 1
        # Look-backs and look-aheads are bounded so that cost stays linear in the text's length: a real clause or
        # sentence is far shorter than these, a page of one unpunctuated 200,000-character line is not.
        c_from = max(c_start, q.start - _CLAUSE_LOOKBACK)
        s_from = max(sentences[si][0], q.start - _SENTENCE_LOOKBACK)
        seg_start = max(c_from, text.rfind("、", c_from, q.start) + 1)
        seg_end = text.find("、", q.end, min(c_end, q.end + _CLAUSE_LOOKBACK))
        seg_end = min(c_end, q.end + _CLAUSE_LOOKBACK) if seg_end < 0 else seg_end
        before = text[c_from : q.start]
        if _excluded(before, text[s_from : q.start], lex):
            continue
        c_to = min(c_end, q.end + _CLAUSE_LOOKBACK)
        if lex.after_exclusion_re.search(text, q.end, c_to):
            continue
        code = _indicator(q, qi, quantities, text, triggers, trig_starts, seg_start, seg_end, c_end, lex)
        qual = lex.qualification
        if (
            qual
            and code in (None, "social_workers", qual.indicator)
            and qual.applies(q.unit, text[c_from:c_to])
        ):
            code = qual.indicator
        if code is None and before.startswith(_TOTAL_WORDS) and si in last_code:
            # 新增持证社工800人，总数达到1.02万人: the total counts what the clause before counted
            code = last_code[si] if q.unit in lex.rules[last_code[si]].measure_words else None
        if code is None:
            continue
        rule = lex.rules[code]
        if q.unit in rule.cue_units and not any(c in before for c in rule.cues):
            continue
        if any(c in before for c in rule.exclude_cues):
            continue
        if code == "station_coverage_rate" and (
            q.value > 100 or not _rate_of_stations(triggers, trig_starts, sentences[si][0], q.start)
        ):
            continue
        res = fact_region(norm.text, mentions, sentences[si][0], c_start, q.start, subject, gaz, context)
        r = res.code or ""
        if "其中" in before and last_code.get(si) == code and last_region.get(si) == r:
            continue  # 社工站100个，其中街道社工站30个: a part of the figure just stated
        last_code[si] = code
        last_region[si] = r
        change = "increment" if any(w in before for w in _INCREMENT) else "level"
        out.append(
            _fact(
                norm,
                c_from,
                c_to,
                bulletin_id,
                code,
                r,
                gaz,
                lex,
                float(q.value),
                q.qualifier,
                change,
                float(q.high) if q.high is not None else None,
                published,
                res.basis,
            )
        )
    out += _full_coverage(
        norm,
        clauses,
        sentences,
        sent_starts,
        triggers,
        mentions,
        subject,
        gaz,
        lex,
        context,
        bulletin_id,
        published,
        {(f.indicator, f.region_code) for f in out},
    )
    return out


def _fact(
    norm: NormText,
    c_start: int,
    c_end: int,
    bulletin_id: str,
    code: str,
    region: str,
    gaz: Gazetteer,
    lex: Lexicon,
    value: float,
    qualifier: str,
    change: str,
    high: float | None,
    published: date | None,
    region_basis: str,
) -> Fact:
    text = norm.text
    ev_start, ev_end = c_start, c_end
    while ev_start < ev_end and text[ev_start] in " \n“”\"'":
        ev_start += 1
    o_start, o_end = norm.original_span(ev_start, ev_end)
    return Fact(
        bulletin_id=bulletin_id,
        indicator=code,
        region_code=region,
        region_name=gaz.name(region) if region else "",
        value=value,
        unit=lex.rules[code].unit,
        qualifier=qualifier,
        change=change,
        evidence=text[ev_start:ev_end],
        span_start=o_start,
        span_end=o_end,
        value_high=high,
        period=published.isoformat() if published else None,
        region_basis=region_basis,
    )


def _full_coverage(
    norm: NormText,
    clauses: list[tuple[int, int]],
    sentences: list[tuple[int, int]],
    sent_starts: list[int],
    triggers: list[_Trigger],
    mentions: list,
    subject: Subject,
    gaz: Gazetteer,
    lex: Lexicon,
    context: set[str],
    bulletin_id: str,
    published: date | None,
    have: set[tuple[str, str]],
) -> list[Fact]:
    """``实现乡镇（街道）社工站全覆盖`` states a coverage rate of 100% without a number."""
    text = norm.text
    out = []
    for ci, (c_start, c_end) in enumerate(clauses):
        pos = text.find("全覆盖", c_start, c_end)
        if pos < 0:
            continue
        si = bisect_right(sent_starts, pos) - 1
        # the stations are named in this clause or the one before it in the sentence (社工站103个，实现全覆盖)
        scope_start = clauses[ci - 1][0] if ci > 0 and clauses[ci - 1][0] >= sentences[si][0] else c_start
        if not any(t.code == "social_work_stations" and scope_start <= t.start < pos for t in triggers):
            continue
        if _excluded(
            text[max(c_start, pos - _CLAUSE_LOOKBACK) : pos],
            text[max(sentences[si][0], pos - _SENTENCE_LOOKBACK) : pos],
            lex,
        ):
            continue
        res = fact_region(norm.text, mentions, sentences[si][0], c_start, pos, subject, gaz, context)
        r = res.code or ""
        if ("station_coverage_rate", r) in have:
            continue
        have.add(("station_coverage_rate", r))
        out.append(
            _fact(
                norm,
                c_start,
                c_end,
                bulletin_id,
                "station_coverage_rate",
                r,
                gaz,
                lex,
                100.0,
                "exact",
                "level",
                None,
                published,
                res.basis,
            )
        )
    return out


def _excluded(clause_before: str, sentence_before: str, lex: Lexicon) -> bool:
    """A plan, ratio, honour, price or breakdown word before the number voids it (kinds ending in
    ``_sentence`` look back over the whole sentence, the others over the clause)."""
    return bool(
        lex.clause_exclusion_re.search(clause_before) or lex.sentence_exclusion_re.search(sentence_before)
    )


def _indicator(
    q: Quantity,
    qi: int,
    quantities: list[Quantity],
    text: str,
    triggers: list[_Trigger],
    trig_starts: list[int],
    seg_start: int,
    seg_end: int,
    c_end: int,
    lex: Lexicon,
) -> str | None:
    next_q = quantities[qi + 1].start if qi + 1 < len(quantities) else len(text)
    # 1. The noun phrase after the measure word; bracketed and quoted modifiers (乡镇（街道）“幸福家园”) do not
    # count toward the window, and 由N人组成的 counts the team named after it.
    i = bisect_right(trig_starts, q.end - 1)
    team = text.startswith(_TEAM, q.end)
    window = _AFTER_WINDOW + _modifier_length(text, q.end, q.end + _AFTER_WINDOW) + (16 if team else 0)
    limit = min(q.end + window, c_end if team else seg_end, next_q)
    while i < len(triggers) and triggers[i].start < limit:
        t = triggers[i]
        if not t.code:
            return None  # 12个分会场服务点: the count is of the false friend
        gap = text[q.end : t.start]
        if "的" in gap[1:] and not team and not lex.participle_gap.fullmatch(gap):
            break  # 三个层级的…服务站: the count is of what stands before 的 (but 50家登记注册的机构 counts them)
        if any(w in gap for w in _VERB_CLOSERS):
            break  # 108个乡镇(街道)共建成…社工站121个: a verb in between, the count is of the nouns before it
        if gap.startswith(_CLOSERS) and not gap.startswith(_TERM_OPENERS) and not team:
            break  # 869人通过…社会工作者考试: a verb after the measure word, the count closed on it
        if not any(ch.isdigit() for ch in gap) and q.unit in lex.rules[t.code].measure_words:
            return t.code
        i += 1
    follow = text[q.end : q.end + 1]
    noun_follows = bool(follow) and "\u4e00" <= follow <= "\u9fff" and not text.startswith(_CLOSERS, q.end)
    if noun_follows and q.unit not in _UNIT_DEFAULT:
        return None
    # 2. The nearest term before the number in its enumeration item.
    j = bisect_right(trig_starts, q.start) - 1
    while j >= 0:
        t = triggers[j]
        if t.end > q.start:
            j -= 1
            continue
        if t.start < seg_start or q.start - t.end > _BEFORE_WINDOW or not t.code:
            break
        if lex.gap_breakers.search(text, t.end, q.start):
            break  # 社工站共开展个案服务564个: a new verb between the term and the number, which counts its object
        if q.unit in lex.rules[t.code].measure_words:
            return t.code
        j -= 1
    # 3. Units that imply their indicator (场次 only after a verb of holding: 开展活动300场次).
    cued = _UNIT_DEFAULT_CUED.get(q.unit)
    if cued and any(v in text[seg_start : q.start] for v in cued[1]):
        return cued[0]
    return _UNIT_DEFAULT.get(q.unit)


_CELL_NUMBER = re.compile(r"(?m)(?<=[\u4e00-\u9fff])(\d{1,6})[ \t]*$")


def _table_cells(
    text: str, triggers: list[_Trigger], quantities: list[Quantity], lex: Lexicon
) -> list[Quantity]:
    """A flattened table prints a count without its measure word at the end of its row (社区社会组织2): a bare
    integer ending a line right after a count term reads in that term's first measure word."""
    ends = {t.end: t.code for t in triggers if t.code}
    extra = []
    for m in _CELL_NUMBER.finditer(text):
        code = ends.get(m.start())
        if not code or lex.rules[code].unit in ("cny", "percent"):
            continue
        unit = next(iter(sorted(lex.rules[code].measure_words)))
        extra.append(Quantity(m.start(), m.end(1), Decimal(m.group(1)), unit, "exact"))
    if not extra:
        return quantities
    return sorted(quantities + extra, key=lambda q: q.start)


def _rate_of_stations(triggers: list[_Trigger], trig_starts: list[int], sent_start: int, pos: int) -> bool:
    """A coverage rate is the stations' when the thing last named before it in its sentence is a station
    (社工站358个，覆盖率88.3%), not another facility (社会组织服务中心建成率45%)."""
    j = bisect_right(trig_starts, pos) - 1
    while j >= 0 and triggers[j].start >= sent_start:
        if triggers[j].code != "station_coverage_rate":
            return triggers[j].code == "social_work_stations"
        j -= 1
    return False


def _modifier_length(text: str, start: int, end: int) -> int:
    """Characters of bracketed or quoted groups opening in [start, end): modifiers, not the counted noun."""
    if _OPENER.search(text, start, end) is None:
        return 0  # most numbers: no bracket or quote after them
    total = 0
    pos = start
    end = min(end, len(text))
    while pos < end:
        ch = text[pos]
        close = _CLOSING.get(ch)
        if close:
            stop = text.find(close, pos + 1, pos + 24)
            if stop > 0:
                total += stop + 1 - pos
                end = min(end + stop + 1 - pos, len(text))
                pos = stop + 1
                continue
        pos += 1
    return total
