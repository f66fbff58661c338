"""The client address: X-Forwarded-For counts only as far as our own proxies wrote it."""

import pytest
from starlette.requests import Request

from dreamlust.kit.client_address import UNKNOWN_ADDRESS, client_address

CLIENT = "203.0.113.7"
SPOOFED = "6.6.6.6"


def _request(peer: str | None, *forwarded_for: str) -> Request:
    """A request from `peer`, carrying one `X-Forwarded-For` header per value."""
    return Request(
        {
            "type": "http",
            "method": "GET",
            "path": "/",
            "headers": [(b"x-forwarded-for", value.encode()) for value in forwarded_for],
            "client": None if peer is None else (peer, 50_000),
        }
    )


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "trusted", "expected"),
    [
        pytest.param("198.51.100.9", [SPOOFED], [], "198.51.100.9", id="no-proxies-trusted"),
        pytest.param(
            "198.51.100.9", [SPOOFED], ["10.0.0.1"], "198.51.100.9", id="untrusted-peer-spoofs"
        ),
        pytest.param("10.0.0.1", [], ["10.0.0.1"], "10.0.0.1", id="trusted-peer-no-header"),
        pytest.param("10.0.0.1", [CLIENT], ["10.0.0.1"], CLIENT, id="one-proxy"),
        pytest.param(
            "10.0.0.1", [f"{SPOOFED}, {CLIENT}"], ["10.0.0.1"], CLIENT, id="client-spoofs-left"
        ),
        pytest.param(
            "10.0.0.2",
            [f"{SPOOFED}, {CLIENT}, 10.0.0.3, 10.0.0.1"],
            ["10.0.0.1", "10.0.0.2", "10.0.0.3"],
            CLIENT,
            id="chain-of-proxies",
        ),
        pytest.param(
            "10.1.2.3",
            [f"{SPOOFED}, {CLIENT}, 192.168.4.5"],
            ["10.0.0.0/8", "192.168.0.0/16"],
            CLIENT,
            id="cidr",
        ),
        pytest.param(
            "10.0.0.1",
            [SPOOFED, f"{CLIENT}, 10.0.0.5"],
            ["10.0.0.0/24"],
            CLIENT,
            id="several-headers",
        ),
        pytest.param(
            "10.0.0.1",
            [f"{SPOOFED}, {CLIENT}, not-an-address, 10.0.0.9"],
            ["10.0.0.0/24"],
            "10.0.0.9",
            id="garbage-ends-the-walk-at-the-furthest-proxy",
        ),
        pytest.param("10.0.0.1", ["nonsense, ,;"], ["10.0.0.1"], "10.0.0.1", id="only-garbage"),
        pytest.param(
            "10.0.0.1",
            ["10.0.0.4, 10.0.0.3"],
            ["10.0.0.0/24"],
            "10.0.0.4",
            id="all-trusted-furthest-hop",
        ),
        pytest.param("10.0.0.1", [f"{CLIENT}:4711"], ["10.0.0.1"], CLIENT, id="ipv4-with-port"),
        pytest.param(
            "2001:db8:ffff::1",
            ["2001:db8::6, 2001:DB8:0:0::7, 2001:db8:ffff::2"],
            ["2001:db8:ffff::/48"],
            "2001:db8::7",
            id="ipv6",
        ),
        pytest.param(
            "2001:db8:ffff::1",
            ["[2001:db8::7]:443"],
            ["2001:db8:ffff::/48"],
            "2001:db8::7",
            id="ipv6-with-port",
        ),
        pytest.param(
            "2001:db8::9", [CLIENT], ["10.0.0.0/8"], "2001:db8::9", id="ipv6-untrusted-peer"
        ),
        pytest.param("::ffff:10.0.0.1", [CLIENT], ["10.0.0.1"], CLIENT, id="ipv4-mapped-proxy"),
    ],
)
def test_client_address(
    peer: str, forwarded_for: list[str], trusted: list[str], expected: str
) -> None:
    assert client_address(_request(peer, *forwarded_for), trusted) == expected


def test_without_a_peer_the_address_is_unknown() -> None:
    assert client_address(_request(None, CLIENT), ["10.0.0.1"]) == UNKNOWN_ADDRESS


def test_a_misconfigured_trusted_proxy_is_an_error() -> None:
    with pytest.raises(ValueError, match="not-a-network"):
        client_address(_request("10.0.0.1", CLIENT), ["not-a-network"])
