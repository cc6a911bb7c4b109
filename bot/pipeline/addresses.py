"""Which addresses may be fetched: the table of refused networks, and the check every connection passes.

`address_problem` names what is wrong with an address in words ("a loopback address"); IPv6 forms
that carry an IPv4 address (mapped, compatible, NAT64, 6to4) are judged by that address, and only
global unicast IPv6 is fetched at all. `check_address` raises BlockedAddress, unless the address is
in an allow-list of networks (tests, private deployments).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from bot.pipeline.errors import BlockedAddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _table(*rows: tuple[str, str]) -> tuple[tuple[IPNetwork, str], ...]:
    return tuple((ipaddress.ip_network(network), words) for network, words in rows)


_IPV4_REFUSED = _table(
    ("0.0.0.0/8", "an unspecified address"),
    ("10.0.0.0/8", "a private address"),
    ("100.64.0.0/10", "a shared (CGNAT) address"),
    ("127.0.0.0/8", "a loopback address"),
    ("169.254.0.0/16", "a link-local address"),  # cloud metadata lives here
    ("172.16.0.0/12", "a private address"),
    ("192.0.0.0/24", "a reserved address"),
    ("192.0.2.0/24", "a documentation address"),
    ("192.88.99.0/24", "a reserved address"),  # retired 6to4 relays
    ("192.168.0.0/16", "a private address"),
    ("198.18.0.0/15", "a benchmarking address"),
    ("198.51.100.0/24", "a documentation address"),
    ("203.0.113.0/24", "a documentation address"),
    ("224.0.0.0/4", "a multicast address"),
    ("240.0.0.0/4", "a reserved address"),  # includes broadcast 255.255.255.255
)

_IPV6_REFUSED = _table(
    ("::/128", "an unspecified address"),
    ("::1/128", "a loopback address"),
    ("64:ff9b:1::/48", "a local NAT64 address"),
    ("100::/64", "a discard address"),
    ("2001::/32", "a Teredo tunnel address"),
    ("2001::/23", "a reserved address"),
    ("2001:db8::/32", "a documentation address"),
    ("3fff::/20", "a documentation address"),
    ("5f00::/16", "a reserved address"),
    ("fc00::/7", "a private (unique local) address"),
    ("fe80::/10", "a link-local address"),
    ("fec0::/10", "a site-local address"),
    ("ff00::/8", "a multicast address"),
)

_IPV6_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")

# IPv6 forms that carry an IPv4 address: judged by that address. (network, bit offset from the right)
_IPV6_EMBEDDING_IPV4 = (
    (ipaddress.IPv6Network("::ffff:0:0/96"), 0),  # IPv4-mapped
    (ipaddress.IPv6Network("::/96"), 0),  # IPv4-compatible (deprecated)
    (ipaddress.IPv6Network("64:ff9b::/96"), 0),  # NAT64
    (ipaddress.IPv6Network("2002::/16"), 80),  # 6to4: 2002:AABB:CCDD::/48
)


def address_problem(address: IPAddress | str) -> str | None:
    """Why `address` must not be fetched ("a loopback address"), or None when it is public."""
    address = ipaddress.ip_address(address)
    if isinstance(address, ipaddress.IPv6Address) and address.scope_id:
        address = ipaddress.IPv6Address(address.compressed.split("%")[0])
    if isinstance(address, ipaddress.IPv4Address):
        return _first_match(address, _IPV4_REFUSED)
    if (problem := _first_match(address, _IPV6_REFUSED)) is not None:
        return problem
    for network, shift in _IPV6_EMBEDDING_IPV4:
        if address in network:
            return address_problem(ipaddress.IPv4Address((int(address) >> shift) & 0xFFFF_FFFF))
    if address not in _IPV6_GLOBAL_UNICAST:
        return "a reserved address"
    return None


def is_public_address(address: IPAddress | str) -> bool:
    """True when `address` may be fetched from without an allow-list."""
    return address_problem(address) is None


def check_address(host: str, address: IPAddress | str, *, allow: Iterable[IPNetwork] = ()) -> None:
    """Raise BlockedAddress unless `address` (which `host` resolved to) is public or allowed."""
    address = ipaddress.ip_address(address)
    if any(address.version == network.version and address in network for network in allow):
        return
    if (problem := address_problem(address)) is None:
        return
    if host == str(address):
        raise BlockedAddress(f"refused: {address} is {problem}")
    raise BlockedAddress(f"refused: {host} resolves to {problem} {address}")


def _first_match(address: IPAddress, table: tuple[tuple[IPNetwork, str], ...]) -> str | None:
    return next((words for network, words in table if address in network), None)
