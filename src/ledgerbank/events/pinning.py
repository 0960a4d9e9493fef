"""Connecting a delivery to the addresses its URL check answered, never to a second DNS answer.

The HTTP client keeps the URL as it is (the Host header, and for https the SNI name and the
certificate check, are the webhook's host name); only the step that opens the TCP connection is
replaced: it takes the checked addresses of the delivery being sent (`pinned`) and tries them in
order, without resolving anything. A connection with no checked addresses, or for another host
or port, is refused. Connections kept alive for reuse were opened to checked addresses too.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import httpcore
import httpx

from ledgerbank.events.addresses import Target

_target: ContextVar[Target | None] = ContextVar("webhook_target", default=None)


@contextmanager
def pinned(target: Target) -> Iterator[None]:
    """Connections opened in this block (this thread) go to `target`'s checked addresses."""
    token = _target.set(target)
    try:
        yield
    finally:
        _target.reset(token)


class PinnedBackend(httpcore.NetworkBackend):
    """httpcore's own sockets, opened to the pinned addresses instead of a fresh lookup."""

    def __init__(self) -> None:
        self._sockets = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        target = _target.get()
        if target is None or (host.lower(), port) != (target.host, target.port):
            raise httpcore.ConnectError(f"{host}:{port} was not checked; not connecting")
        if not target.addresses:
            raise httpcore.ConnectError(f"{host} does not resolve")
        failure = httpcore.ConnectError(f"{host}: no checked address answered")
        for address in target.addresses:
            try:
                return self._sockets.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = httpcore.ConnectError(f"{host} ({address}): {exc}")
        raise failure

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("webhooks are not delivered over Unix sockets")

    def sleep(self, seconds: float) -> None:
        self._sockets.sleep(seconds)


class PinnedTransport(httpx.HTTPTransport):
    """httpx's transport over a connection pool whose connections are pinned (no proxies)."""

    def __init__(self, *, limits: httpx.Limits, verify: ssl.SSLContext | bool = True) -> None:
        super().__init__(limits=limits, verify=verify)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=PinnedBackend(),
        )
