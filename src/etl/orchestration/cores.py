"""How many re-parse worker processes a machine gets by default: the cores this process may really use, and no
more workers than the single writer can load for."""

from __future__ import annotations

import math
import os
from pathlib import Path

# Workers by default, at most. Each one is ~85 MB of the process tree (its interpreter, lexicon, gazetteer and a
# chunk) and the single writer bounds the speed: measured on 2 cores, the writer loads 4,500-6,400 pages per
# second of its own CPU and a worker parses and extracts 1,300-1,500 per second of its own, so three supply ~1.5x
# the single-core extract rate and a fourth adds less than its share. Three also keep a re-parse of 1M pages
# within 1 GB (949 MB measured with three; four were 1,012 MB at 100k already). More with --workers.
MAX_DEFAULT_WORKERS = 3
_CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")


def usable_cores(cpu_max: Path = _CGROUP_CPU_MAX) -> int:
    """The cores this process may run on: its CPU affinity, lowered to a cgroup v2 CPU quota when one is set (a
    container limited to 2 CPUs on a 64-core host would otherwise start 64 workers and share 2 cores among them).
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        cores = os.cpu_count() or 1
    try:
        quota, period = cpu_max.read_text(encoding="ascii").split()[:2]
        if quota != "max":
            cores = min(cores, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):  # no cgroup v2 here, or a line that is not "<quota|max> <period>"
        pass
    return max(1, cores)


def default_workers(cores: int) -> int:
    """Re-parse processes for a machine of ``cores``: one per core on one or two (the writer shares them; on 2
    cores, two workers are faster than one), else one core left to the writer and Prefect's server, and at most
    :data:`MAX_DEFAULT_WORKERS`."""
    if cores <= 2:
        return max(1, cores)
    return min(cores - 1, MAX_DEFAULT_WORKERS)
