"""Where a webhook may be sent: never to loopback, private, link-local or other
non-public addresses unless WEBHOOK_ALLOW_PRIVATE is set (tests, intranets).

The host is resolved and every address checked when an endpoint is saved, and again
when each request connects: the HTTP client's connections (`session()`) resolve the
name themselves, check each address and connect to the address they checked, so a
name that resolves elsewhere between the check and the request (DNS rebinding) cannot
reach an internal address. TLS still verifies the certificate against the host name.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.utils.translation import gettext as _
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NewConnectionError

# Connect, read: the spec's 10 s for an answer.
TIMEOUT = (5.0, 10.0)


class RefusedTarget(ValueError):
    """A URL whose host is, or resolves to, an address webhooks may not reach."""


def _refused(address: str) -> str | None:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return _("a loopback address")
    if ip.is_link_local:
        return _("a link-local address")
    if ip.is_private or ip.is_reserved or ip.is_multicast or ip.is_unspecified:
        return _("a private or reserved address")
    if not ip.is_global:
        return _("a non-public address")
    return None


def resolve(host: str, port: int) -> list[str]:
    """Every address of `host`, each allowed; RefusedTarget names the first that is not."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise RefusedTarget(
            _("%(host)s does not resolve (%(error)s).") % {"host": host, "error": error}
        ) from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not settings.WEBHOOK_ALLOW_PRIVATE:
        for address in addresses:
            reason = _refused(address)
            if reason:
                raise RefusedTarget(
                    _("%(host)s resolves to %(address)s, %(reason)s: webhooks may not reach it.")
                    % {"host": host, "address": address, "reason": reason}
                )
    return addresses


def check_url(url: str) -> None:
    """Raise RefusedTarget for a URL webhooks may not be sent to."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RefusedTarget(_("Use an http:// or https:// URL with a host name."))
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise RefusedTarget(_("The port is not a number between 0 and 65535.")) from None
    resolve(parts.hostname, port)


class _CheckedConnect:
    """`_new_conn` that connects only to the addresses `resolve` allowed."""

    host: str
    port: int
    timeout: Any
    source_address: Any

    def _new_conn(self) -> socket.socket:
        try:
            addresses = resolve(self.host, self.port)
        except RefusedTarget as refused:
            raise NewConnectionError(self, str(refused)) from None  # type: ignore[arg-type]
        error: OSError | None = None
        for address in addresses:
            try:
                return socket.create_connection(
                    (address, self.port), timeout=self.timeout, source_address=self.source_address
                )
            except OSError as failed:
                error = failed
        raise NewConnectionError(self, f"cannot connect to {self.host}: {error}")  # type: ignore[arg-type]


class _HTTPConnection(_CheckedConnect, HTTPConnection):
    pass


class _HTTPSConnection(_CheckedConnect, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class _CheckedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}


_local = threading.local()


def session() -> requests.Session:
    """This thread's HTTP client, kept for its connections; no proxy from the
    environment (a proxy would make the address check meaningless), no redirects."""
    found = getattr(_local, "session", None)
    if found is None:
        found = requests.Session()
        found.trust_env = False
        found.max_redirects = 0
        adapter = _CheckedAdapter(max_retries=0)
        found.mount("http://", adapter)
        found.mount("https://", adapter)
        _local.session = found
    return found
