"""Prefect's temporary API server for local runs, started before anything heavy is imported.

With no Prefect server configured, Prefect starts a temporary one (a uvicorn subprocess serving its API over a
SQLite file in PREFECT_HOME) on the first API call, i.e. after this process has spent seconds importing prefect
and the pipeline, and after importing the whole server application in this process just to launch it (~5 s of
CPU here). Started from the command line's first lines instead, the server imports on the second core while this
process imports the pipeline, and the flow finds it (nearly) ready: on the 2-core machine this alone took a
no-change nightly run over 20 sources from 18 s to 14 s.

The server is the same one Prefect would start (same app factory, same environment flags, same database); the
flow talks to it through PREFECT_API_URL, which is set before prefect is imported. It is only started when the
user has not configured an API URL anywhere Prefect looks (environment, ``.env``, ``prefect.toml``,
``pyproject.toml``, the active profile): tests check that this agrees with Prefect's own settings.
"""

from __future__ import annotations

import atexit
import ctypes
import http.client
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable
from pathlib import Path

API_URL = "PREFECT_API_URL"
# the flags Prefect sets for its own temporary server: no UI, only the services an ephemeral server runs
EPHEMERAL_FLAGS = {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
# What a server living for one command does not need (medians of 6 starts on the 2-core machine; the user's
# environment overrides these):
# - block types are registered at every start, after importing every installed Prefect collection (prefect-dask
#   pulls in dask): ~1.1 s of a ~6 s start. The pipeline uses no blocks; a real `prefect server` registers them.
# - the automation services (reactive triggers and their actions) start consumers: ~0.7 s. Automations
#   belong on a long-running server, not on one that stops with the command.
SERVER_DEFAULTS = {
    "PREFECT_API_BLOCKS_REGISTER_ON_START": "false",
    "PREFECT_MEMOIZE_BLOCK_AUTO_REGISTRATION": "false",
    "PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED": "false",
}


class ServerStartError(RuntimeError):
    pass


def configured_api_url(cwd: Path | None = None, environ: dict[str, str] | None = None) -> str | None:
    """The API URL the user configured for Prefect, read the way Prefect reads it (highest priority first),
    without importing prefect."""
    env = os.environ if environ is None else environ
    cwd = cwd or Path.cwd()
    if env.get(API_URL):
        return env[API_URL]
    dotenv = cwd / ".env"
    if dotenv.is_file():
        for line in dotenv.read_text(encoding="utf-8").splitlines():
            key, _, value = line.strip().removeprefix("export ").partition("=")
            if key.strip() == API_URL and value.strip():
                return value.strip().strip("'\"")
    for path, table in ((cwd / "prefect.toml", ()), (cwd / "pyproject.toml", ("tool", "prefect"))):
        data = _toml(path)
        for key in table:
            data = data.get(key, {})
        api = data.get("api", {})
        if isinstance(api, dict) and api.get("url"):
            return str(api["url"])
    url = active_profile(env).get(API_URL)
    return str(url) if url else None


def active_profile(env: dict[str, str]) -> dict:
    """Settings of the active Prefect profile, chosen as Prefect's settings loader chooses it: from the user's
    profiles file (PREFECT_PROFILE, else its ``active``), else Prefect's built-in default profile."""
    home = Path(env.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser()
    path = Path(env.get("PREFECT_PROFILES_PATH") or home / "profiles.toml").expanduser()
    if path.is_file():
        user = _toml(path)
        active = env.get("PREFECT_PROFILE") or user.get("active")
        profiles = user.get("profiles", {})
        if active in profiles:
            return profiles[active]
    builtin = _toml(_prefect_package() / "settings" / "profiles.toml")
    return builtin.get("profiles", {}).get(builtin.get("active", "ephemeral"), {})


def _prefect_package() -> Path:
    """Prefect's package directory, found without importing it (an import costs ~1.5 s)."""
    spec = importlib.util.find_spec("prefect")
    if spec is None or not spec.submodule_search_locations:
        raise ServerStartError("prefect is not installed in this environment")
    return Path(next(iter(spec.submodule_search_locations)))


def _toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _parent_death_signal() -> Callable[[], None] | None:
    """Linux: a function for ``preexec_fn`` that has the server sent SIGTERM when this process dies, even by
    SIGKILL, so no server outlives its run. libc is loaded here, in the parent: loading a library in the forked
    child could wait forever on a lock another thread held at the fork."""
    if sys.platform != "linux":
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None

    def set_pdeathsig() -> None:
        prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG

    return set_pdeathsig


class TemporaryServer:
    """One Prefect API server subprocess for the life of this command."""

    def __init__(self, startup_timeout: float | None = None) -> None:
        self.startup_timeout = startup_timeout or float(
            os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
        )
        self.port = 0
        self.process: subprocess.Popen | None = None
        self._ready = False

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def start(self) -> None:
        self.port = _free_port()
        app_dir = str(_prefect_package().parent)
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-m", "uvicorn", "--app-dir", app_dir),
                *("--factory", "prefect.server.api.server:create_app"),
                *("--host", "127.0.0.1", "--port", str(self.port)),
                *("--log-level", "error", "--lifespan", "on"),
            ],
            env={**SERVER_DEFAULTS, **os.environ, **EPHEMERAL_FLAGS},
            stdin=subprocess.DEVNULL,
            preexec_fn=_parent_death_signal(),
        )
        atexit.register(self.stop)

    def wait_ready(self) -> None:
        """Block until the API answers its health check."""
        if self._ready:
            return
        assert self.process is not None, "start() first"
        deadline = time.monotonic() + self.startup_timeout
        while True:
            code = self.process.poll()
            if code is not None:
                raise ServerStartError(
                    f"Prefect's temporary server on 127.0.0.1:{self.port} exited with code {code} before it "
                    "was ready (its error is printed above)"
                )
            if self._healthy():
                self._ready = True
                return
            if time.monotonic() > deadline:
                self.stop()
                raise ServerStartError(
                    f"Prefect's temporary server on 127.0.0.1:{self.port} was not healthy after "
                    f"{self.startup_timeout:.0f} s (PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS)"
                )
            # a starting server announces nothing: polling its health endpoint is the only signal
            time.sleep(0.05)

    def _healthy(self) -> bool:
        # the standard library's client: this module is imported before anything heavy, httpx included
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
        try:
            conn.request("GET", "/api/health")
            return conn.getresponse().status == 200
        except (OSError, http.client.HTTPException):
            return False
        finally:
            conn.close()

    def stop(self) -> None:
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def start_if_needed() -> TemporaryServer | None:
    """Start the temporary server unless a Prefect API is configured; point this process (and its children) at
    it. Call before importing prefect: its settings are read at import."""
    if configured_api_url() is not None or _ephemeral_disabled():
        return None
    server = TemporaryServer()
    server.start()
    os.environ[API_URL] = server.api_url
    print(
        f"prefect: temporary API server on {server.api_url.removesuffix('/api')} "
        "(no Prefect API configured; set PREFECT_API_URL to run against a server)",
        file=sys.stderr,
        flush=True,
    )
    return server


def _ephemeral_disabled() -> bool:
    key = "PREFECT_SERVER_EPHEMERAL_ENABLED"
    value = os.environ.get(key) or active_profile(dict(os.environ)).get(key) or "true"
    return str(value).strip().lower() in {"0", "false", "no", "off"}
