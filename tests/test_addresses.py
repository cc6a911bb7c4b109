"""The address guard's table: which addresses are refused, in which words, and the allow-list."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address, ip_network

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.pipeline.addresses import address_problem, check_address, is_public_address
from bot.pipeline.errors import BlockedAddress

ADDRESSES = [
    # (address, refused as) -- None means public
    ("8.8.8.8", None),
    ("93.184.215.14", None),
    ("2606:4700::1111", None),
    ("2a00:1450:4001:80b::200e", None),
    ("127.0.0.1", "a loopback address"),
    ("127.255.255.254", "a loopback address"),
    ("10.0.0.1", "a private address"),
    ("172.16.0.1", "a private address"),
    ("172.31.255.255", "a private address"),
    ("172.32.0.1", None),
    ("192.168.1.1", "a private address"),
    ("169.254.169.254", "a link-local address"),
    ("100.64.0.1", "a shared (CGNAT) address"),
    ("100.100.100.200", "a shared (CGNAT) address"),
    ("0.0.0.0", "an unspecified address"),
    ("0.1.2.3", "an unspecified address"),
    ("224.0.0.1", "a multicast address"),
    ("240.0.0.1", "a reserved address"),
    ("255.255.255.255", "a reserved address"),
    ("192.0.0.8", "a reserved address"),
    ("192.0.2.1", "a documentation address"),
    ("198.18.0.1", "a benchmarking address"),
    ("198.19.255.255", "a benchmarking address"),
    ("198.51.100.1", "a documentation address"),
    ("203.0.113.1", "a documentation address"),
    ("::", "an unspecified address"),
    ("::1", "a loopback address"),
    ("fc00::1", "a private (unique local) address"),
    ("fd12:3456::1", "a private (unique local) address"),
    ("fe80::1", "a link-local address"),
    ("fe80::1%1", "a link-local address"),
    ("fec0::1", "a site-local address"),
    ("ff02::1", "a multicast address"),
    ("2001:db8::1", "a documentation address"),
    ("::ffff:127.0.0.1", "a loopback address"),
    ("::ffff:10.0.0.1", "a private address"),
    ("::ffff:169.254.169.254", "a link-local address"),
    ("::ffff:8.8.8.8", None),
    ("::127.0.0.1", "a loopback address"),
    ("::8.8.8.8", None),
    ("2002:7f00:1::", "a loopback address"),
    ("2002:a9fe:a9fe::1", "a link-local address"),
    ("2002:808:808::1", None),
    ("64:ff9b::a00:1", "a private address"),
    ("64:ff9b::7f00:1", "a loopback address"),
    ("64:ff9b::808:808", None),
    ("64:ff9b:1::a00:1", "a local NAT64 address"),
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "a Teredo tunnel address"),
    ("2001:2::1", "a reserved address"),
    ("100::1", "a discard address"),
    ("3fff::1", "a documentation address"),
    ("4000::1", "a reserved address"),
]


@pytest.mark.parametrize(("address", "problem"), ADDRESSES)
def test_address_judge(address: str, problem: str | None) -> None:
    assert address_problem(address) == problem
    assert is_public_address(address) is (problem is None)


@given(st.ip_addresses(v=4))
def test_ipv6_forms_of_an_ipv4_address_are_judged_as_that_address(address: IPv4Address) -> None:
    value = int(address)
    for embedded in (
        IPv6Address((0xFFFF << 32) | value),  # ::ffff:a.b.c.d
        IPv6Address((0x64_FF9B << 96) | value),  # 64:ff9b::a.b.c.d
        IPv6Address((0x2002 << 112) | (value << 80) | 1),  # 2002:aabb:ccdd::1
    ):
        assert address_problem(embedded) == address_problem(address), embedded


def test_allow_list_exempts_exactly_its_networks() -> None:
    allow = (ip_network("127.0.0.2/32"),)
    check_address("test", "127.0.0.2", allow=allow)
    check_address("test", "8.8.8.8", allow=allow)
    for refused in ("127.0.0.1", "127.0.0.3", "::ffff:127.0.0.2", "::1"):
        with pytest.raises(BlockedAddress):
            check_address("test", refused, allow=allow)
