import asyncio

import pytest

from etl.fetch.charset import decode
from etl.fetch.client import Fetcher, FetchSettings
from tests.faultserver import FaultServer


@pytest.fixture
def server():
    with FaultServer() as s:
        yield s


def fetch(server, path, settings=None, **kw):
    waits: list[float] = []

    async def no_sleep(s):
        waits.append(s)

    async def go():
        async with Fetcher(settings or FetchSettings(timeout=2, backoff=0.1), sleep=no_sleep) as f:
            return await f.get(server.base + path, (server.host,), 2, 0.0, **kw)

    return asyncio.run(go()), waits


def test_500_then_200_is_retried(server):
    res, waits = fetch(server, "/flaky")
    assert res.ok and res.attempts == 2 and len(waits) == 1
    assert "11个" in res.body.decode()


def test_429_honours_retry_after(server):
    res, waits = fetch(server, "/ratelimited")
    # waited at the host's gate, so every request to that host waits it out (see test_hostgate)
    assert res.ok and len(waits) == 1 and 6.9 < waits[0] <= 7.0


def test_a_retry_after_longer_than_the_wait_limit_is_not_waited_for(server):
    res, waits = fetch(server, "/ratelimited-long", FetchSettings(timeout=2, max_backoff=60))
    assert waits == [] and res.attempts == 1
    assert res.error == "HTTP 503: Retry-After 86400s exceeds the 60s wait limit"


def test_persistent_5xx_gives_up_with_reason(server):
    res, waits = fetch(server, "/always500", FetchSettings(timeout=2, backoff=0.1, retries=2))
    assert not res.ok and res.attempts == 3 and len(waits) == 2
    assert res.error == "HTTP 503 after 3 attempts"


def test_read_timeout_is_retried_then_recorded(server):
    res, _ = fetch(server, "/slow", FetchSettings(timeout=0.2, backoff=0.01, retries=1))
    assert not res.ok and res.error.startswith("timeout") and res.attempts == 2


def test_connection_reset(server):
    res, _ = fetch(server, "/reset", FetchSettings(timeout=1, backoff=0.01, retries=1))
    assert not res.ok and "transport error" in res.error


def test_truncated_body(server):
    res, _ = fetch(server, "/truncated", FetchSettings(timeout=1, backoff=0.01, retries=1))
    assert not res.ok and res.body is None


def test_404_is_not_retried(server):
    res, waits = fetch(server, "/missing")
    assert res.error == "HTTP 404" and res.attempts == 1 and waits == [] and server.hits["/missing"] == 1


def test_redirect_to_a_host_not_allowed(server):
    res, _ = fetch(server, "/away")
    assert not res.ok and "not allowed" in res.error and "203.0.113.9" in res.error


def test_redirect_within_allowed_host(server):
    res, _ = fetch(server, "/inside")
    assert res.ok and res.final_url.endswith("/ok")


def test_size_cap_stops_a_50mb_body(server):
    res, _ = fetch(server, "/huge", FetchSettings(timeout=5, max_bytes=1_000_000))
    assert not res.ok and res.error == "body exceeds 1000000 bytes" and res.attempts == 1


def test_gbk_without_charset_header(server):
    res, _ = fetch(server, "/gbk")
    assert res.headers["content-type"] == "text/html"
    text, enc = decode(res.body, res.headers["content-type"])
    assert "阜阳市建成社工站167个" in text and enc == "gb18030"


def test_conditional_get_answers_304(server):
    first, _ = fetch(server, "/etag")
    assert first.ok and first.headers["etag"] == '"v1"'
    second, _ = fetch(server, "/etag", etag='"v1"')
    assert second.not_modified and second.body is None
    assert server.seen_headers["/etag"][1]["If-None-Match"] == '"v1"'


def test_unexpected_content_type(server):
    res, _ = fetch(server, "/binary")
    assert not res.ok and "content-type" in res.error


def test_user_agent_names_the_project(server):
    fetch(server, "/ok")
    assert server.seen_headers["/ok"][0]["User-Agent"].startswith("bulletin-etl/")


@pytest.mark.parametrize("zone", [" GMT", " -0000", ""])
def test_a_retry_after_date_is_read_as_gmt_whether_or_not_it_says_so(zone):
    import email.utils
    from datetime import UTC, datetime, timedelta

    from etl.fetch.client import _retry_after

    later = datetime.now(UTC) + timedelta(seconds=90)
    value = email.utils.format_datetime(later.replace(tzinfo=None)).removesuffix(" -0000") + zone
    assert 80 <= _retry_after(value) <= 90
    assert _retry_after("Fri, 03 May 2024 08:00:00" + zone) == 0.0  # a date gone by: no wait
