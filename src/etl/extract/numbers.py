"""Read quantities (number + qualifier + unit) out of normalised Chinese text.

Hand-written because the libraries were measured wrong on everyday bulletin phrases (``92 万人次`` read as 92,
``1,200`` split, 一千二百万 as 1,002,000,000, 一次性 rewritten to 1次性).

Rules worth knowing:
- A Chinese-numeral number counts only when a measure word or unit follows it (so 一线, 百姓, 十分, 五保户 are
  words, not numbers), and a bare 一 never counts (一个又一个, 一场 are idiom far more often than data).
- Qualifiers: 余/多/超/超过/逾/以上/突破 → ``more_than``; 约/近/左右/大约 → ``about``; 不足/不到/以下 →
  ``less_than``.
- Ranges (``3-5万元``, ``3万至5万元``, ``2至4个``): the value is the lower bound with qualifier ``more_than``
  (at least that much is claimed), and ``high`` keeps the upper bound.
- ``≥``/``≤`` mark targets in performance tables, not achievements: such quantities are flagged ``target``.
- Values are :class:`~decimal.Decimal` in base units: 万/亿 applied, so 1949.4万元 → 19494000 (unit 元).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

CN_DIGIT = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
CN_SMALL_UNIT = {"十": 10, "百": 100, "千": 1000}
CN_BIG_UNIT = {"万": 10_000, "亿": 100_000_000}

# Measure words and units, longest first so 人次 wins over 人 and 场次 over 场.
UNITS = [
    "平方公里",
    "平方米",
    "人次",
    "场次",
    "万元",
    "亿元",
    "元",
    "名",
    "人",
    "位",
    "个",
    "家",
    "所",
    "座",
    "项",
    "场",
    "次",
    "户",
    "支",
    "批",
    "期",
    "件",
    "份",
    "平米",
    "亩",
    "年",
    "届",
    "岁",
    "天",
    "小时",
    "月",
    "日",
    "类",
    "间",
    "处",
    "条",
    "本",
    "册",
    "辆",
    "床",
    "张",
    "%",
]
# A measure word followed by these characters is part of a word, not a unit: 一次性, 两个字, 多项式...
_NOT_UNIT_AFTER = {"次": "性", "项": "式"}

MORE = "more_than"
ABOUT = "about"
LESS = "less_than"
EXACT = "exact"

_PREFIX_QUAL = [
    ("超过", MORE),
    ("突破", MORE),
    ("多达", MORE),
    ("逾", MORE),
    ("超", MORE),
    ("大约", ABOUT),
    ("将近", ABOUT),
    ("接近", ABOUT),
    ("约", ABOUT),
    ("近", ABOUT),
    ("不足", LESS),
    ("不到", LESS),
    ("低于", LESS),
]
_SUFFIX_QUAL = [("以上", MORE), ("左右", ABOUT), ("上下", ABOUT), ("以下", LESS), ("余", MORE), ("多", MORE)]

_AR = r"\d+(?:,\d{3})*(?:\.\d+)?"
_CN = r"[零〇一二两三四五六七八九十百千万亿]+"
_NUM = rf"(?:{_AR}[十百千]?[万亿]*|{_CN})"
_UNIT_RE = "|".join(re.escape(u) for u in UNITS)
# The number first: qualifiers and target marks before it are read by looking back (a pattern that opens with
# optional prefixes is tried at every character and was the extractor's hot spot).
_START = re.compile(r"[0-9零〇一二两三四五六七八九十百千万亿]")
_PREFIXES = sorted((p for p, _ in _PREFIX_QUAL), key=len, reverse=True)
_PREFIX_LAST = {p[-1] for p in _PREFIXES}
_QUANTITY = re.compile(
    rf"(?P<num>{_AR}|{_CN})(?P<inner>余|多)?(?P<mult>[十百千]?[万亿]+)?(?P<post>余|多)?"
    rf"(?:(?P<unit1>{_UNIT_RE})?(?P<dash>-|—|–|~|至|到)"
    rf"(?P<num2>{_AR}|{_CN})(?P<mult2>[十百千]?[万亿]+)?)?"
    rf"(?P<unit>{_UNIT_RE})?"
    rf"(?P<suffix>以上|左右|上下|以下|余|多)?"
)
_PERCENT_CN = re.compile(r"百分之(?P<num>[零〇一二两三四五六七八九十百点]+)")


@dataclass(frozen=True)
class Quantity:
    start: int
    end: int
    value: Decimal
    unit: str  # base unit as written: 元 for 万元/亿元, % for percent, the measure word otherwise, "" if none
    qualifier: str
    high: Decimal | None = None
    target: bool = False
    chinese: bool = False  # the digits were Chinese numerals


def parse_chinese_numeral(s: str) -> Decimal | None:
    """Value of a Chinese numeral such as 一千二百万, 两万五, 三千, 十二, 二〇二三 (digit by digit)."""
    if not s:
        return None
    if all(c in CN_DIGIT for c in s):
        if len(s) == 1:
            return Decimal(CN_DIGIT[s])
        return Decimal("".join(str(CN_DIGIT[c]) for c in s))  # 二〇二三 read digit by digit
    total = Decimal(0)  # completed 亿 / 万 sections
    section = Decimal(0)  # within the current 万 section
    digit: int | None = None
    last_unit = 0
    zero_seen = False  # 一百零五: after a 零 the trailing digit is a unit digit
    for c in s:
        if c in CN_DIGIT:
            zero_seen = zero_seen or CN_DIGIT[c] == 0
            digit = CN_DIGIT[c]
        elif c in CN_SMALL_UNIT:
            u = CN_SMALL_UNIT[c]
            section += Decimal(1 if digit is None else digit) * u
            digit = None
            last_unit = u
            zero_seen = False
        elif c in CN_BIG_UNIT:
            u = CN_BIG_UNIT[c]
            if digit is not None:
                section += digit
                digit = None
            if section == 0 and total == 0:
                section = Decimal(1)
            if u == 100_000_000:
                total = (total + section) * u
            else:
                total += section * u
            section = Decimal(0)
            last_unit = u
            zero_seen = False
        else:
            return None
    if digit is not None:
        # 两万五 = 25000, 三千五 = 3500: a trailing digit takes the next lower unit
        section += digit * (last_unit // 10 if last_unit > 10 and not zero_seen else 1)
    return total + section


def _arabic(s: str) -> Decimal | None:
    try:
        return Decimal(s.replace(",", ""))
    except InvalidOperation:
        return None


def _mult(m: str | None) -> int:
    if not m:
        return 1
    f = 1
    for c in m:
        f *= CN_SMALL_UNIT.get(c) or CN_BIG_UNIT[c]
    return f


def _number(num: str, mult: str | None) -> tuple[Decimal | None, bool]:
    if num[0].isdigit():
        v = _arabic(num)
        return (None if v is None else v * _mult(mult)), False
    v = parse_chinese_numeral(num + (mult or ""))
    return v, True


def _qual(pre: str | None, inner: str | None, post: str | None, suffix: str | None) -> str:
    for q in (pre, suffix):
        if q:
            return dict(_PREFIX_QUAL + _SUFFIX_QUAL)[q]
    if inner or post:
        return MORE
    return EXACT


def find_quantities(text: str, units: frozenset[str] | None = None) -> list[Quantity]:
    """All quantities in ``text``, left to right, non-overlapping; with ``units``, only those whose base unit is
    one of them (dates and other counts are passed over before the costly part of reading them)."""
    out: list[Quantity] = []
    pos = 0
    while True:
        s = _START.search(text, pos)
        if s is None:
            break
        m = _QUANTITY.match(text, s.start())
        if m is None:
            pos = s.start() + 1
            continue
        if units is not None:
            u = m.group("unit") or m.group("unit1") or ""
            if (u[-1:] if u in ("万元", "亿元") else u) not in units:
                pos = max(m.end(), s.start() + 1)
                continue
        if m.group("unit1") and m.group("dash") == "到":
            # 从1名到81名 is a change between two counts, not a range: read the first, go on after its unit
            m = _QUANTITY.match(text[: m.end("unit1")], m.start())
            assert m is not None
        q = _from_match(text, m, pos)
        if q is not None:
            out.append(q)
        pos = max(m.end(), s.start() + 1)
    for m in _PERCENT_CN.finditer(text):
        v = _cn_percent(m.group("num"))
        if v is not None and not any(q.start <= m.start() < q.end for q in out):
            out.append(Quantity(m.start(), m.end(), v, "%", EXACT, chinese=True))
    out.sort(key=lambda q: q.start)
    return out


def _cn_percent(s: str) -> Decimal | None:
    if "点" in s:
        whole, _, frac = s.partition("点")
        w = parse_chinese_numeral(whole)
        if w is None or not frac or any(c not in CN_DIGIT for c in frac):
            return None
        return w + Decimal("0." + "".join(str(CN_DIGIT[c]) for c in frac))
    return parse_chinese_numeral(s)


def _lookback(text: str, at: int, floor: int) -> tuple[int, str | None, bool]:
    """(start, prefix qualifier, target mark) of what stands right before a number at ``at``."""
    start, pre, target = at, None, False
    if at == floor or text[at - 1] not in _PREFIX_LAST:
        if at > floor and text[at - 1] in "≥≤><":
            return at - 1, None, True
        return at, None, False
    for p in _PREFIXES:
        if at - len(p) >= floor and text.startswith(p, at - len(p)):
            start, pre = at - len(p), p
            break
    if start > floor and text[start - 1] in "≥≤><":
        start, target = start - 1, True
    return start, pre, target


def _from_match(text: str, m: re.Match[str], floor: int = 0) -> Quantity | None:
    num = m.group("num")
    start, pre, target = _lookback(text, m.start(), floor)
    # A digit run glued to letters or more digits is an identifier (索引号, phone numbers), not a quantity.
    before = text[start - 1] if start > 0 else ""
    if before and before.isascii() and (before.isalnum() or before in "./-_"):
        return None
    if before == "第":
        return None
    unit = m.group("unit") or ""
    mult = m.group("mult")
    if m.group("dash") and not unit and m.group("unit1"):
        unit = m.group("unit1")
    value, chinese = _number(num, mult)
    if value is None:
        return None
    if chinese:
        if not unit:
            return None  # 一线, 百姓, 十分: Chinese numerals only count with a measure word
        if num == "一" and not mult:
            return None
        # 万家灯火, 千家万户, 百项: a bare 百/千/万 is rhetoric unless a qualifier makes it a count (超千余人次)
        qualified = pre or m.group("inner") or m.group("post") or m.group("suffix")
        if all(c in "百千万亿" for c in num) and not qualified:
            return None
    end = m.end()
    if unit:
        follow = text[m.end("unit") : m.end("unit") + 1]
        if _NOT_UNIT_AFTER.get(unit) == follow:
            return None
    base_unit = unit
    if unit in ("万元", "亿元"):
        value *= CN_BIG_UNIT[unit[0]]
        base_unit = "元"
    high = None
    if m.group("num2"):
        hv, _ = _number(m.group("num2"), m.group("mult2"))
        if hv is not None:
            if m.group("mult2") and not mult:
                value *= _mult(m.group("mult2"))  # 3-5万元: the multiplier belongs to both ends
            if unit in ("万元", "亿元"):
                hv *= CN_BIG_UNIT[unit[0]]
            high = hv
    qual = _qual(pre, m.group("inner"), m.group("post"), m.group("suffix"))
    if high is not None and high > value:
        qual = MORE
    elif high is not None:
        high = None
    if not m.group("suffix") and not unit:
        end = m.end("post") if m.group("post") else (m.end("mult") if mult else m.end("num"))
    return Quantity(
        start=start,
        end=end,
        value=value,
        unit=base_unit,
        qualifier=qual,
        high=high,
        target=target,
        chinese=chinese,
    )
