"""Who may read `/metrics`: a client inside `DREAMLUST_METRICS_ALLOWED_NETWORKS` (loopback
by default), or one presenting `DREAMLUST_METRICS_TOKEN` as a bearer token.

The client is the address the trusted proxies vouch for (`kit/client_address.py`), so a
request relayed by a local reverse proxy is judged by where it came from, not as loopback.
"""

from __future__ import annotations

import hmac
import ipaddress
from functools import lru_cache

from starlette.requests import Request

from dreamlust.config import Settings
from dreamlust.kit.client_address import IPNetwork, client_address

_BEARER = "bearer "


def may_scrape(request: Request, settings: Settings) -> bool:
    return _has_token(request, settings) or _from_allowed_network(request, settings)


def _has_token(request: Request, settings: Settings) -> bool:
    if settings.metrics_token is None:
        return False
    authorization = request.headers.get("authorization", "")
    if not authorization.lower().startswith(_BEARER):
        return False
    given = authorization[len(_BEARER) :].strip().encode()
    return hmac.compare_digest(given, settings.metrics_token.get_secret_value().encode())


def _from_allowed_network(request: Request, settings: Settings) -> bool:
    networks = _networks(tuple(settings.metrics_allowed_networks))
    if not networks:
        return False
    try:
        address = ipaddress.ip_address(client_address(request, settings.trusted_proxies))
    except ValueError:  # no address known
        return False
    return any(address in network for network in networks)


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)
