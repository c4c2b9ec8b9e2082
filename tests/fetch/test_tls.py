"""HTTPS sites that fail verification, against a real TLS server on 127.0.0.1 with certificates made for the
test: each failure is named for what it is and not retried within the run, and the source's ``tls`` table is
what makes the site readable."""

from __future__ import annotations

import asyncio
import ssl
import warnings
from datetime import date
from http.server import BaseHTTPRequestHandler

import pytest

from etl.fetch.client import Fetcher, FetchSettings
from etl.fetch.rawzone import RawZone
from etl.fetch.registry import SourceConfigError
from etl.fetch.sources import load_sources
from etl.fetch.tls import CERT_REJECTED, HANDSHAKE_FAILED
from etl.models import Tls, Window
from etl.orchestration.ingest import ingest_source
from tests.certs import HttpsSite, make_chain

SETTINGS = FetchSettings(timeout=5.0, backoff=0.01, retries=2)
ARTICLE = (
    "<html><body><div class='article'><h1>加密站点</h1><div class='info'>2024-05-02</div>"
    "<div class='TRS_Editor'><p>全市建成社工站12个。</p></div></div></body></html>"
)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_GET(self):
        if self.path == "/list.html":
            body = b"<ul class='l'><li><a href='/a.html'>a</a><span>2024-05-02</span></li></ul>"
        elif self.path == "/a.html":
            body = ARTICLE.encode()
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def chain():
    return make_chain()


def old_server(ctx: ssl.SSLContext) -> None:
    """A server that speaks TLS 1.1 at most, as some bureau servers still do."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1


def get(site, tls: Tls):
    async def go():
        async with Fetcher(SETTINGS, tls=tls) as f:
            return await f.get(site.base + "/a.html", (site.host,), 1, 0.0)

    return asyncio.run(go())


def test_a_certificate_from_a_ca_outside_the_public_bundle_fails_named_once(tmp_path, chain):
    with HttpsSite(Handler, chain, tmp_path) as site:
        res = get(site, Tls())
    assert res.status == 0 and res.attempts == 1  # the same handshake would fail the same way: next run
    assert res.error.startswith(f"{CERT_REJECTED}: unable to get local issuer certificate")
    assert "tls.ca_file" in res.error


def test_an_incomplete_chain_reads_once_the_intermediate_is_in_the_source_s_ca_file(tmp_path, chain):
    (tmp_path / "root.pem").write_bytes(chain.root)
    (tmp_path / "root+intermediate.pem").write_bytes(chain.root + chain.intermediate)
    with HttpsSite(Handler, chain, tmp_path, send_intermediate=False) as site:
        # the root alone cannot verify a server that does not send its intermediate
        assert get(site, Tls(ca_file=str(tmp_path / "root.pem"))).error.startswith(CERT_REJECTED)
        res = get(site, Tls(ca_file=str(tmp_path / "root+intermediate.pem")))
        assert (res.status, res.error) == (200, None) and "社工站12个" in res.body.decode()
        # accepting any certificate reads it too
        assert get(site, Tls(verify=False)).status == 200


def test_an_old_server_fails_named_and_reads_with_legacy(tmp_path, chain):
    (tmp_path / "root.pem").write_bytes(chain.root)
    trusted = str(tmp_path / "root.pem")
    with HttpsSite(Handler, chain, tmp_path, context=old_server) as site:
        res = get(site, Tls(ca_file=trusted))
        assert res.attempts == 1 and res.error.startswith(HANDSHAKE_FAILED)
        assert "tls.legacy = true" in res.error
        assert get(site, Tls(ca_file=trusted, legacy=True)).status == 200


def test_the_registry_s_tls_table_reaches_the_fetcher(tmp_path, chain):
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "site.pem").write_bytes(chain.root + chain.intermediate)
    with HttpsSite(Handler, chain, tmp_path, send_intermediate=False) as site:
        reg = tmp_path / "sources.toml"
        entry = (
            f'[[source]]\nid = "tls-site"\nname = "加密民政局"\nregion = "341200"\nkind = "html_list"\n'
            f'list_url = "{site.base}/list.html"\nitem_selector = "ul.l li"\nobey_robots = false\n'
            "politeness = { concurrency = 1, delay = 0.0 }\n"
        )
        reg.write_text(entry, encoding="utf-8")
        window = Window(date(2024, 1, 1), date(2024, 12, 31))
        bare = ingest_source(load_sources(reg)[0], window, RawZone(tmp_path / "raw"), settings=SETTINGS)
        assert bare.stats.failed == 1 and bare.stats.failures[0].reason.startswith(CERT_REJECTED)
        reg.write_text(entry + 'tls = { ca_file = "certs/site.pem" }\n', encoding="utf-8")
        src = load_sources(reg)[0]
        assert src.tls.ca_file == str((tmp_path / "certs" / "site.pem").resolve())
        b = ingest_source(src, window, RawZone(tmp_path / "raw"), settings=SETTINGS)
        assert (b.stats.fetched, b.stats.failed) == (1, 0)
        assert [(f.indicator, f.value) for f in b.facts] == [("social_work_stations", 12)]


@pytest.mark.parametrize(
    ("tls", "message"),
    [
        ('{ ca_file = "missing.pem" }', "missing.pem: no such file"),
        ('{ ca_file = "not-pem.pem" }', "not-pem.pem: not PEM certificates OpenSSL can load"),
        ('{ verify = "no" }', "field 'tls.verify': true or false"),
        ("{ trust = true }", "field 'tls': a table with 'ca_file', 'verify' and 'legacy' only"),
    ],
)
def test_a_bad_tls_table_is_an_error_naming_the_file_and_source(tmp_path, tls, message):
    (tmp_path / "not-pem.pem").write_text("这不是证书", encoding="utf-8")
    reg = tmp_path / "sources.toml"
    reg.write_text(
        f'[[source]]\nid = "s"\nname = "民政局"\nlist_url = "https://x.example/list.html"\ntls = {tls}\n',
        encoding="utf-8",
    )
    with pytest.raises(SourceConfigError) as err:
        load_sources(reg)
    assert str(err.value).startswith(f"{reg} [[source]] #1: source 's': field ")
    assert message in str(err.value)
