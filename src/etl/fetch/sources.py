"""The source registry: bureau sites as data (TOML), validated with errors that name the file and field."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from etl.fetch.client import DEFAULT_CONTACT_URL, FetchSettings, user_agent
from etl.fetch.kinds import KINDS, Field
from etl.fetch.registry import SourceConfigError, check_table, parse_toml, registry_table
from etl.fetch.tls import check_ca_file
from etl.models import Politeness, Source, Tls
from etl.reference.regions import load_gazetteer

# Fields every kind reads. docs/sources.md documents each of them and each kind's own (a test compares).
COMMON_FIELDS = (
    Field(
        "id",
        str,
        None,
        "stable identifier: the warehouse keys pages, cursors and partitions by it",
        required=True,
    ),
    Field("name", str, None, "the bureau or column, for people", required=True),
    Field("list_url", str, None, "the column's first list page (or feed, or JSON list)", required=True),
    Field("kind", str, "auto", "how the site lists its bulletins: " + ", ".join(KINDS)),
    Field("region", str, None, "6-digit division code of the issuing bureau (facts default to it)"),
    Field(
        "title_selector",
        str,
        None,
        "article page: the title (default: h1, then ArticleTitle, then <title>)",
        selector=True,
    ),
    Field(
        "date_selector",
        str,
        None,
        "article page: the date (default: PubDate meta, 发布时间：, .date…)",
        selector=True,
    ),
    Field(
        "body_selector",
        str,
        None,
        "article page: the main text (default: CMS containers, then the densest block)",
        selector=True,
    ),
    Field("encoding", str, None, "charset to use when the site's own declarations are wrong"),
    Field(
        "allowed_hosts",
        list,
        None,
        "hosts the fetcher may visit, redirects included (default: list_url's host)",
    ),
    Field(
        "since", date, date(2020, 1, 1), "oldest publication date ever fetched (the first run's window start)"
    ),
    Field("max_pages", int, 50, "most list pages read per run"),
    Field("obey_robots", bool, True, "obey robots.txt (missing: everything allowed; unreachable: nothing)"),
    Field(
        "follow_attachments",
        bool,
        True,
        "fetch the same-site PDF and .docx files an article links to (up to 5, size-capped) and read their text",
    ),
    Field(
        "politeness",
        dict,
        None,
        "table: concurrency (requests in flight per host, default 2), delay (s, default 1.0)",
    ),
    Field(
        "tls",
        dict,
        None,
        "table for HTTPS sites that fail verification: ca_file (PEM certificates to trust besides the public "
        "CAs, relative to the registry file), verify (false: accept any certificate), legacy (true: old "
        "servers' protocols)",
    ),
)
_COMMON = {f.name for f in COMMON_FIELDS}
_KIND_FIELDS = {name: {f.name: f for f in k.fields} for name, k in KINDS.items()}
_HTML_SELECTORS = set(_KIND_FIELDS["html_list"])


def _selector_compiles(selector: str) -> bool:
    """Selectors are compiled when the registry is read, so that a typo fails in a second with the file and
    field named instead of crashing the run at fetch time."""
    from selectolax.lexbor import LexborHTMLParser

    try:
        LexborHTMLParser("<html><body></body></html>").css(selector)
    except Exception:  # selectolax raises its own error type for any unparsable selector
        return False
    return True


def parse_source(entry: dict[str, Any], origin: str, base_dir: Path | None = None) -> Source:
    """One ``[[source]]`` table; ``origin`` names it in errors, ``base_dir`` is where its relative paths start
    (the registry file's directory)."""

    def fail(field_name: str, why: str) -> SourceConfigError:
        return SourceConfigError(f"{origin}: source {entry.get('id', '?')!r}: field {field_name!r}: {why}")

    for req in ("id", "name", "list_url"):
        if not isinstance(entry.get(req), str) or not entry[req].strip():
            raise fail(req, "required, a non-empty string")
    kind = entry.get("kind")
    if kind is None:  # selectors given: the site is read with them; none: automatic discovery
        kind = (
            "html_list" if _HTML_SELECTORS & set(entry) else ("json_api" if "items_path" in entry else "auto")
        )
    if kind not in KINDS:
        raise fail("kind", f"{kind!r} is not one of {', '.join(KINDS)}")
    own = _KIND_FIELDS[kind]
    unknown = set(entry) - _COMMON - set(own)
    if unknown:
        name = sorted(unknown)[0]
        elsewhere = [k for k, fs in _KIND_FIELDS.items() if name in fs]
        hint = f"a field of kind {', '.join(elsewhere)}" if elsewhere else "unknown field"
        known = ", ".join(sorted(_COMMON | set(own)))
        raise fail(name, f"{hint}, not of kind {kind} (known: {known})")
    options = []
    for f in own.values():
        if f.required and f.name not in entry:
            raise fail(f.name, f"required for kind {kind} ({f.doc})")
        value = entry.get(f.name, f.default)
        if value is not None and not isinstance(value, f.type):
            raise fail(f.name, f"must be a {f.type.__name__}")
        if f.selector and value is not None and not _selector_compiles(value):
            raise fail(f.name, f"{value!r} is not a CSS selector selectolax (lexbor) can parse")
        options.append((f.name, value))
    parts = urlsplit(entry["list_url"])
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise fail("list_url", f"{entry['list_url']!r} is not an http(s) URL")
    region = entry.get("region")
    if region is not None and load_gazetteer().get(str(region)) is None:
        raise fail("region", f"{region!r} is not a 6-digit division code in the gazetteer")
    hosts = entry.get("allowed_hosts") or [parts.netloc]
    if not isinstance(hosts, list) or not all(isinstance(h, str) for h in hosts):
        raise fail("allowed_hosts", "must be a list of host[:port] strings")
    hosts = [h.lower() for h in hosts]
    if parts.netloc.lower() not in hosts:
        raise fail("allowed_hosts", f"does not include the list URL's host {parts.netloc!r}")
    since = entry.get("since", date(2020, 1, 1))
    if isinstance(since, str):
        try:
            since = date.fromisoformat(since)
        except ValueError as e:
            raise fail("since", f"{since!r} is not an ISO date") from e
    if not isinstance(since, date):
        raise fail("since", "must be a date (2024-01-01)")
    if since > date.today():
        raise fail("since", f"{since} is in the future: nothing would ever be in the window")
    pol = entry.get("politeness", {})
    if not isinstance(pol, dict) or set(pol) - {"concurrency", "delay"}:
        raise fail("politeness", "a table with 'concurrency' and 'delay' only")
    conc = pol.get("concurrency", 2)
    delay = pol.get("delay", 1.0)
    if not isinstance(conc, int) or isinstance(conc, bool) or not 1 <= conc <= 64:
        raise fail("politeness.concurrency", "an integer in [1, 64]")
    if not isinstance(delay, int | float) or isinstance(delay, bool) or delay < 0:
        raise fail("politeness.delay", "a number of seconds >= 0")
    max_pages = entry.get("max_pages", 50)
    if not isinstance(max_pages, int) or isinstance(max_pages, bool) or max_pages < 1:
        raise fail("max_pages", "an integer >= 1")
    obey = entry.get("obey_robots", True)
    if not isinstance(obey, bool):
        raise fail("obey_robots", "true or false")
    follow = entry.get("follow_attachments", True)
    if not isinstance(follow, bool):
        raise fail("follow_attachments", "true or false")
    tls = _tls(entry.get("tls", {}), base_dir, fail)
    common = {}
    for k in ("title_selector", "date_selector", "body_selector", "encoding"):
        v = entry.get(k)
        if v is None:
            continue
        if not isinstance(v, str):
            raise fail(k, "must be a string")
        if k.endswith("_selector") and not _selector_compiles(v):
            raise fail(k, f"{v!r} is not a CSS selector selectolax (lexbor) can parse")
        common[k] = v
    return Source(
        id=entry["id"],
        name=entry["name"],
        kind=kind,
        list_url=entry["list_url"],
        region=str(region) if region is not None else None,
        allowed_hosts=tuple(hosts),
        since=since,
        max_pages=max_pages,
        obey_robots=obey,
        follow_attachments=follow,
        politeness=Politeness(concurrency=conc, delay=float(delay)),
        tls=tls,
        options=tuple(options),
        **common,
    )


def _tls(table: object, base_dir: Path | None, fail: Callable[[str, str], SourceConfigError]) -> Tls:
    if not isinstance(table, dict) or set(table) - {"ca_file", "verify", "legacy"}:
        raise fail("tls", "a table with 'ca_file', 'verify' and 'legacy' only")
    verify, legacy = table.get("verify", True), table.get("legacy", False)
    for name, value in (("verify", verify), ("legacy", legacy)):
        if not isinstance(value, bool):
            raise fail(f"tls.{name}", "true or false")
    ca_file = table.get("ca_file")
    if ca_file is not None:
        if not isinstance(ca_file, str) or not ca_file.strip():
            raise fail("tls.ca_file", "a path to a PEM file")
        path = Path(ca_file).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        if (why := check_ca_file(str(path))) is not None:
            raise fail("tls.ca_file", f"{path}: {why}")
        ca_file = str(path.resolve())
    return Tls(ca_file=ca_file, verify=verify, legacy=legacy)


@dataclass(frozen=True)
class FetchConfig:
    """The ``[fetch]`` table of a registry file: how the project introduces itself and its limits."""

    contact_url: str = DEFAULT_CONTACT_URL
    timeout: float = 20.0
    deadline: float = 120.0
    source_budget: float = 3600.0
    run_budget: float = 6 * 3600.0
    max_bytes: int = 10 * 1024 * 1024
    retries: int = 3

    def to_settings(self) -> FetchSettings:
        return FetchSettings(
            user_agent=user_agent(self.contact_url),
            timeout=self.timeout,
            deadline=self.deadline,
            source_budget=self.source_budget,
            max_bytes=self.max_bytes,
            retries=self.retries,
        )


# [fetch] fields: (type check, what a valid value is)
_FETCH_FIELDS = {
    "contact_url": (lambda v: isinstance(v, str), "an http(s) or mailto: URL"),
    "timeout": (lambda v: _number(v) and 0 < v <= 600, "seconds, a number in (0, 600]"),
    "deadline": (lambda v: _number(v) and 0 < v <= 3600, "seconds, a number in (0, 3600]"),
    "source_budget": (lambda v: _number(v) and 0 < v <= 86400, "seconds, a number in (0, 86400]"),
    "run_budget": (lambda v: _number(v) and 0 < v <= 7 * 86400, "seconds, a number in (0, 604800]"),
    "max_bytes": (lambda v: _integer(v) and 1024 <= v <= 1 << 30, "an integer of bytes in [1024, 2^30]"),
    "retries": (lambda v: _integer(v) and 0 <= v <= 10, "an integer in [0, 10]"),
}


def _number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _integer(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def load_fetch_config(path: Path) -> FetchConfig:
    """The first ``[fetch]`` table found in the registry (file or directory), else defaults."""
    found = registry_table(path, "fetch")
    if found is None:
        return FetchConfig()
    f, table = found
    check_table(f, "fetch", table, _FETCH_FIELDS)
    cfg = FetchConfig(**table)
    if not cfg.contact_url.startswith(("http://", "https://", "mailto:")):
        raise SourceConfigError(f"{f}: [fetch]: field 'contact_url': an http(s) or mailto: URL")
    return cfg


# top-level tables a registry file may hold; the settings tables may sit in a file of their own
SETTINGS_TABLES = ("fetch", "warehouse")
REGISTRY_TABLES = ("source", *SETTINGS_TABLES)


def load_sources(path: Path, substitutions: dict[str, str] | None = None) -> list[Source]:
    """Sources from one TOML file or every ``*.toml`` in a directory (``[[source]]`` tables).

    ``substitutions`` fills ``{name}`` placeholders (the demo's ephemeral ports) before parsing.
    """
    files = sorted(path.glob("*.toml")) if path.is_dir() else [path]
    if not files:
        raise SourceConfigError(
            f"{path}: no *.toml source files: add a bureau with `etl sources add LIST_URL` (docs/sources.md)"
        )
    out: list[Source] = []
    seen: dict[str, str] = {}
    for f in files:
        try:
            raw = f.read_text(encoding="utf-8")
        except OSError as e:
            raise SourceConfigError(f"{f}: cannot read: {e}") from e
        except UnicodeDecodeError as e:
            raise SourceConfigError(f"{f}: not UTF-8 (byte {e.start}): save the registry as UTF-8") from e
        for k, v in (substitutions or {}).items():
            raw = raw.replace("{" + k + "}", v)
        try:
            data = parse_toml(raw)
        except tomllib.TOMLDecodeError as e:
            raise SourceConfigError(f"{f}: not valid TOML: {e}") from e
        unknown = sorted(set(data) - set(REGISTRY_TABLES))
        if unknown:
            raise SourceConfigError(
                f"{f}: unknown table or key {unknown[0]!r} (a registry holds {', '.join(REGISTRY_TABLES)})"
            )
        entries = data.get("source")
        if entries is None and set(data) & set(SETTINGS_TABLES):
            continue  # a file of settings only
        if not isinstance(entries, list) or not entries:
            raise SourceConfigError(f"{f}: expected one or more [[source]] tables")
        for i, entry in enumerate(entries):
            src = parse_source(entry, f"{f} [[source]] #{i + 1}", f.parent)
            if src.id in seen:
                raise SourceConfigError(f"{f}: source id {src.id!r} already defined in {seen[src.id]}")
            seen[src.id] = str(f)
            out.append(src)
    if not out:
        raise SourceConfigError(
            f"{path}: no [[source]] tables, only settings: add a bureau with `etl sources add`"
        )
    return out
