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
_TRAD = "個萬億餘兩縣區鄉鎮會務組織機構專項資約場戶員誌願導數設點級業綜職證籌劃補貼實現與為發運營開幾國總計達額這協過屆廳寧東廣陽訓動們對內蘇龍灣門遼潛樂濟雲貴陝學時間實來範並著"
_SIMP = "个万亿余两县区乡镇会务组织机构专项资约场户员志愿导数设点级业综职证筹划补贴实现与为发运营开几国总计达额这协过届厅宁东广阳训动们对内苏龙湾门辽潜乐济云贵陕学时间实来范并着"
_TRAD_MAP = {ord(t): ord(s) for t, s in zip(_TRAD, _SIMP, strict=True) if t != s}


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
    return text.translate(_FULLWIDTH).translate(_TRAD_MAP)


def normalize(text: str) -> NormText:
    """Join hard-wrapped lines and fold characters, keeping an offset map.

    A run of whitespace containing a line break is dropped when the character before it does not end a sentence
    (the line was wrapped), and becomes one ``\\n`` otherwise. Other whitespace runs between CJK characters or
    digits are dropped (``1949.4 万元``, ``19 家``); between Latin words they become one space.
    """
    src = fold_chars(text.replace("\r\n", "\n").replace("\r", "\n"))
    out: list[str] = []
    offs: list[int] = []
    i, n = 0, len(src)
    while i < n:
        ch = src[i]
        if ch.isspace():
            j = i
            has_break = False
            while j < n and src[j].isspace():
                has_break = has_break or src[j] == "\n"
                j += 1
            prev = out[-1] if out else ""
            nxt = src[j] if j < n else ""
            if not out or j >= n:
                pass
            elif (
                has_break
                and not _must_join(prev, nxt)
                and (
                    prev in _BREAK_KEEPERS
                    or _ends_heading(out)
                    or _short_line(src, i)
                    or _ENUM_START.match(src, j)
                )
            ):
                out.append("\n")
                offs.append(i)
            elif has_break:
                pass  # a wrapped line: join
            elif prev.isascii() and prev.isalpha() and nxt.isascii() and nxt.isalpha():
                out.append(" ")
                offs.append(i)
            i = j
            continue
        out.append(ch)
        offs.append(i)
        i += 1
    return NormText("".join(out), offs)


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
    line_start = src.rfind("\n", 0, i) + 1
    return len(src[line_start:i].strip()) < _MIN_WRAPPED_LINE


def _ends_heading(out: list[str]) -> bool:
    """Whether the line so far ends a block although its last character is no sentence end.

    A closing quote ends a sentence when a sentence end precedes it (``…。”``); a closing bracket only when the
    whole line is a bracketed note such as the attribution ``（据…民政局）`` (``乡镇（街道）`` wraps mid-sentence).
    """
    last = out[-1]
    if last in "”』」":
        return len(out) > 1 and out[-2] in "。！？!?"
    if last in "）)":
        opener = "（" if last == "）" else "("
        for k in range(len(out) - 2, -1, -1):
            if out[k] == "\n":
                return False
            if out[k] == opener:
                return k == 0 or out[k - 1] == "\n"
    return False


def split_clauses(text: str) -> list[tuple[int, int]]:
    """Spans of clauses: pieces between Chinese clause punctuation (，。；！？、 and line breaks are not all equal,
    but each bounds the scope in which a number and its indicator term belong together)."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _CLAUSE_END.finditer(text):
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
_CLAUSE_END = re.compile(r"(?<![0-9]),|,(?![0-9]{3}(?![0-9]))|[，。；;！？!?\n]")
_SENT_END = re.compile(r"[。！？!?\n]+|;(?=\D)|；")
