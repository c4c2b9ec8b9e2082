"""Text normalisation that keeps a map back to the original characters.

Bulletins arrive hard-wrapped (newspaper columns break every dozen characters, numbers included: ``超\\n\\n130万元``),
with full-width digits and sometimes in traditional characters. Extraction works on a normalised copy; every
character of it remembers its offset in the original, so evidence spans point at the text as published.

The normalisation never NFKC-folds the whole text: that would turn ``12，345`` into ``12,345`` and merge clauses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Characters after which a line break ends a sentence or a heading and must be kept.
_BREAK_KEEPERS = set("。！？!?：:；;」』…】")
_SPACE = re.compile(r"[ \t\u3000\xa0]+")

# Full-width ASCII variants that matter for numbers and units; full-width punctuation stays (it delimits clauses).
_FULLWIDTH = {ord("０") + i: ord("0") + i for i in range(10)}
_FULLWIDTH.update({ord("％"): ord("%"), ord("．"): ord("."), ord("－"): ord("-"), ord("～"): ord("~")})

# One-to-one traditional → simplified characters that occur in indicator terms, numerals, qualifiers and region
# names. One-to-one keeps offsets intact; a full conversion is not needed to read the facts.
_TRAD = "個萬億餘兩縣區鄉鎮會務組織機構專項資約場戶員誌願導數設點級業綜職證籌劃補貼實現與為發運營開幾國總計達額這協過屆廳寧東廣陽訓動們對內蘇龍灣門遼潛樂濟雲貴陝學時間實來範並著長關錫興紹溫麗義鄭臺島漢華慶寶嶺陰體幫愛兒殘護養醫療聯應問題還進據獲報將從說議調辦處線網經費獎購買際筆覽齡顧團隊幣鄰裡裏衛勞傷亞歐貧難極幹層屬雙歷觀權檔單號條農邊參驗審眾黨遠"
_SIMP = "个万亿余两县区乡镇会务组织机构专项资约场户员志愿导数设点级业综职证筹划补贴实现与为发运营开几国总计达额这协过届厅宁东广阳训动们对内苏龙湾门辽潜乐济云贵陕学时间实来范并着长关锡兴绍温丽义郑台岛汉华庆宝岭阴体帮爱儿残护养医疗联应问题还进据获报将从说议调办处线网经费奖购买际笔览龄顾团队币邻里里卫劳伤亚欧贫难极干层属双历观权档单号条农边参验审众党远"
_TRAD_MAP = {ord(t): ord(s) for t, s in zip(_TRAD, _SIMP, strict=True) if t != s}
_FOLD = {**_TRAD_MAP, **_FULLWIDTH}
_FOLD_RE = re.compile("[" + "".join(re.escape(chr(c)) for c in _FOLD) + "]")


@dataclass(frozen=True)
class NormText:
    """Normalised text plus, for each of its characters, the offset of that character in the original."""

    text: str
    offsets: list[int]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map a [start, end) span of the normalised text to the original text."""
        if start >= end:
            o = (
                self.offsets[start]
                if start < len(self.offsets)
                else (self.offsets[-1] + 1 if self.offsets else 0)
            )
            return o, o
        return self.offsets[start], self.offsets[end - 1] + 1


def fold_chars(text: str) -> str:
    """Fold full-width digits/percent and traditional characters, one character for one."""
    # Most bulletins need no folding; a character-class scan is far cheaper than translate's per-char lookup.
    return text.translate(_FOLD) if _FOLD_RE.search(text) else text


_WS_RUN = re.compile(r"\s+")


def normalize(text: str) -> NormText:
    """Join hard-wrapped lines and fold characters, keeping an offset map.

    A run of whitespace containing a line break is dropped when the character before it does not end a sentence
    (the line was wrapped), and becomes one ``\\n`` otherwise. Other whitespace runs between CJK characters or
    digits are dropped (``1949.4 万元``, ``19 家``); between Latin words they become one space.
    """
    src = fold_chars(text)
    parts: list[str] = []
    offs: list[int] = []
    pos = 0
    n = len(src)
    for m in _WS_RUN.finditer(src):
        a, b = m.span()
        if a > pos:
            parts.append(src[pos:a])
            offs.extend(range(pos, a))
        pos = b
        if not offs or b >= n:
            continue  # leading and trailing whitespace goes
        prev, nxt = src[a - 1], src[b]
        run = m.group(0)
        if "\n" in run or "\r" in run:
            if not _must_join(prev, nxt) and (
                prev in _BREAK_KEEPERS
                or _ends_block(src, a)
                or _short_line(src, a)
                or _ENUM_START.match(src, b)
            ):
                parts.append("\n")
                offs.append(a)
            # else: a wrapped line, joined
        elif prev.isascii() and prev.isalpha() and nxt.isascii() and nxt.isalpha():
            parts.append(" ")
            offs.append(a)
    if pos < n:
        parts.append(src[pos:])
        offs.extend(range(pos, n))
    return NormText("".join(parts), offs)


def _line_start(src: str, i: int) -> int:
    return max(src.rfind("\n", 0, i), src.rfind("\r", 0, i)) + 1


def _ends_block(src: str, i: int) -> bool:
    """Whether the line ending at ``i`` ends a block although its last character is no sentence end.

    A closing quote ends a sentence when a sentence end precedes it (``…。”``); a closing bracket only when the
    whole line is a bracketed note such as the attribution ``（据…民政局）`` (``乡镇（街道）`` wraps mid-sentence).
    """
    last = src[i - 1]
    if last in "”』」":
        return i > 1 and src[i - 2] in "。！？!?"
    if last in "）)":
        line = src[_line_start(src, i) : i].strip()
        return line[:1] in "（(" and line.count("（") + line.count("(") == 1
    return False


# Lines shorter than this are cells, headings or list items, not a column wrapped mid-sentence.
_MIN_WRAPPED_LINE = 8
# A line never ends on a qualifier or linking verb: the number it announces is on the next line.
_NEVER_LAST = set("超逾近约达共计有为至到和及、，")
_ENUM_START = re.compile(
    r"[一二三四五六七八九十]+、|\d+[、.．](?!\d)|[（(][一二三四五六七八九十\d]+[）)]|第[一二三四五六七八九十]+[，、是]"
)


def _must_join(prev: str, nxt: str) -> bool:
    """A number is never split from its qualifier before it or its unit after it."""
    if prev in _NEVER_LAST:
        return True
    return (prev.isdigit() or prev in "万亿.") and nxt in _UNIT_START


_UNIT_START = set("万亿元名人个家所座项场次户位%")


def _short_line(src: str, i: int) -> bool:
    """Whether the line that ends at ``i`` is too short to be a wrapped column line."""
    return len(src[_line_start(src, i) : i].strip()) < _MIN_WRAPPED_LINE


def split_clauses(text: str) -> list[tuple[int, int]]:
    """Spans of clauses: pieces between Chinese clause punctuation (，。；！？、 and line breaks are not all equal,
    but each bounds the scope in which a number and its indicator term belong together)."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in (_CLAUSE_END if "," in text else _CLAUSE_END_CJK).finditer(text):
        if m.start() > start:
            spans.append((start, m.start()))
        start = m.end()
    if start < len(text):
        spans.append((start, len(text)))
    return spans


def split_sentences(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _SENT_END.finditer(text):
        end = m.end()
        if end > start:
            spans.append((start, end))
        start = end
    if start < len(text):
        spans.append((start, len(text)))
    return spans


# An ASCII comma is a thousands separator only between a digit and exactly three digits (1,200); bulletins
# copied from some sites use it as the clause comma too.
_CLAUSE_END_CJK = re.compile(r"[，。；;！？!?\n]")
_CLAUSE_END = re.compile(r"(?<![0-9]),|,(?![0-9]{3}(?![0-9]))|[，。；;！？!?\n]")
_SENT_END = re.compile(r"[。！？!?\n]+|;(?=\D)|；")
