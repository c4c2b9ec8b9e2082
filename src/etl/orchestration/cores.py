"""How many re-parse worker processes a machine gets by default: the cores this process may really use, and no
more workers than the single writer can load for."""

from __future__ import annotations

import math
import os
from pathlib import Path

# Workers the single writer keeps up with. Measured on 2 cores over 100k pages: the writer loads 5,400-6,400
# pages per second of its own CPU and a worker parses and extracts ~1,500 per second of its own, so four keep it
# busy; each one more adds ~70 MB to the process tree (its interpreter, lexicon, gazetteer and a chunk) and no
# speed.
MAX_DEFAULT_WORKERS = 4
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
