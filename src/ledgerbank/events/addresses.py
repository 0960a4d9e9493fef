"""Where a webhook may point: no private, loopback or link-local address unless allowed.

The host is resolved and every address it resolves to is checked (a name with one public and
one private address is refused), at registration and again before each delivery, so a name
re-pointed at an internal address later is refused then. The check answers the addresses it
checked, and a delivery connects only to those (`pinning`): a DNS server that answers a public
address to the check and 127.0.0.1 to the connection a moment later is never asked twice.
`LEDGERBANK_WEBHOOK_ALLOWED_HOSTS` names hosts or CIDRs that may be reached anyway (a receiver
on 127.0.0.1 in the tests).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from ledgerbank import errors

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Target:
    """A webhook URL's host (as the HTTP client connects to it: lower case, IDNA), port, and
    the addresses that were checked, in the resolver's order."""

    host: str
    port: int
    addresses: tuple[str, ...]


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


def _resolve(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = [ipaddress.ip_address(str(sockaddr[0]).split("%")[0]) for *_, sockaddr in found]
    return list(dict.fromkeys(addresses))


def check_url(url: str, allowed: Allowed) -> Target:
    """The addresses to connect to, or WebhookUrlRefused unless `url` is http(s) to a host
    whose every address is public (or allowed). A host named in the allow-list is not checked;
    its addresses are still resolved once here (none, if it does not resolve)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise errors.WebhookUrlRefused("a webhook URL is http:// or https:// with a host name")
    if parts.username or parts.password:
        raise errors.WebhookUrlRefused("a webhook URL carries no user name or password")
    host = parts.hostname.lower()
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        ascii_host = host.encode("idna").decode("ascii").lower()
    except (UnicodeError, ValueError):
        raise errors.WebhookUrlRefused("the webhook URL's host or port is not valid") from None
    try:
        found = _resolve(host, port)
    except (OSError, ValueError, UnicodeError):
        if host in allowed.hosts:
            return Target(ascii_host, port, ())
        raise errors.WebhookUrlRefused(
            f"the host {host} of the webhook URL does not resolve"
        ) from None
    target = Target(ascii_host, port, tuple(str(address) for address in found))
    if host in allowed.hosts:
        return target
    for address in found:
        if not _public(address) and not allowed.admits(address):
            raise errors.WebhookUrlRefused(
                f"the webhook URL's host {host} resolves to a private, loopback or link-local "
                f"address ({address}); name it in LEDGERBANK_WEBHOOK_ALLOWED_HOSTS to allow it"
            )
    return target
