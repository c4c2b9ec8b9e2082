"""The folder shows the architecture: every module sits in a stage package (or is a documented root module),
and imports point one way, from a later stage to an earlier one, never back."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "etl"

# The data flow, earliest first. A module may import from its own package and from any package listed before it.
STAGES = [
    "models",  # records that cross a stage boundary
    "settings",  # environment: where the warehouse and Prefect's home live
    "reference",  # the gazetteer, Chinese dates, the term matcher: knowledge every stage reads
    "fetch",  # registry, discovery, polite HTTP, robots, charsets, the raw zone
    "parse",  # a page into title/date/text bulletins
    "extract",  # a bulletin's text into facts
    "warehouse",  # DuckDB: migrations, validation, loads, state, marts
    "orchestration",  # the stages composed per source, backfill planning, cancellation, Prefect plumbing
    "report",  # terminal tables, the HTML report, run summaries
    "demo",  # demo bureau sites and synthetic batches for benchmarks
    "cli",  # the `etl` command
]
ROOT_MODULES = {"models", "settings", "cli"}
DATA_PACKAGES = {"data"}  # package data (gazetteer, lexicon, tables), no code


def _unit(module: str) -> str:
    parts = module.split(".")
    assert parts[0] == "etl"
    return parts[1] if len(parts) > 1 else "etl"


def _modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py"))


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "etl":
                found += [(node.lineno, f"etl.{a.name}") for a in node.names if a.name != "__version__"]
            elif node.module.startswith("etl."):
                found.append((node.lineno, node.module))
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            found.append((node.lineno, "relative"))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("etl.")]
    return found


def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = [p for p in rel.parts if p != "__init__"]
    return ".".join(parts)


def test_every_module_sits_in_a_stage_package_or_is_a_root_module() -> None:
    stray = []
    for path in _modules():
        rel = path.relative_to(SRC)
        if len(rel.parts) == 1 and rel.stem not in ROOT_MODULES | {"__init__"}:
            stray.append(str(rel))
        elif rel.parts[0] in DATA_PACKAGES:
            if rel.name != "__init__.py" or path.read_text(encoding="utf-8").strip():
                stray.append(str(rel))
        elif len(rel.parts) > 1 and rel.parts[0] not in STAGES:
            stray.append(str(rel))
    assert stray == []


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_imports_point_from_later_stages_to_earlier_ones(path: Path) -> None:
    here = _unit(_module_name(path))
    rank = {s: i for i, s in enumerate(STAGES)}
    backwards = []
    for line, target in _imports(path):
        assert target != "relative", f"{path.name}:{line}: use absolute imports (etl.…)"
        there = _unit(target)
        if here == "etl":  # the package's own __init__ imports nothing from the stages
            backwards.append(f"{line}: {target}")
        elif there != here and rank[there] > rank[here]:
            backwards.append(f"{line}: {STAGES[rank[here]]} imports {target} ({there} comes later)")
    assert backwards == []


def test_the_check_sees_a_backward_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from etl.warehouse.database import connect\nimport etl.report.html\n", encoding="utf-8")
    assert _imports(bad) == [(1, "etl.warehouse.database"), (2, "etl.report.html")]
    assert {_unit(t) for _, t in _imports(bad)} == {"warehouse", "report"}
