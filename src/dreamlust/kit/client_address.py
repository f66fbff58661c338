"""The address of the client behind the reverse proxies we trust."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

from starlette.requests import Request

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

UNKNOWN_ADDRESS = "unknown"


def client_address(request: Request, trusted_proxies: Iterable[str]) -> str:
    """The address to hold responsible for a request: the peer, or the client a proxy saw.

    Anyone can send `X-Forwarded-For`, so it counts only when the peer is one of the
    `trusted_proxies` (IP addresses or CIDR networks). Each proxy appends the address it
    received the request from; walking from the right past our own proxies, the first
    other address is the client, and whatever lies left of it the client wrote itself.
    A malformed entry ends the walk: what lies left of it cannot be told apart from text
    the client wrote, so the furthest trusted proxy is held responsible instead. When every
    entry is a trusted proxy, the furthest one is the client.
    """
    if request.client is None:
        return UNKNOWN_ADDRESS
    peer = _parse_address(request.client.host)
    if peer is None:
        return request.client.host
    networks = _parse_networks(tuple(trusted_proxies))
    if not _is_trusted(peer, networks):
        return str(peer)
    furthest = peer
    for entry in reversed(_forwarded_for(request)):
        address = _parse_address(entry)
        if address is None:
            break
        if not _is_trusted(address, networks):
            return str(address)
        furthest = address
    return str(furthest)


def _forwarded_for(request: Request) -> list[str]:
    """Every hop of every `X-Forwarded-For` header, in order (proxies may add a header)."""
    return [
        hop for header in request.headers.getlist("x-forwarded-for") for hop in header.split(",")
    ]


@lru_cache(maxsize=4096)
def _parse_address(text: str) -> IPAddress | None:
    """An address, accepting the `1.2.3.4:port` and `[2001:db8::1]:port` forms; else None.
    (Remembered: every write and every view asks it for the same few peers again.)"""
    host = text.strip()
    if host.startswith("["):
        host, bracket, _port = host[1:].partition("]")
        if not bracket:
            return None
    elif host.count(":") == 1:
        host = host.partition(":")[0]
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@lru_cache(maxsize=8)
def _parse_networks(trusted_proxies: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in trusted_proxies)


def _is_trusted(address: IPAddress, networks: tuple[IPNetwork, ...]) -> bool:
    return any(address in network for network in networks)
