"""TLS as bureau sites need it: the public CAs (certifi, as httpx uses) plus a source's own, or none, or the
old protocols some servers still speak; and a failed handshake named for what it is, with the fix.

Government servers fail verification more often than commercial ones: a chain without its intermediate (browsers
fetch it from the certificate's AIA URL; OpenSSL does not), a CA outside the public bundle, an expired
certificate, or a server so old that OpenSSL 3 refuses it (``UNSAFE_LEGACY_RENEGOTIATION_DISABLED``, a small DH
key, TLS 1.0). Each is a failure of the page, named, and not retried within the run: the same handshake fails
the same way seconds later.
"""

from __future__ import annotations

import ssl
from functools import cache

import certifi

from etl.models import Tls

CERT_REJECTED = "TLS certificate not accepted"
HANDSHAKE_FAILED = "TLS handshake failed"
# OP_LEGACY_SERVER_CONNECT (OpenSSL's value; Python exposes it from 3.12 only)
_LEGACY_SERVER_CONNECT = getattr(ssl, "OP_LEGACY_SERVER_CONNECT", 0x4)


def ssl_context(tls: Tls) -> ssl.SSLContext:
    """The context a source's fetcher connects with."""
    return _context(tls.ca_file, tls.verify, tls.legacy)


@cache
def _context(ca_file: str | None, verify: bool, legacy: bool) -> ssl.SSLContext:
    # one per distinct setting in the process: loading the CA bundle costs ~20 ms, and a fetcher is made per
    # source batch
    ctx = ssl.create_default_context(cafile=certifi.where())
    if ca_file:
        ctx.load_verify_locations(cafile=ca_file)
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if legacy:
        ctx.options |= _LEGACY_SERVER_CONNECT
        ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        try:
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        except ssl.SSLError:  # an OpenSSL built without level 0
            ctx.set_ciphers("DEFAULT:@SECLEVEL=1")
    return ctx


def check_ca_file(path: str) -> str | None:
    """Why ``path`` cannot serve as a source's CA file, or None."""
    try:
        ssl.create_default_context(cafile=path)
    except FileNotFoundError:
        return "no such file"
    except (ssl.SSLError, OSError, ValueError) as e:
        return f"not PEM certificates OpenSSL can load ({e})"
    return None


def tls_problem(exc: BaseException) -> str | None:
    """What a failed connection's TLS error was, in words that say what to change; None when it was not TLS."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, ssl.SSLCertVerificationError):
            return (
                f"{CERT_REJECTED}: {cur.verify_message or cur.reason} (an incomplete chain or a CA outside the "
                "public bundle: give the site's CA or intermediate in the source's tls.ca_file)"
            )
        if isinstance(cur, ssl.SSLError) and not isinstance(cur, ssl.SSLEOFError | ssl.SSLZeroReturnError):
            return (
                f"{HANDSHAKE_FAILED}: {cur.reason or cur} (an old server: the source's tls.legacy = true "
                "allows its protocol)"
            )
        cur = cur.__cause__ or cur.__context__
    return None
