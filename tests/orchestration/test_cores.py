"""The re-parse pool's default size: the cores a process may use (affinity, a container's CPU quota), one left to
the writer on machines with more than two, never more workers than one writer loads for; and a worker process
that imports the page path only."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from etl.orchestration.cores import MAX_DEFAULT_WORKERS, default_workers, usable_cores


@pytest.mark.parametrize(
    ("cores", "workers"), [(1, 1), (2, 2), (3, 2), (4, 3), (5, 3), (8, 3), (64, MAX_DEFAULT_WORKERS)]
)
def test_default_workers_leave_a_core_to_the_writer_and_stop_at_what_it_loads(cores, workers):
    assert default_workers(cores) == workers


def _affinity() -> int:
    return len(os.sched_getaffinity(0))


@pytest.mark.parametrize(
    ("cpu_max", "expected"),
    [
        ("max 100000\n", None),  # no quota: the affinity
        ("100000 100000\n", 1),
        ("150000 100000\n", 2),  # 1.5 CPUs: two processes can use it
        ("50000 100000\n", 1),  # half a CPU is still one
        ("garbage\n", None),
        ("", None),
    ],
)
def test_a_containers_cpu_quota_lowers_the_cores(tmp_path, cpu_max, expected):
    f = tmp_path / "cpu.max"
    f.write_text(cpu_max, encoding="ascii")
    assert usable_cores(f) == (min(expected, _affinity()) if expected else _affinity())


def test_no_cgroup_file_means_the_affinity(tmp_path):
    assert usable_cores(tmp_path / "absent") == _affinity()


def test_a_worker_imports_neither_the_fetch_client_nor_the_warehouse():
    """Each worker is a spawned interpreter: every module it imports is memory paid once per core."""
    heavy = ("httpx", "prefect", "pandas", "pandera", "duckdb", "rich", "click")
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, etl.orchestration.reparse_worker; "
            f"print(','.join(m for m in {heavy!r} if m in sys.modules))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == ""
