"""The SSRF guard: one row per address class, then the guard between DNS and connect."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

import anyio
import httpx
import pytest

from server.netguard import AddressGuard, AddressRefused, IPAddress
from server.remote import transport_for
from tests.origins.helpers import Upstream, jpeg, serve

ADDRESSES = [
    # IPv4
    ("8.8.8.8", None),
    ("1.1.1.1", None),
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.255", "private"),
    ("172.32.0.1", None),
    ("192.168.1.1", "private"),
    ("100.64.0.1", "shared (carrier-grade NAT)"),
    ("169.254.1.1", "link-local"),
    ("169.254.169.254", "cloud metadata"),
    ("169.254.170.2", "cloud metadata"),
    ("100.100.100.200", "cloud metadata"),
    ("192.0.0.192", "cloud metadata"),
    ("0.0.0.0", "'this network'"),
    ("192.0.2.1", "documentation"),
    ("198.51.100.7", "documentation"),
    ("203.0.113.9", "documentation"),
    ("198.18.0.1", "benchmarking"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    # IPv6
    ("2606:4700:4700::1111", None),
    ("2001:4860:4860::8888", None),
    ("::1", "loopback"),
    ("::", "unspecified"),
    ("::8.8.8.8", "IPv4-compatible (deprecated)"),
    ("fe80::1", "link-local"),
    ("fc00::1", "unique local (private)"),
    ("fd12:3456::1", "unique local (private)"),
    ("fd00:ec2::254", "cloud metadata"),
    ("fec0::1", "site-local (deprecated)"),
    ("ff02::1", "multicast"),
    ("2001:db8::1", "documentation"),
    ("2001::1", "IETF protocol"),
    ("100::1", "discard-only"),
    ("4000::1", "reserved"),
    ("64:ff9b:1::1", "local NAT64"),
    # IPv4 inside IPv6: judged by the IPv4 they carry
    ("::ffff:127.0.0.1", "loopback"),
    ("::ffff:10.0.0.1", "private"),
    ("::ffff:169.254.169.254", "cloud metadata"),
    ("::ffff:8.8.8.8", None),
    ("64:ff9b::a00:1", "private"),  # NAT64 of 10.0.0.1
    ("64:ff9b::808:808", None),  # NAT64 of 8.8.8.8
    ("2002:a00:1::1", "private"),  # 6to4 of 10.0.0.1
    ("2002:808:808::1", None),
]


@pytest.mark.parametrize(("address", "reason"), ADDRESSES)
def test_address_table(address: str, reason: str | None) -> None:
    assert AddressGuard().refusal(ipaddress.ip_address(address)) == reason


def test_allowed_networks_open_only_what_they_name() -> None:
    guard = AddressGuard([ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("fd00::/8")])
    assert guard.refusal(ipaddress.ip_address("127.0.0.1")) is None
    assert guard.refusal(ipaddress.ip_address("::ffff:127.0.0.1")) is None
    assert guard.refusal(ipaddress.ip_address("fd12::1")) is None
    assert guard.refusal(ipaddress.ip_address("10.0.0.1")) == "private"
    assert guard.refusal(ipaddress.ip_address("::1")) == "loopback"


def test_metadata_stays_refused_inside_an_allowed_network() -> None:
    guard = AddressGuard([ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("::/0")])
    assert guard.refusal(ipaddress.ip_address("169.254.169.254")) == "cloud metadata"
    assert guard.refusal(ipaddress.ip_address("fd00:ec2::254")) == "cloud metadata"
    assert guard.refusal(ipaddress.ip_address("169.254.1.1")) is None


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("localhost", "loopback"),
        ("LOCALHOST.", "loopback"),
        ("api.localhost", "loopback"),
        ("metadata.google.internal", "cloud metadata"),
        ("10.0.0.1", "private"),
        ("[::1]", "loopback"),
    ],
)
def test_names_and_literals_are_refused_before_dns(host: str, reason: str) -> None:
    with pytest.raises(AddressRefused, match=f"is a {reason} address"):
        AddressGuard().check_name(host)


def test_ordinary_names_wait_for_dns() -> None:
    AddressGuard().check_name("example.org")  # no exception: judged after resolution


# --- the guard between DNS and connect -----------------------------------------------------


class FakeDNS:
    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[IPAddress]:
        self.asked.append(host)
        return [ipaddress.ip_address(a) for a in self.answers[host]]


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    yield from serve(Upstream())


def fetch(guard: AddressGuard, dns: FakeDNS, url: str) -> httpx.Response:
    async def main() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport_for(guard, dns)) as client:
            return await client.get(url)

    return anyio.run(main)


def test_a_name_is_connected_at_the_address_that_was_checked(upstream: Upstream) -> None:
    upstream.image("/cat.jpg", jpeg(20, 10))
    dns = FakeDNS({"images.test": ["127.0.0.1"]})
    guard = AddressGuard([ipaddress.ip_network("127.0.0.0/8")])
    response = fetch(guard, dns, f"http://images.test:{upstream.port}/cat.jpg")
    assert response.status_code == 200
    assert response.content == jpeg(20, 10)
    assert dns.asked == ["images.test"]  # one lookup: no second answer to rebind to
    assert upstream.requests[0][1]["host"] == f"images.test:{upstream.port}"


@pytest.mark.parametrize(
    "answers",
    [["10.0.0.7"], ["93.184.216.34", "127.0.0.1"], ["::ffff:169.254.169.254"], ["fe80::1"]],
)
def test_a_name_resolving_to_a_refused_address_is_refused(
    upstream: Upstream, answers: list[str]
) -> None:
    """One bad answer among several refuses the host: the connection could use any."""
    dns = FakeDNS({"rebind.test": answers})
    with pytest.raises(AddressRefused, match=r"rebind\.test is a"):
        fetch(AddressGuard(), dns, f"http://rebind.test:{upstream.port}/cat.jpg")
    assert upstream.requests == []


def test_loopback_needs_the_setting(upstream: Upstream) -> None:
    upstream.image("/cat.jpg", jpeg())
    dns = FakeDNS({"images.test": ["127.0.0.1"]})
    with pytest.raises(AddressRefused, match=r"images\.test is a loopback address"):
        fetch(AddressGuard(), dns, f"http://images.test:{upstream.port}/cat.jpg")
    assert upstream.requests == []
