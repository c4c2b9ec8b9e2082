"""Publication dates as Chinese bulletins write them, read the same way by discovery and parsing."""

from __future__ import annotations

import re
from datetime import date

_DATE = re.compile(r"(20\d{2}|19\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")


def parse_date(s: str | None) -> date | None:
    """First plausible date in ``s`` (2024-05-12, 2024/5/12, 2024年5月12日)."""
    if not s:
        return None
    for m in _DATE.finditer(s):
        try:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            continue
    return None
