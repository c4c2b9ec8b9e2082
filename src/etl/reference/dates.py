"""Publication dates as Chinese bulletins write them, read the same way by discovery and parsing."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

_DATE = re.compile(r"(20\d{2}|19\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")
# 二〇二四年五月三日: how official documents (公文) date themselves, and many bulletins' footers
_HAN_DATE = re.compile(
    r"((?:一九|二[〇零○])[〇零○一二三四五六七八九]{2})\s*年\s*(十[一二]?|[一二三四五六七八九])\s*月"
    r"\s*(三十[一]?|二?十[一二三四五六七八九]?|[一二三四五六七八九])\s*日"
)
_HAN_DIGIT = {c: i for i, c in enumerate("〇一二三四五六七八九")} | {"零": 0, "○": 0}
# Full-width digits and separators (２０２４－０５－０３, typed in a Chinese input method's full-width mode) and
# the dashes a word processor substitutes for a hyphen read as the ASCII a date is matched in.
_FOLD = str.maketrans(
    {
        **{chr(0xFF10 + i): str(i) for i in range(10)},
        "－": "-",
        "／": "/",
        "．": ".",
        "‐": "-",
        "‑": "-",
        "–": "-",
    }
)


def fold_date_chars(s: str) -> str:
    """``s`` with full-width digits and separators, and typographic hyphens, as ASCII (same length)."""
    return s.translate(_FOLD)


def _han_number(s: str) -> int:
    """一 … 三十一 as a number (month and day: at most two characters around 十)."""
    if "十" not in s:
        return _HAN_DIGIT[s]
    tens, _, units = s.partition("十")
    return (_HAN_DIGIT[tens] if tens else 1) * 10 + (_HAN_DIGIT[units] if units else 0)


def parse_date(s: str | None) -> date | None:
    """First plausible date in ``s``: 2024-05-12, 2024/5/12, 2024年5月12日, ２０２４－０５－１２, 二〇二四年五月十二日."""
    if not s:
        return None
    s = fold_date_chars(s)
    found = [(m.start(), _arabic(m)) for m in _DATE.finditer(s)]
    if "年" in s:
        found += [(m.start(), _han(m)) for m in _HAN_DATE.finditer(s)]
    return next((d for _, d in sorted(found, key=lambda x: x[0]) if d is not None), None)


def _arabic(m: re.Match[str]) -> date | None:
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def _han(m: re.Match[str]) -> date | None:
    try:
        return date(
            int("".join(str(_HAN_DIGIT[c]) for c in m.group(1))),
            _han_number(m.group(2)),
            _han_number(m.group(3)),
        )
    except ValueError:
        return None


# China Standard Time: a bulletin published at 00:30 in Beijing is dated that day, not the day before in UTC
CHINA = timezone(timedelta(hours=8))
_EPOCH_DIGITS = re.compile(r"\d{10}(?:\d{3})?")
# 2000-01-01 .. 2100-01-01 in seconds since the epoch
_EPOCH_RANGE = (946_684_800, 4_102_444_800)


def epoch_date(value: object) -> date | None:
    """The date (in China) of a Unix timestamp in seconds or milliseconds, as JSON list APIs give publication
    times (``"publishTime": 1714694400000``); None for anything else or a time outside 2000-2099."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and _EPOCH_DIGITS.fullmatch(value.strip()):
        value = int(value)
    if not isinstance(value, int | float):
        return None
    seconds = value / 1000 if value >= 100_000_000_000 else value
    if not _EPOCH_RANGE[0] <= seconds < _EPOCH_RANGE[1]:
        return None
    return datetime.fromtimestamp(seconds, CHINA).date()


def stamp_date(value: str | None) -> date | None:
    """The date (in China) of a timestamp that gives its offset (``2024-05-02T16:30:00Z``, as an
    ``article:published_time`` meta or an Atom feed writes it), else :func:`parse_date` of ``value``."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        return parse_date(value)
    return china_date(when)


def china_date(when: datetime) -> date:
    """The day ``when`` falls on in China; a time that gives no offset is taken as written."""
    return (when.astimezone(CHINA) if when.tzinfo is not None else when).date()
