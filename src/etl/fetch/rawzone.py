"""The raw zone: every fetched body, stored before parsing, immutable, addressed by its content hash.

A changed page is a new file (its hash differs); the old version stays. Paths come from hashes only, never from
anything a page says, so a hostile page cannot choose where it is written.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from etl.models import content_hash


class RawZoneCorrupt(ValueError):
    """A stored body whose bytes no longer hash to its name (truncated, overwritten, bit rot)."""


class RawZone:
    def __init__(self, root: Path):
        self.root = Path(root)

    def relpath(self, digest: str) -> str:
        return f"{digest[:2]}/{digest}"

    def put(self, body: bytes) -> tuple[str, str]:
        """Store ``body`` once; return (content hash, path relative to the zone)."""
        digest = content_hash(body)
        rel = self.relpath(digest)
        dest = self.root / rel
        if not dest.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(body)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, dest)  # atomic: a reader never sees half a body
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            os.chmod(dest, 0o444)
        return digest, rel

    def has(self, digest: str) -> bool:
        return (self.root / self.relpath(digest)).is_file()

    def get(self, digest: str) -> bytes:
        """The body stored under ``digest``, verified: a file that no longer hashes to its name raises
        :class:`RawZoneCorrupt` rather than being parsed into fewer facts."""
        path = self.root / self.relpath(digest)
        try:
            body = path.read_bytes()
        except FileNotFoundError as e:
            raise FileNotFoundError(f"raw zone {self.root}: no body with hash {digest}") from e
        actual = content_hash(body)
        if actual != digest:
            raise RawZoneCorrupt(
                f"raw zone {path}: content hash {actual[:12]}… does not match its name ({len(body)} bytes): "
                "the stored body is corrupt or truncated"
            )
        return body
