"""prefect.yaml is parsed and every entrypoint imported, so a renamed flow fails CI, not the 2 a.m. run."""

import importlib.util
import inspect
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def deployments():
    return yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))["deployments"]


def test_every_entrypoint_imports_and_its_parameters_exist():
    deps = deployments()
    assert {d["name"] for d in deps} == {"nightly", "backfill"}
    for d in deps:
        path, func = d["entrypoint"].split(":")
        spec = importlib.util.spec_from_file_location(f"entry_{d['name']}", ROOT / path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        flow = getattr(module, func)
        params = inspect.signature(flow.fn).parameters
        assert set(d.get("parameters", {})) <= set(params), d["name"]
        assert d["work_pool"]["name"] == "etl-pool"


def test_schedules():
    by_name = {d["name"]: d for d in deployments()}
    [nightly] = by_name["nightly"]["schedules"]
    assert nightly == {"cron": "0 2 * * *", "timezone": "Asia/Shanghai", "active": True}
    assert by_name["backfill"]["schedules"] == []


def test_no_build_or_push_and_no_absolute_paths():
    raw = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    assert raw["build"] is None and raw["push"] is None
    [step] = raw["pull"]
    assert step["prefect.deployments.steps.set_working_directory"]["directory"] == "{{ $ETL_CHECKOUT }}"
