"""Who is watching: a keyed hash that tells repeat viewers apart without saying who they are.

A signed-in viewer is a keyed hash of their user id: the same on every device and day.
An anonymous viewer is an HMAC of client address and user agent under a key that changes
every UTC day (derived from the secret key and the date): within a day the same browser
is the same viewer, across days its hashes cannot be linked, and the address itself is
never stored. An anonymous view just before midnight UTC and another just after count twice.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import date

from dreamlust.kit.keys import derive_key
from dreamlust.models import User
from dreamlust.users.preferences import Preferences

MAX_USER_AGENT_LENGTH = 512


@dataclass(frozen=True)
class Watcher:
    """The viewer as a view records them."""

    viewer_hash: str
    # None for anonymous viewers and for users who paused their watch history.
    user_id: uuid.UUID | None
    user_agent: str | None


def identify(
    secret: bytes, user: User | None, address: str, user_agent: str | None, today: date
) -> Watcher:
    """The watcher behind a request; `today` is the UTC date, which picks the anonymous key."""
    agent = user_agent[:MAX_USER_AGENT_LENGTH] if user_agent else None
    if user is None:
        return Watcher(_visitor_hash(secret, address, agent or "", today), None, agent)
    keeps_history = not Preferences.of(user.preferences).hide_history
    return Watcher(_user_hash(secret, user.id), user.id if keeps_history else None, agent)


def _user_hash(secret: bytes, user_id: uuid.UUID) -> str:
    return hmac.new(_key(secret, "views:user"), user_id.bytes, hashlib.sha256).hexdigest()


def _visitor_hash(secret: bytes, address: str, user_agent: str, today: date) -> str:
    key = _key(secret, f"views:visitor:{today.isoformat()}")
    return hmac.new(key, f"{address}\n{user_agent}".encode(), hashlib.sha256).hexdigest()


@functools.lru_cache(maxsize=8)
def _key(secret: bytes, purpose: str) -> bytes:
    """The key of `purpose`, derived once for every view that uses it (that day's, for
    anonymous viewers), not once per view."""
    return derive_key(secret, purpose)
