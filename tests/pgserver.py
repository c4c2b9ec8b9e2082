"""A real PostgreSQL for tests: a throwaway cluster from Debian's binaries on a free 127.0.0.1 port."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def binaries() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(os.path.realpath(found)).parent
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    return Path(dirs[-1]) if dirs else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """``with PostgresServer() as pg: pg.createdb("lake")``; PostgreSQL refuses to run as root, so under root the
    cluster runs as the ``postgres`` user the Debian package creates."""

    def __init__(self) -> None:
        bindir = binaries()
        if bindir is None:
            raise RuntimeError("PostgreSQL binaries not found (Debian: apt-get install postgresql)")
        self.bin = bindir
        # its own directory under the system temp dir: pytest's tmp_path sits under a root-only directory the
        # postgres user cannot enter
        self.root = Path(tempfile.mkdtemp(prefix="etl-pg-"))
        self.data = self.root / "pgdata"
        self.port = _free_port()
        # as root, the commands run as the postgres user (subprocess drops the privileges itself: no runuser/su)
        self.as_user: dict = (
            {"user": "postgres", "group": "postgres", "extra_groups": []} if os.geteuid() == 0 else {}
        )

    def _run(self, *args: str) -> None:
        subprocess.run(list(args), check=True, capture_output=True, text=True, timeout=120, **self.as_user)

    def __enter__(self) -> PostgresServer:
        if self.as_user:
            shutil.chown(self.root, "postgres")
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "etl", "--no-sync")
        opts = f"-k {self.root} -p {self.port} -h 127.0.0.1 -F"
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            opts,
            "-l",
            str(self.root / "pg.log"),
            "-w",
            "start",
        )
        return self

    def createdb(self, name: str) -> str:
        self._run(str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "etl", name)
        return self.dsn(name)

    def dsn(self, name: str) -> str:
        return f"dbname={name} host=127.0.0.1 port={self.port} user=etl"

    def __exit__(self, *exc: object) -> None:
        subprocess.run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"],
                       capture_output=True, timeout=120, **self.as_user)  # fmt: skip
        shutil.rmtree(self.root, ignore_errors=True)
