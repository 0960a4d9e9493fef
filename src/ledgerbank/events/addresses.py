"""Where a webhook may point: no private, loopback or link-local address unless allowed.

The host is resolved and every address it resolves to is checked (a name with one public and
one private address is refused), at registration and again before each delivery, so a name
re-pointed at an internal address later is refused then. `LEDGERBANK_WEBHOOK_ALLOWED_HOSTS`
names hosts or CIDRs that may be reached anyway (a receiver on 127.0.0.1 in the tests).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from ledgerbank import errors

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Allowed:
    hosts: frozenset[str] = frozenset()
    networks: tuple[IpNetwork, ...] = ()

    @classmethod
    def parse(cls, setting: str) -> Allowed:
        hosts, networks = set(), []
        for item in (part.strip() for part in setting.split(",")):
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                hosts.add(item.lower())
        return cls(frozenset(hosts), tuple(networks))

    def admits(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return any(address in network for network in self.networks)


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def check_url(url: str, allowed: Allowed) -> None:
    """WebhookUrlRefused unless `url` is http(s) to a host whose every address is public (or
    allowed)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise errors.WebhookUrlRefused("a webhook URL is http:// or https:// with a host name")
    if parts.username or parts.password:
        raise errors.WebhookUrlRefused("a webhook URL carries no user name or password")
    host = parts.hostname.lower()
    if host in allowed.hosts:
        return
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError):
        raise errors.WebhookUrlRefused(
            f"the host {host} of the webhook URL does not resolve"
        ) from None
    for *_, sockaddr in found:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        if not _public(address) and not allowed.admits(address):
            raise errors.WebhookUrlRefused(
                f"the webhook URL's host {host} resolves to a private, loopback or link-local "
                f"address ({address}); name it in LEDGERBANK_WEBHOOK_ALLOWED_HOSTS to allow it"
            )
