"""Which region each fact is about: one ordered decision procedure, each step recording its basis.

**Places in the text.** The gazetteer finds every full name (阜阳市) and short name (阜阳). A short name that is
also an everyday word (惠民 in 惠民政策, 新建 in 新建社工站: ``data/everyday_names.txt``, read off a word-frequency
dictionary) counts only where the text reads as a place: the document names the same place in full, the name
is followed by a bureau or government word (惠民县民政局, 通江全县), stands in a list of places (黄陂、新洲等地), is
preceded by its own province or city (巴中通江), or opens a dateline (本报邹城讯). Titles use short names freely.
A place named as a venue (在…举行) or as the home of an organisation (重庆儿童基金会) counts for little.

**The document's subject** is decided once per article, by the first step that decides:

1. ``headline``: the newspaper article's own headline (安徽阜阳：);
2. ``issuer``: the source's configured region, unless a more specific place inside it is the subject by a
   later step;
3. ``title``: the place the title names (the most specific when the title names a chain 安徽阜阳), raised to
   the level the text speaks of itself (a title naming a district of a report that says 全省 is the province);
4. ``self_reference``: the level the text speaks of itself (我市/本市/全市, 我县, 全省, 省民政厅, 我国) and the named
   place of that level the text supports most (我市 + 揭东区 → 揭阳市);
5. ``dateline``: the place of the dateline or byline (本报邹城讯, 新华社杭州3月19日电);
6. ``mentions``: the place named most, the most specific one when the leaders nest (湖州市 and 浙江省 once each →
   湖州市); places that do not nest and tie leave the subject undecided.

**Each fact's region**, for a number at a position:

1. ``clause``: a place named in the clause before the number (the most recent), inside the subject, or
   above it when it is the clause's subject rather than an organisation's home (安徽省社会工作专业人才总量…);
2. ``collective``: a collective word in the clause (全市, 全县, 该省) resolved at its level against the subject,
   or the place of that level just named in the sentence (柯桥区……全区);
3. ``sentence``: a place named earlier in the sentence, with the same tests as 1;
4. the document subject, with the subject's own basis (``issuer``, ``title``, …).

A place outside the subject's hierarchy makes the number about somewhere else (``elsewhere``); a subject that no
step decides leaves it ``undecided``. Neither is filed under a guess: the pipeline quarantines such numbers with
their evidence so a later rule, or a source's ``region``, recovers them on a re-parse.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import Counter
from dataclasses import dataclass
from functools import cache
from importlib import resources

from etl.reference.regions import COLLECTIVE, NATIONAL, Gazetteer, Mention, Region, is_city

# The level each collective word names (regions.COLLECTIVE); 各地 ("the localities") is never the speaker.
SELF_LEVEL = {w: level for w, level in COLLECTIVE.items() if w != "各地"}
# Unnamed bureaus and offices speak of their own level: 省民政厅 in a provincial report, 市民政局 in a city's.
_UNNAMED_BUREAU = re.compile(r"(省|市|县|区|旗|州)(?:民政厅|民政局|委|政府|人民政府)|(我|省)厅")
_BUREAU_LEVEL = {
    "省": "province",
    "市": "city",
    "县": "county",
    "旗": "county",
    "区": "district",
    "州": "prefecture",
}
# After a short name, these read as a place: a bureau, a government, the place's own collective word.
_PLACE_FOLLOW = (
    "民政",
    "政府",
    "人民政府",
    "市委",
    "县委",
    "区委",
    "全市",
    "全县",
    "全区",
    "全省",
    "籍",
    "境内",
    "辖区",
    "等地",
    "等县",
    "讯",
    "报道",
    "电",
)
_DATELINE_DATE = re.compile(r"\d{1,2}月\d{1,2}日电")
_VENUE_BEFORE = ("在", "于", "赴", "到", "前往")
_VENUE_AFTER = re.compile(r"^[\u4e00-\u9fff]{0,12}?(举行|召开|举办|开幕|启动)")
# An organisation named after its home region: the region is the organisation's address, not the scope.
_ORG_SUFFIX = re.compile(
    r"[\u4e00-\u9fff（）()“”]{0,16}?(基金会|协会|联合会|公司|集团|大学|学院|学校|医院|银行|日报|晚报|报社|电视台|"
    r"研究院|商会|服务中心|事务所|服务社|委员会|办公室|联盟|分会|总会|慈善会)"
)
# A collective word for a larger region followed by these compares the subject with it.
_COMPARISON = re.compile(r"率先|第一|前列|首位|首个|首家|首创|领先|之最|位居|排名|位列|占")
_PLACE_LOOKBACK = 400
_WEIGHT_BUREAU = 2.0  # added to a named bureau (阜阳市民政局)
_WEIGHT_VENUE = 0.25
_WEIGHT_ORG = 0.25


# The bases a placed fact can carry, and those of numbers left unplaced (quarantined, never loaded as facts).
PLACED_BASES = (
    "clause",
    "collective",
    "sentence",
    "headline",
    "issuer",
    "title",
    "self_reference",
    "dateline",
    "mentions",
)
UNPLACED_REASONS = {
    "undecided": "region undecided",
    "elsewhere": "region outside the document's subject",
}


@dataclass(frozen=True)
class Subject:
    """What an article is about: a region code (None when undecided), the step that decided it, and why."""

    code: str | None
    basis: str  # headline | issuer | title | self_reference | dateline | mentions | undecided
    why: str = ""


@dataclass(frozen=True)
class Resolution:
    code: str | None
    basis: str  # clause | collective | sentence | <the subject's basis> | elsewhere | undecided


# A short name opening with a function word reads as that word (幸福感和安全感 is no 和安县).
_FUNCTION_CHARS = set("和与及或在从向对为的是等把被将了也都")


@cache
def everyday_names() -> frozenset[str]:
    raw = resources.files("etl.data").joinpath("everyday_names.txt").read_text(encoding="utf-8")
    return frozenset(w for w in raw.split() if not w.startswith("#"))


def places(text: str, mentions: list[Mention], gaz: Gazetteer, headline: bool = False) -> list[Mention]:
    """The mentions that read as places (collective words included); ``headline`` accepts every short name."""
    if headline:
        return mentions
    everyday = everyday_names()
    named_fully = {c for m in mentions if not m.short and not m.collective for c in m.codes}
    out: list[Mention] = []
    for i, m in enumerate(mentions):
        plain = m.collective or not m.short or (m.text not in everyday and m.text[0] not in _FUNCTION_CHARS)
        if plain or _reads_as_place(text, i, mentions, named_fully, gaz):
            out.append(m)
    return out


def _reads_as_place(
    text: str, i: int, mentions: list[Mention], named_fully: set[str], gaz: Gazetteer
) -> bool:
    m = mentions[i]
    if any(c in named_fully for c in m.codes):
        return True
    after = text[m.end : m.end + 6]
    if after.startswith(_PLACE_FOLLOW) or _DATELINE_DATE.match(after):
        return True
    if text[max(0, m.start - 2) : m.start] == "本报":
        return True
    prev = mentions[i - 1] if i > 0 else None
    nxt = mentions[i + 1] if i + 1 < len(mentions) else None
    if prev is not None and not prev.collective:
        if prev.end == m.start and any(gaz.is_within(c, p) for c in m.codes for p in prev.codes):
            return True  # 巴中通江: the county after its own city
        if prev.end == m.start - 1 and text[prev.end] in "、和及与":
            return True  # 黄陂、新洲: a list of places
    return nxt is not None and not nxt.collective and nxt.start == m.end + 1 and text[m.end] in "、和及与"


def _weight(text: str, m: Mention) -> float:
    """How much a named place says about the subject: a venue or an organisation's home says little."""
    before = text[max(0, m.start - 2) : m.start]
    after = text[m.end : m.end + 30]
    if _ORG_SUFFIX.match(after) and not m.bureau:
        return _WEIGHT_ORG
    if before.endswith(_VENUE_BEFORE) and _VENUE_AFTER.match(after):
        return _WEIGHT_VENUE
    return 1.0 + (_WEIGHT_BUREAU if m.bureau else 0.0)


def _at_level(gaz: Gazetteer, code: str, level: str) -> str | None:
    """The region of ``level`` that contains (or is) ``code``. 我区/全区 names the place itself only: a district
    of a city, or an autonomous region named as such, never the autonomous region above a city (乌鲁木齐)."""
    if level == "district":
        r = gaz.get(code)
        return code if r is not None and _fits(r, level) else None
    for c in gaz.ancestors(code):
        r = gaz.get(c)
        if r is not None and _fits(r, level):
            return c
    return None


def _fits(r: Region, level: str) -> bool:
    if level == "city":
        return is_city(r)
    if level == "district":
        return (r.level == "county" and r.name.endswith("区")) or (
            r.level == "province" and r.name.endswith("自治区")
        )
    if level == "country":
        return r.code == NATIONAL
    return r.level == level


def _most_specific(gaz: Gazetteer, codes: list[str]) -> str | None:
    """The deepest code when the codes form one chain (安徽, 阜阳 → 阜阳市), else None."""
    if not codes:
        return None
    deepest = max(codes, key=lambda c: len(gaz.ancestors(c)))
    if all(gaz.is_within(deepest, c) for c in codes):
        return deepest
    return None


def _resolved(gaz: Gazetteer, m: Mention, context: set[str]) -> str | None:
    return gaz.disambiguate(m.codes, context)


def self_levels(text: str, body: list[Mention]) -> Counter[str]:  # values are float weights
    """How often the text speaks of itself at each level (我市, 全省, unnamed 市民政局…)."""
    levels: Counter[str] = Counter()
    for m in body:
        if m.collective and m.text in SELF_LEVEL:
            if (
                _COMPARISON.search(text[m.end : m.end + 16])
                and text[max(0, m.start - 1) : m.start] in "在居占"
            ):
                continue  # 在全国…中首创, 居全省前列: the place compared with, not the speaker
            levels[SELF_LEVEL[m.text]] += 1

    ends = {m.end for m in body if not m.collective}
    for hit in _UNNAMED_BUREAU.finditer(text):
        if hit.group(1) and hit.start() + 1 not in ends and hit.start() not in ends:
            levels[_BUREAU_LEVEL[hit.group(1)]] += 1
        elif hit.group(2):
            levels["province"] += 1  # 我厅, 省厅: a provincial department speaking
    return levels


def document_subject(
    text: str,
    body: list[Mention],
    title: str,
    title_mentions: list[Mention],
    gaz: Gazetteer,
    issuer: str | None = None,
    headline: str | None = None,
) -> Subject:
    """The article's subject by the ordered steps in the module's docstring."""
    if headline:
        return Subject(headline, "headline", gaz.name(headline))
    levels = self_levels(text, body)
    for m in title_mentions:
        if m.collective and m.text in SELF_LEVEL:
            levels[SELF_LEVEL[m.text]] += 2
    level = _top_level(levels)
    context = {m.codes[0] for m in body + title_mentions if len(m.codes) == 1}
    if issuer:
        context.add(issuer)

    title_codes = [c for m in title_mentions if not m.collective and (c := _resolved(gaz, m, context))]
    title_place = _most_specific(gaz, title_codes)
    if title_place and level and level != "country":
        raised = _at_level(gaz, title_place, level)
        title_place = raised or title_place
    if issuer:
        if title_place and title_place != issuer and gaz.is_within(title_place, issuer):
            return Subject(title_place, "title", f"title names {gaz.name(title_place)} inside the issuer")
        chosen = _by_level(text, body, gaz, context, level, within=issuer)
        if chosen and chosen != issuer:
            return Subject(chosen, "self_reference", f"{level} named inside the issuer")
        return Subject(issuer, "issuer", gaz.name(issuer))
    if title_place:
        return Subject(title_place, "title", title.strip()[:40])
    if level == "country":
        return Subject(NATIONAL, "self_reference", "全国/我国")
    chosen = _by_level(text, body, gaz, context, level)
    if chosen:
        return Subject(chosen, "self_reference", f"{level}: {gaz.name(chosen)}")
    dateline = _dateline(text, body, gaz, context)
    if dateline and (not level or _at_level(gaz, dateline, level)):
        code = _at_level(gaz, dateline, level) if level else dateline
        return Subject(code, "dateline", gaz.name(dateline))
    chosen = _by_mentions(text, body, gaz, context)
    if chosen:
        return Subject(chosen, "mentions", gaz.name(chosen))
    return Subject(None, "undecided", "no step decided")


def _top_level(levels: Counter[str]) -> str | None:
    if not levels:
        return None
    ranked = levels.most_common()
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        # 全省 and 全市 as often: the lower level is the speaker (a city report compares with its province)
        order = ["county", "district", "city", "prefecture", "province", "country"]
        tied = [lv for lv, n in ranked if n == ranked[0][1]]
        return min(tied, key=order.index)
    return ranked[0][0]


def _by_level(
    text: str,
    body: list[Mention],
    gaz: Gazetteer,
    context: set[str],
    level: str | None,
    within: str | None = None,
) -> str | None:
    """The region of ``level`` the named places support most (揭东区 under 我市 → 揭阳市); None on a tie."""
    if not level or level == "country":
        return None
    support: Counter[str] = Counter()
    for m in body:
        if m.collective:
            continue
        code = _resolved(gaz, m, context)
        if code is None:
            continue
        up = _at_level(gaz, code, level)
        w = _weight(text, m)
        if up is None or (w == _WEIGHT_ORG and up == code) or (within and not gaz.is_within(up, within)):
            continue  # an organisation named after a whole region (新疆某中心) says nothing of the speaker
        support[up] += w
    if not support:
        return None
    ranked = support.most_common(2)
    if len(ranked) > 1 and ranked[1][1] == ranked[0][1]:
        return None
    return ranked[0][0]


def _dateline(text: str, body: list[Mention], gaz: Gazetteer, context: set[str]) -> str | None:
    """The place of a dateline or byline near the top: 本报邹城讯, 新华社杭州3月19日电, 记者 X 济南报道."""
    for m in body:
        if m.start > 120:
            break
        if m.collective:
            continue
        if _is_dateline(text, m):
            return _resolved(gaz, m, context)
    return None


def _is_dateline(text: str, m: Mention) -> bool:
    after = text[m.end : m.end + 8]
    return (
        after.startswith(("讯", "报道", "电"))
        or bool(_DATELINE_DATE.match(after))
        or text[max(0, m.start - 2) : m.start] == "本报"
    )


def _by_mentions(text: str, body: list[Mention], gaz: Gazetteer, context: set[str]) -> str | None:
    score: Counter[str] = Counter()
    for m in body:
        if m.collective:
            continue
        code = _resolved(gaz, m, context)
        if code is not None:
            score[code] += _weight(text, m)
    if not score:
        return None
    best = max(score.values())
    leaders = [c for c, s in score.items() if s == best]
    top = _most_specific(gaz, leaders)
    if top is None:
        return None
    # 沈阳 twice and its 和平区 once: a report names its district's city more often than the district
    inside = [c for c, s in score.items() if c != top and gaz.is_within(c, top) and s >= best / 2]
    deepest = _most_specific(gaz, inside)
    return deepest or top


def fact_region(
    text: str,
    places_: list[Mention],
    sent_start: int,
    clause_start: int,
    pos: int,
    subject: Subject,
    gaz: Gazetteer,
    context: set[str],
) -> Resolution:
    """The region of the number at ``pos`` by the ordered steps in the module's docstring."""
    # bounded look-back (linear cost on pathological pages): places more than _PLACE_LOOKBACK characters before
    # the number are never its clause's or sentence's in real text
    lo = bisect_left(places_, max(sent_start, pos - _PLACE_LOOKBACK), key=_start)
    hi = bisect_right(places_, pos, key=_start)
    if lo == hi:  # most numbers: no place named before them in their sentence
        if subject.code is None:
            return Resolution(None, "undecided")
        return Resolution(subject.code, subject.basis)
    earlier = [m for m in places_[lo:hi] if m.end <= pos]
    in_clause = [m for m in earlier if m.start >= clause_start]
    before_clause = [m for m in earlier if m.start < clause_start]
    article = subject.code

    r = _named(text, in_clause, pos, article, gaz, context)
    if r is not None:
        return Resolution(r[0], r[1] or "clause")
    for k in range(len(in_clause) - 1, -1, -1):
        m = in_clause[k]
        if not m.collective:
            continue
        got = _collective(text, m, earlier[: len(before_clause) + k], pos, article, gaz, context)
        if got is not None:
            return Resolution(got, "collective")
        if _unresolvable(m, article, gaz):
            return Resolution(None, "undecided")  # 全区 in a city's report: which district is not said
    r = _named(text, before_clause, pos, article, gaz, context)
    if r is not None:
        return Resolution(r[0], r[1] or "sentence")
    for k in range(len(before_clause) - 1, -1, -1):
        m = before_clause[k]
        if m.collective:
            got = _collective(text, m, before_clause[:k], pos, article, gaz, context)
            if got is not None:
                return Resolution(got, "collective")
    if article is None:
        return Resolution(None, "undecided")
    return Resolution(article, subject.basis)


def _start(m: Mention) -> int:
    return m.start


def _named(
    text: str, ms: list[Mention], pos: int, article: str | None, gaz: Gazetteer, context: set[str]
) -> tuple[str | None, str] | None:
    """The latest named place among ``ms`` that decides: (code, "") inside/above the subject, (None,
    "elsewhere") outside it; None when no named place decides."""
    for m in reversed(ms):
        if m.collective or m.bureau or _listed(text, m, ms) or _is_dateline(text, m):
            continue  # a bureau organises (合肥市民政局主办), a list (黄陂、新洲等地) is no one region, a dateline
            # (新华社杭州电) says where the reporter filed
        code = _resolved(gaz, m, context)
        if code is None:
            continue
        if article is None or article == NATIONAL:
            return code, ""
        if gaz.is_within(code, article):
            return code, ""
        if gaz.is_within(article, code):
            # a larger place: the clause's subject (安徽省社会工作专业人才…), unless it is an organisation's home
            # (重庆儿童基金会) or the number compares with it (占全省, 全省第一)
            if _ORG_SUFFIX.match(text, m.end, min(pos, m.end + 40)) or m.bureau:
                continue
            return code, ""
        return None, "elsewhere"
    return None


def _unresolvable(m: Mention, article: str | None, gaz: Gazetteer) -> bool:
    """A collective word naming a level the subject neither is nor lies in (全区 when the subject is a city)."""
    level = SELF_LEVEL.get(m.text)
    if level is None or level == "country" or article is None:
        return False
    return _at_level(gaz, article, level) is None


def _listed(text: str, m: Mention, ms: list[Mention]) -> bool:
    if text.startswith(("等地", "等县", "等市", "等区"), m.end):
        return True
    return any(
        not o.collective
        and o is not m
        and (o.end == m.start - 1 or o.start == m.end + 1)
        and text[min(o.end, m.end)] in "、和及与"
        for o in ms
    )


def _collective(
    text: str,
    m: Mention,
    earlier: list[Mention],
    pos: int,
    article: str | None,
    gaz: Gazetteer,
    context: set[str],
) -> str | None:
    level = m.collective
    if level == "country":
        return NATIONAL if article == NATIONAL else None
    # 柯桥区……全区: the place of that kind just named in the sentence
    suffix = m.text[-1]
    for p in reversed(earlier):
        if p.collective:
            continue
        code = _resolved(gaz, p, context)
        reg = gaz.get(code) if code else None
        if reg is None or reg.level == "province" or not reg.name.endswith(suffix):
            continue
        if article is None or gaz.is_within(code, article) or gaz.is_within(article, code):
            return code
    if article is None:
        return None
    got = _at_level(gaz, article, level)
    if got is not None and got != article and _COMPARISON.search(text, max(0, m.start - 4), pos):
        return None  # 在全省率先, 居全市首位: the larger region is compared with, not counted
    return got
