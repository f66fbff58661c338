"""Deterministic UUIDv7-shaped ids for demo rows.

The 48-bit time field is a fixed base plus a counter, so ids keep the order in which
rows are generated, and the random bits come from a generator seeded by the demo seed:
the same seed gives the same ids on every run, on any day.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime

_BASE_MS = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp() * 1000)
_VERSION = 0x7
_VARIANT = 0b10


class IdFactory:
    def __init__(self, random_seed: int) -> None:
        self._rng = random.Random(f"dreamlust-seed-ids:{random_seed}")
        self._counter = 0

    def __call__(self) -> uuid.UUID:
        self._counter += 1
        unix_ms = _BASE_MS + self._counter
        rand_a = self._rng.getrandbits(12)
        rand_b = self._rng.getrandbits(62)
        value = (unix_ms << 80) | (_VERSION << 76) | (rand_a << 64) | (_VARIANT << 62) | rand_b
        return uuid.UUID(int=value)
