"""Which reader a stored page was read by: a fingerprint of everything that decides the rows a page gives (the
page path's code, the lexicon, the gazetteer, the validation and load rules) and of the source's own reading
settings (selectors, encoding, region).

A re-parse partition is done for the reader that did it, not for good. The job a re-parse exists for is "the
extractor improved: read ten years again"; were a month done once and for all, the re-parse run after the
improvement would skip every month an earlier re-parse had done and report success with the warehouse still
holding the old reader's facts. A fingerprint of the files themselves, not a version number someone must
remember to raise, changes whenever any of them does.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from etl.models import Source

PACKAGE = Path(__file__).resolve().parents[1]  # src/etl, or site-packages/etl when installed
# Every module of these packages: a page's reading may reach any of them (a PDF's reader is imported only when a
# PDF comes).
READER_PACKAGES = ("parse", "extract", "reference")
# The other files that decide a stored page's rows: the worker's page path, the columns and ids it sends, the
# writer's validation and deduplication, and the data the extractor reads.
READER_FILES = (
    "models.py",
    "fetch/charset.py",
    "fetch/pager.py",
    "fetch/rawzone.py",
    "fetch/urls.py",
    "orchestration/pages.py",
    "orchestration/reparse.py",
    "orchestration/reparse_worker.py",
    "warehouse/rows.py",
    "warehouse/validate.py",
    "warehouse/load.py",
    "data/lexicon.toml",
    "data/regions.csv",
    "data/everyday_names.txt",
    "data/trad_simp.tsv",
    "data/indicators.csv",
)
# A source's own settings that change what its pages give.
SOURCE_READING = ("title_selector", "date_selector", "body_selector", "encoding", "region")


def reader_files(root: Path = PACKAGE) -> list[Path]:
    """The files the fingerprint covers, in a fixed order."""
    files = [root / f for f in READER_FILES]
    for package in READER_PACKAGES:
        files += (root / package).rglob("*.py")
    return sorted(set(files), key=lambda p: p.relative_to(root).as_posix())


@functools.cache
def code_fingerprint(root: Path = PACKAGE) -> str:
    """Hash of the reader's files (their paths and bytes). A file missing from an install counts as missing."""
    h = hashlib.sha256()
    for path in reader_files(root):
        h.update(path.relative_to(root).as_posix().encode() + b"\0")
        try:
            h.update(path.read_bytes())
        except OSError:
            h.update(b"<missing>")
        h.update(b"\0")
    return h.hexdigest()


def reader_of(source: Source, root: Path = PACKAGE) -> str:
    """The reader of ``source``'s pages: the code's fingerprint with the source's own reading settings (a new body
    selector, encoding or issuing region changes what its pages give, and only its)."""
    values = ("" if (v := getattr(source, name)) is None else str(v) for name in SOURCE_READING)
    key = code_fingerprint(root) + "\0" + "\0".join(values)
    return hashlib.sha256(key.encode()).hexdigest()[:12]
