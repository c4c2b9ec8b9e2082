"""uv, pinned, on any Python 3.11+ with nothing else: ``python3 uvw.py <uv arguments>``.

A stock Debian/Ubuntu ``python3`` refuses ``pip install`` (PEP 668, externally managed) and may have no pip or
venv at all. This wrapper needs only the standard library: it uses uv 0.13.8 when it is already there (``.tools/``,
``PATH``, or ``python3 -m uv``), else downloads uv's wheel for this platform from the package index, checks its
SHA-256 against the hashes pinned below, keeps the ``uv`` binary in ``.tools/uv-0.13.8/`` and runs it. uv then
creates ``.venv/`` itself from this same Python (no ensurepip needed).

``run`` gets ``--quiet`` unless ``-v``/``--verbose`` is given: uv's own progress lines (``Bytecode compiled 9400
files``) are noise in every command; its errors still print.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import urllib.request
import zipfile
from pathlib import Path

VERSION = "0.13.8"
WHEELS = {  # (system, machine, libc) → wheel, sha256 as the index published it
    ("linux", "x86_64", "glibc"): (
        "uv-0.13.8-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "e18a57b8b352eb7c8feb317b9f6f533c8f0ad9673fd6cf34bbe3cf1a9f6a8984",
    ),
    ("linux", "x86_64", "musl"): (
        "uv-0.13.8-py3-none-musllinux_1_1_x86_64.whl",
        "29451c60f5e8b07403e0a175d5229efc36b0289b34143ff4aaa499a5dd52553a",
    ),
    ("linux", "aarch64", "glibc"): (
        "uv-0.13.8-py3-none-manylinux_2_17_aarch64.manylinux2014_aarch64.musllinux_1_1_aarch64.whl",
        "0b3e8b1a4f5e405e31e2ff33de8af4744831e9f7338539671efbd8c3c94e791d",
    ),
    ("darwin", "x86_64", ""): (
        "uv-0.13.8-py3-none-macosx_10_12_x86_64.whl",
        "b7124ca1956ec2e476a1003ea5715a15f0266afaec37f4dc9c6972ba8183e6d1",
    ),
    ("darwin", "arm64", ""): (
        "uv-0.13.8-py3-none-macosx_11_0_arm64.whl",
        "62b6943c7fd64fac6854f780bea6e0359e5a5bc3241f83ee357bb38276afac49",
    ),
    ("windows", "amd64", ""): (
        "uv-0.13.8-py3-none-win_amd64.whl",
        "cfbc13020a64cdf2f116d2936824c38edbf41e5c07f1ea291baf02e31ebf3ed0",
    ),
    ("windows", "arm64", ""): (
        "uv-0.13.8-py3-none-win_arm64.whl",
        "b4184029b1b7c54409b9cd4372c73a36ef9c2d1d7cf3b0aca59c8b1932f041dc",
    ),
}
ROOT = Path(__file__).resolve().parent
TOOLS = ROOT / ".tools" / f"uv-{VERSION}"
EXE = "uv.exe" if os.name == "nt" else "uv"


def _version_of(cmd: list[str]) -> str | None:
    try:
        out = subprocess.run([*cmd, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    parts = out.stdout.split()
    return parts[1] if out.returncode == 0 and len(parts) > 1 else None


def _platform_key() -> tuple[str, str, str]:
    system = platform.system().lower()
    machine = platform.machine().lower().replace("arm64", "aarch64" if system == "linux" else "arm64")
    if system == "linux":
        libc = "glibc" if platform.libc_ver()[0] == "glibc" else "musl"
        return system, machine, libc
    return system, {"x86_64": "x86_64", "amd64": "amd64", "aarch64": "arm64"}.get(machine, machine), ""


def _download() -> Path:
    key = _platform_key()
    if key not in WHEELS:
        sys.exit(
            f"uvw.py: no pinned uv wheel for {key}; install uv {VERSION} yourself (https://docs.astral.sh/uv/)"
        )
    name, sha256 = WHEELS[key]
    index = os.environ.get("UV_INDEX_URL") or os.environ.get("PIP_INDEX_URL") or "https://pypi.org/simple"
    req = urllib.request.Request(
        f"{index.rstrip('/')}/uv/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
    )
    print(f"uvw.py: fetching uv {VERSION} ({name}) from {index}", file=sys.stderr)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            files = json.load(resp)["files"]
        url = next(f["url"] for f in files if f["filename"] == name)
        with urllib.request.urlopen(url, timeout=300) as resp:
            data = resp.read()
    except (OSError, ValueError, KeyError, StopIteration) as e:
        sys.exit(f"uvw.py: cannot fetch {name} from {index}: {e}")
    if hashlib.sha256(data).hexdigest() != sha256:
        sys.exit(f"uvw.py: {name}: SHA-256 does not match the pinned hash; not running it")
    with zipfile.ZipFile(io.BytesIO(data)) as wheel:
        member = next(m for m in wheel.namelist() if m.endswith(f".data/scripts/{EXE}"))
        tmp = TOOLS.with_name(TOOLS.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        (tmp / EXE).write_bytes(wheel.read(member))
        (tmp / EXE).chmod(0o755)
        shutil.rmtree(TOOLS, ignore_errors=True)
        tmp.rename(TOOLS)  # whole or absent: an interrupted download leaves no half binary
    return TOOLS / EXE


def find_uv() -> list[str]:
    local = TOOLS / EXE
    if local.exists() and _version_of([str(local)]) == VERSION:
        return [str(local)]
    on_path = shutil.which("uv")
    if on_path and _version_of([on_path]) == VERSION:
        return [on_path]
    if _version_of([sys.executable, "-m", "uv"]) == VERSION:
        return [sys.executable, "-m", "uv"]
    return [str(_download())]


def main(argv: list[str]) -> int:
    args = list(argv)
    if args[:1] == ["run"] and not {"-v", "--verbose", "-q", "--quiet"} & set(args[1:]):
        args.insert(1, "--quiet")
    env = dict(os.environ)
    # uv creates .venv from the Python running this script, not from whatever else is on PATH
    env.setdefault("UV_PYTHON", sys.executable)
    cmd = [*find_uv(), *args]
    if os.name == "nt":
        return subprocess.call(cmd, env=env)
    os.execvpe(cmd[0], cmd, env)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
