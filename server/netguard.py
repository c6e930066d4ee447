"""The SSRF guard: which IP addresses remote reads may connect to, checked after DNS.

Refused unless an `allow_private_networks` entry covers them: loopback, private, shared,
link-local, multicast, documentation, benchmarking and reserved ranges of IPv4 and IPv6,
and IPv4 addresses carried inside IPv6 (mapped, NAT64, 6to4) by the IPv4 they carry.
Cloud metadata addresses are refused even then. `GuardedBackend` applies the guard to
the addresses a connection really uses, so DNS rebinding and redirects cannot slip past it.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import anyio
import httpcore

from transforms.errors import Forbidden

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]

# (network, what it is): the IANA special-purpose registries, most specific first.
_REFUSED_V4 = (
    ("0.0.0.0/8", "'this network'"),
    ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "shared (carrier-grade NAT)"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "IETF protocol"),
    ("192.0.2.0/24", "documentation"),
    ("192.88.99.0/24", "6to4 relay"),
    ("192.168.0.0/16", "private"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),
)
_REFUSED_V6 = (
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("::/96", "IPv4-compatible (deprecated)"),
    ("64:ff9b:1::/48", "local NAT64"),
    ("100::/64", "discard-only"),
    ("2001::/23", "IETF protocol"),
    ("2001:db8::/32", "documentation"),
    ("fc00::/7", "unique local (private)"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "site-local (deprecated)"),
    ("ff00::/8", "multicast"),
)
_REFUSED: tuple[tuple[Network, str], ...] = tuple(
    (ipaddress.ip_network(cidr), reason) for cidr, reason in _REFUSED_V4 + _REFUSED_V6
)
# Outside 2000::/3 nothing is assigned as global unicast.
_GLOBAL_UNICAST_V6 = ipaddress.ip_network("2000::/3")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# AWS/GCP/Azure/OpenStack, AWS ECS tasks, Alibaba, Oracle, AWS over IPv6.
METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "192.0.0.192", "fd00:ec2::254")
)
# Names that mean this machine (RFC 6761) or a metadata service, whatever DNS says.
_LOOPBACK = ipaddress.ip_address("127.0.0.1")
_NAMED = {
    "localhost": _LOOPBACK,
    "metadata": ipaddress.ip_address("169.254.169.254"),
    "metadata.google.internal": ipaddress.ip_address("169.254.169.254"),
}


class AddressRefused(Forbidden):
    """A remote source resolves to an address the guard refuses (403)."""


def carried_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address inside an IPv4-mapped, NAT64 (64:ff9b::/96) or 6to4 address."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


class AddressGuard:
    """Decides per address; `allowed` networks (CIDRs from the settings) pass."""

    def __init__(self, allowed: Iterable[Network] = ()) -> None:
        self.allowed = tuple(allowed)

    def refusal(self, address: IPAddress) -> str | None:
        """Why `address` is refused (e.g. "loopback"), or None when it may be used."""
        inner = carried_ipv4(address)
        if inner is not None:
            return self.refusal(inner)
        if address in METADATA:
            return "cloud metadata"
        if any(address in network for network in self.allowed):
            return None
        for network, reason in _REFUSED:
            if address in network:
                return reason
        if isinstance(address, ipaddress.IPv6Address) and address not in _GLOBAL_UNICAST_V6:
            return "reserved"
        return None

    def check(self, host: str, address: IPAddress) -> None:
        reason = self.refusal(address)
        if reason is not None:
            logger.info("refused remote source %s at %s (%s)", host, address, reason)
            raise AddressRefused(f"Remote source refused: {host} is a {reason} address")

    def check_name(self, host: str) -> None:
        """Before DNS: IP literals, and names such as `localhost` by what they mean."""
        known = ip_literal(host) or _named_address(host)
        if known is not None:
            self.check(host, known)


def _named_address(host: str) -> IPAddress | None:
    name = host.lower().rstrip(".")
    return _LOOPBACK if name.endswith(".localhost") else _NAMED.get(name)


def ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to, in the resolver's order, without repeats."""
    literal = ip_literal(host)
    if literal is not None:
        return [literal]
    try:
        found = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as error:
        raise httpcore.ConnectError(f"cannot resolve {host}: {error}") from None
    addresses: dict[IPAddress, None] = {}
    for *_, sockaddr in found:
        addresses.setdefault(ipaddress.ip_address(str(sockaddr[0]).partition("%")[0]))
    return list(addresses)


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend with the guard between DNS and connect.

    Every address the name resolves to must pass (one bad answer refuses the host), and
    the connection goes to an address that was checked, never to a second lookup.
    """

    def __init__(
        self,
        guard: AddressGuard,
        resolver: Resolver = resolve,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self.guard = guard
        self.resolver = resolver
        self.inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        with anyio.move_on_after(timeout) as scope:
            addresses = await self.resolver(host, port)
        if scope.cancelled_caught:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out")
        for address in addresses:
            self.guard.check(host, address)
        return await self._connect(addresses, port, timeout, local_address, socket_options)

    async def _connect(
        self,
        addresses: list[IPAddress],
        port: int,
        timeout: float | None,
        local_address: str | None,
        socket_options: Iterable[Any] | None,
    ) -> httpcore.AsyncNetworkStream:
        failure: Exception = httpcore.ConnectError("no address to connect to")
        for address in addresses:
            try:
                return await self.inner.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                failure = error
        raise failure

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise AddressRefused("Remote source refused: unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)
